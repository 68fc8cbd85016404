"""Ingest of one image, measured in a process of its own on one core.

    python -m bench.iiif.ingest upload SOURCE.jpg     # prints {"file_id", "version_id"}
    python -m bench.iiif.ingest ingest FILE_ID        # prints timings and peak RSS as JSON

Both run with the environment of the local stack (AWS_ENDPOINT_URL points at an embedded AWS that
the benchmark started, with no event pump, so nothing else ingests the file). ``upload`` goes
through the real app (Chalice's test client: the files API, presigned PUTs to the embedded S3, the
completion). ``ingest`` is a fresh process that runs what the ingest handler runs for a recorded
file (``ingest_file``: the integrity check, ``identify_file``, ``make_derivatives``) phase by
phase, and reports ``getrusage(RUSAGE_SELF).ru_maxrss``: the peak resident memory of the process
doing ingest, which is what a Lambda function's memory size must hold. The benchmark pins it to a
core of its own; the embedded S3 answering its PUTs runs on the other.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def upload(path: str) -> dict[str, Any]:
    import importlib
    import os
    from pathlib import Path

    import requests
    from chalice.test import Client

    from chalicelib.auth.tokens import issue_local_token
    from chalicelib.files.keys import encode_key
    from chalicelib.files.objects import find_version

    headers = {
        "Authorization": f"Bearer {issue_local_token(os.environ['VELLUM_LOCAL_TOKEN_SECRET'], 'bench', [])}",
        "Content-Type": "application/json",
    }
    source = Path(path)
    with Client(importlib.import_module("app").app) as api:
        bucket = json.loads(
            api.http.post("/files", headers=headers, body=json.dumps({"public_read": True})).body
        )
        target = f"/files/{bucket['id']}/{encode_key(f'bench/{source.name}')}"
        body = json.dumps({"size": source.stat().st_size})
        plan = json.loads(api.http.post(f"{target}?uploads", headers=headers, body=body).body)
        parts = (
            plan.get("parts")
            or json.loads(
                api.http.get(
                    f"{target}?uploadId={plan['id']}&partNumbers=1-{plan['part_count']}", headers=headers
                ).body
            )["parts"]
        )
        with source.open("rb") as file:
            for part in parts:
                file.seek(((part["part_number"] or 1) - 1) * plan["part_size"])
                requests.put(
                    part["url"], data=file.read(part["size"]), headers=part["headers"], timeout=300
                ).raise_for_status()
        done = api.http.post(f"{target}?uploadId={plan['id']}", headers=headers)
        assert done.status_code == 200, done.body
        version_id = json.loads(done.body)["version_id"]
    version = find_version(version_id)
    assert version is not None
    return {"file_id": version.file_id, "version_id": version_id}


def ingest(file_id: str) -> dict[str, Any]:
    from chalicelib.files import storage
    from chalicelib.files.integrity import check_file
    from chalicelib.files.stored import stored_file
    from chalicelib.ingest.derivatives import make_derivatives
    from chalicelib.ingest.describe import identify_file
    from chalicelib.settings import get_settings

    get_settings()
    stored_file(file_id)  # connections made, as in a warm Lambda
    result: dict[str, Any] = {"baseline_rss_mib": _maxrss_mib(), "phases": {}}
    started = time.perf_counter()
    cpu_started = _cpu()
    for phase, run in (
        ("integrity check (S3 read, SHA-256)", lambda: check_file(file_id)),
        ("describe (header sniff, facts)", lambda: identify_file(file_id)),
        ("make_derivatives (decode, tiles, levels, thumbnails, PUTs)", lambda: make_derivatives(file_id)),
    ):
        begun = time.perf_counter()
        value = run()
        result["phases"][phase] = {
            "seconds": time.perf_counter() - begun,
            "peak_rss_mib_so_far": _maxrss_mib(),
        }
        if phase.startswith("make_derivatives"):
            result["derivatives_written"] = value
    result["seconds"] = time.perf_counter() - started
    result["cpu_seconds"] = _cpu() - cpu_started
    result["peak_rss_mib"] = _maxrss_mib()

    # Where make_derivatives' time goes, after the fact (its peak memory is already recorded):
    # reading the source from S3, and decoding it into the upright image ingest cuts from.
    from chalicelib.iiif.render import open_upright

    stored = stored_file(file_id)
    assert stored is not None
    begun = time.perf_counter()
    data = storage.read_all(stored.s3_key)
    result["read_source_seconds"] = time.perf_counter() - begun
    begun = time.perf_counter()
    image = open_upright(data, 500_000_000)
    image.load()
    result["decode_seconds"] = time.perf_counter() - begun
    result["levels"] = int(stored.levels or 0)
    del image, data
    return result


def main() -> None:
    command, argument = sys.argv[1], sys.argv[2]
    print(json.dumps(upload(argument) if command == "upload" else ingest(argument)), flush=True)


if __name__ == "__main__":
    main()
