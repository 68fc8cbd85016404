"""Uncached IIIF region requests on a 100 MP RGBA PNG, before and after transparent images got a
pyramid of their own (issue 11, item 5), in one run.

    .venv/bin/python -m bench.bench_alpha_regions [--requests 6] [--before a3146a4]

Each side runs in a fresh process pinned to one core, through the real app (Chalice's test client)
and the real ingest handler on moto in-process: upload the PNG, ingest it, then ask for
``--requests`` 300x300 full-resolution regions at seeded random places, none cached. "Before" is a
git worktree of ``--before`` (by default the last commit without the fix), "after" this tree. Peak
memory is what ingest and each request added to the process's resident set at its peak (VmHWM,
reset through /proc/self/clear_refs just before, less VmRSS then): what they needed on top of the
app and moto's copy of the bytes.
"""

# ruff: noqa: S311, S603, S607 (seeded pixels and places, not secrets; git and this file run as given)
from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIDE = 10_000  # 100 MP
REGION = 300
SECRET = "bench-secret-bench-secret-bench-secret-0123"  # noqa: S105 (the local stage's, for this run only)


def transparent_png() -> bytes:
    """A 10000x10000 RGBA PNG, mostly transparent with seeded opaque and translucent shapes."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (SIDE, SIDE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    rng = random.Random(11)
    for _ in range(400):
        x, y = rng.randrange(SIDE), rng.randrange(SIDE)
        size = rng.randrange(50, 800)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256), rng.choice((255, 128)))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x, y, x + size, y + size), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _reset_peak() -> float:
    """Start the peak over from now; the resident MiB it starts from."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mib("VmRSS")


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _added_peak_mib(since: float) -> float:
    return _status_mib("VmHWM") - since


def _environment() -> None:
    from local.environment import REGION as AWS_REGION
    from local.environment import stage_variables

    os.environ.update(stage_variables())
    os.environ.update(
        {
            "VELLUM_LOCAL_TOKEN_SECRET": SECRET,
            "AWS_REGION": AWS_REGION,
            "AWS_DEFAULT_REGION": AWS_REGION,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )


def side(source: Path, requests_wanted: int) -> dict[str, Any]:
    """One side's measurements, in this process (the tree on sys.path is the side measured)."""
    import importlib

    import requests
    from chalice.test import Client
    from moto import mock_aws

    _environment()
    from chalicelib.auth.tokens import issue_local_token
    from chalicelib.files.keys import encode_key
    from chalicelib.settings import get_settings
    from local import provision
    from local.pump import EventPump

    headers = {"Authorization": f"Bearer {issue_local_token(SECRET, 'bench', [])}"}
    content = source.read_bytes()
    with mock_aws():
        settings = get_settings()
        provision.create_tables(settings)
        queue_arn = provision.create_queues(settings)
        provision.create_data_bucket(settings)
        provision.connect_notifications(settings, queue_arn)
        app = importlib.import_module("app")
        pump = EventPump(settings.ingest_queue, app.ingest, batch_size=10, region=settings.region)
        with Client(app.app) as api:
            json_headers = {**headers, "Content-Type": "application/json"}
            made = api.http.post("/files", headers=json_headers, body=json.dumps({"public_read": True}))
            bucket = json.loads(made.body)["id"]
            path = f"/files/{bucket}/{encode_key('big.png')}"
            initiated = api.http.post(
                f"{path}?uploads",
                headers=json_headers,
                body=json.dumps({"size": len(content), "content_type": "image/png"}),
            )
            assert initiated.status_code == 201, initiated.body
            [part] = json.loads(initiated.body)["parts"]
            requests.put(part["url"], data=content, headers=part["headers"], timeout=60).raise_for_status()
            upload_id = json.loads(initiated.body)["id"]
            completed = api.http.post(f"{path}?uploadId={upload_id}", headers=headers)
            assert completed.status_code == 200, completed.body
            version_id = json.loads(completed.body)["version_id"]
            resident = _reset_peak()
            start = time.perf_counter()
            while pump.poll_once(wait_seconds=0):
                pass
            ingest_s, ingest_mib = time.perf_counter() - start, _added_peak_mib(resident)
            derivatives = _stored_bytes(settings.data_bucket)
            rng = random.Random(5)
            timings, peaks, statuses = [], [], []
            for _ in range(requests_wanted):
                x, y = rng.randrange(SIDE - REGION), rng.randrange(SIDE - REGION)
                url = f"/iiif/3/{version_id}/{x},{y},{REGION},{REGION}/max/0/default.png"
                resident = _reset_peak()
                start = time.perf_counter()
                answer = api.http.get(url)
                timings.append(time.perf_counter() - start)
                peaks.append(_added_peak_mib(resident))
                statuses.append(answer.status_code)
    return {
        "ingest_s": ingest_s,
        "ingest_mib": ingest_mib,
        "derivative_bytes": derivatives,
        "request_s": timings,
        "request_mib": peaks,
        "statuses": statuses,
    }


def _stored_bytes(bucket: str) -> int:
    from chalicelib import aws

    total = 0
    for page in aws.s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="derivatives/"):
        total += sum(item["Size"] for item in page.get("Contents", []))
    return total


def _run_side(tree: Path, source: Path, requests_wanted: int) -> dict[str, Any]:
    core = str(min(os.sched_getaffinity(0)))
    # This file, with the side's tree first on the path: the "before" tree predates it.
    command = ["taskset", "-c", core, sys.executable, str(Path(__file__).resolve()), "--side"]
    command += [str(source), "--requests", str(requests_wanted)]
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(command, cwd=tree, env=environment, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"the side in {tree} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _row(name: str, found: dict[str, Any]) -> str:
    seconds, peaks = found["request_s"], found["request_mib"]
    statuses = ", ".join(str(s) for s in sorted(set(found["statuses"])))
    stored = found["derivative_bytes"] / 1e6
    return (
        f"| {name} | {found['ingest_s']:.1f} | {found['ingest_mib']:,.0f} | {stored:.1f} "
        f"| {statuses} | {statistics.median(seconds) * 1000:,.0f} | {max(seconds) * 1000:,.0f} "
        f"| {statistics.median(peaks):,.0f} | {max(peaks):,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=6)
    parser.add_argument("--before", default="a3146a4", help="the commit measured as 'before'")
    parser.add_argument("--side", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args.side, args.requests)))
        return
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "source.png"
        source.write_bytes(transparent_png())
        before = Path(folder) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(before), args.before], cwd=ROOT, check=True)
        try:
            results = {
                f"before ({args.before})": _run_side(before, source, args.requests),
                "after (this tree)": _run_side(ROOT, source, args.requests),
            }
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=True)
        print(f"Source: {SIDE}x{SIDE} RGBA PNG, {source.stat().st_size:,} bytes; {args.requests} regions of")
        print(f"{REGION}x{REGION} at full resolution, none cached; one core, moto in-process.\n")
    print(
        "| Code | Ingest s | Ingest added MiB | Derivatives MB | Status | Request p50 ms | max ms "
        "| Request added MiB p50 | max |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|")
    for name, found in results.items():
        print(_row(name, found))


if __name__ == "__main__":
    main()
