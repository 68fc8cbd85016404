"""In-process latency of the upload protocol's three steps: initiate, sign 500 parts, complete.

    .venv/bin/python -m bench.bench_upload_latency [--rounds 30]

Through the real app (Chalice's test client: routing, middleware, authentication) on moto
in-process, so the numbers are Vellum's own work plus moto's emulation of S3 and DynamoDB, with
no network: a lower bound on what a warm Lambda adds to the AWS calls' own latency. One core.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from chalice.test import Client
from moto import mock_aws

from chalicelib.files.keys import encode_key
from chalicelib.files.planning import MiB
from local import provision
from local.environment import REGION, stage_variables

SECRET = "bench-secret-bench-secret-bench-secret-0123"  # noqa: S105 (the local stage's, for this run only)


def _environment() -> None:
    os.environ.update(stage_variables())
    os.environ.update(
        {
            "VELLUM_LOCAL_TOKEN_SECRET": SECRET,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )


@contextmanager
def _timed(samples: list[float]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    samples.append((time.perf_counter() - start) * 1000)


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):.1f} | {p95:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    _environment()
    from chalicelib.auth.tokens import issue_local_token
    from chalicelib.settings import get_settings

    headers = {
        "Authorization": f"Bearer {issue_local_token(SECRET, 'bench', [])}",
        "Content-Type": "application/json",
    }
    timings: dict[str, list[float]] = {
        "initiate (multipart, 500 parts)": [],
        "sign 500 parts": [],
        "complete (2 parts)": [],
    }
    with mock_aws():
        settings = get_settings()
        provision.create_tables(settings)
        provision.create_data_bucket(settings)
        with Client(importlib.import_module("app").app) as api:
            bucket = json.loads(api.http.post("/files", headers=headers).body)["id"]
            for number in range(args.rounds):
                path = f"/files/{bucket}/{encode_key(f'bench/file-{number}.bin')}"
                body = json.dumps({"size": 500 * 5 * MiB, "part_size": 5 * MiB})
                with _timed(timings["initiate (multipart, 500 parts)"]):
                    response = api.http.post(f"{path}?uploads", body=body, headers=headers)
                upload = json.loads(response.body)
                with _timed(timings["sign 500 parts"]):
                    response = api.http.get(
                        f"{path}?uploadId={upload['id']}&partNumbers=1-500", headers=headers
                    )
                assert len(json.loads(response.body)["parts"]) == 500
                api.http.delete(f"{path}?uploadId={upload['id']}", headers=headers)

                small = json.dumps({"size": 5 * MiB + 1, "part_size": 5 * MiB})
                upload = json.loads(api.http.post(f"{path}?uploads", body=small, headers=headers).body)
                parts = json.loads(
                    api.http.get(f"{path}?uploadId={upload['id']}&partNumbers=1-2", headers=headers).body
                )
                for part in parts["parts"]:
                    # moto intercepts requests to S3 URLs in-process, as the client's PUTs would reach S3.
                    requests.put(part["url"], data=b"x" * part["size"], headers=part["headers"], timeout=30)
                with _timed(timings["complete (2 parts)"]):
                    response = api.http.post(f"{path}?uploadId={upload['id']}", headers=headers)
                assert response.status_code == 200, response.body
    print(f"{args.rounds} rounds, one core, moto in-process\n")
    print("| Step | p50 ms | p95 ms |\n|---|---:|---:|")
    for step, samples in timings.items():
        print(f"| {step} | {_percentiles(samples)} |")


if __name__ == "__main__":
    main()
