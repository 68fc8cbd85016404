"""How fast presigned part URLs are signed: boto3's generate_presigned_url against S3Presigner.

    .venv/bin/python -m bench.bench_signing [--parts 10000] [--runs 3]

One core (the process is pinned to the first CPU it may use), no network, fake credentials.
Each run signs every part of one upload; the best run of each signer counts, so that a noisy
neighbour slows a run down without changing the result. S3Presigner is built inside each timed
run, since a service builds one per upload.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from unittest import mock

import boto3
from botocore.config import Config

from chalicelib.files.signing import S3Presigner, SigningCredentials

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REGION = "eu-west-1"
ENDPOINT_URL = "https://s3.eu-west-1.amazonaws.com"
CREDENTIALS = SigningCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None)
BUCKET = "vellum-data"
KEY = "data/0f/3c/0f3c9e2a-5d4b-4d7e-9a51-8c2f6b1e7d90"
UPLOAD_ID = "2~iCw_lDY8VoDs.zDSlA9wbXwIfE4Rj7xG3Tk-P0N0nRz"
PART_SIZE = 16 * 1024**2
EXPIRES_IN = 900


def boto3_client() -> S3Client:
    return boto3.session.Session().client(
        "s3",
        region_name=REGION,
        endpoint_url=ENDPOINT_URL,
        aws_access_key_id=CREDENTIALS.access_key,
        aws_secret_access_key=CREDENTIALS.secret_key,
        # "virtual": with an explicit endpoint botocore's "auto" is path style; ours is virtual-host.
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )


def presigner(signed_at: datetime | None = None) -> S3Presigner:
    return S3Presigner(
        region=REGION,
        endpoint_url=ENDPOINT_URL,
        addressing_style="auto",
        credentials=CREDENTIALS,
        signed_at=signed_at,
    )


def sign_with_boto3(client: S3Client, parts: int) -> None:
    for number in range(1, parts + 1):
        client.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": BUCKET,
                "Key": KEY,
                "PartNumber": number,
                "UploadId": UPLOAD_ID,
                "ContentLength": PART_SIZE,
            },
            ExpiresIn=EXPIRES_IN,
        )


def sign_with_presigner(parts: int) -> None:
    signer = presigner()
    for number in range(1, parts + 1):
        signer.presign_upload_part(
            BUCKET, KEY, UPLOAD_ID, number, content_length=PART_SIZE, expires_in=EXPIRES_IN
        )


def check_same_urls(client: S3Client) -> None:
    """Timing two signers is only fair if they sign the same thing: compare one URL at a fixed time."""
    signed_at = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at.replace(tzinfo=None)):
        theirs = client.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": BUCKET,
                "Key": KEY,
                "PartNumber": 10_000,
                "UploadId": UPLOAD_ID,
                "ContentLength": PART_SIZE,
            },
            ExpiresIn=EXPIRES_IN,
        )
    ours = presigner(signed_at).presign_upload_part(
        BUCKET, KEY, UPLOAD_ID, 10_000, content_length=PART_SIZE, expires_in=EXPIRES_IN
    )
    if ours != theirs:
        raise SystemExit(f"the signers disagree:\n  boto3: {theirs}\n  ours:  {ours}")


def best_seconds(sign: Callable[[], None], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        sign()
        timings.append(time.perf_counter() - started)
    return min(timings)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", type=int, default=10_000, help="parts in the upload (default 10,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per signer; the best counts (default 3)")
    args = parser.parse_args()

    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    client = boto3_client()
    check_same_urls(client)  # also loads botocore's models, outside the timed runs

    results = [
        (
            'boto3 `generate_presigned_url("upload_part")`',
            best_seconds(lambda: sign_with_boto3(client, args.parts), args.runs),
        ),
        (
            "`S3Presigner.presign_upload_part`",
            best_seconds(lambda: sign_with_presigner(args.parts), args.runs),
        ),
    ]

    print(f"{args.parts:,} part URLs, best of {args.runs} runs, pinned to CPU {cpu} ({cpu_model()}),")
    print(f"Python {platform.python_version()}, os.cpu_count() = {os.cpu_count()}")
    print()
    print("| Signer | URLs/s | µs per URL | Speed-up |")
    print("|---|---:|---:|---:|")
    baseline = results[0][1]
    for name, seconds in results:
        rate = args.parts / seconds
        print(f"| {name} | {rate:,.0f} | {seconds / args.parts * 1e6:.1f} | {baseline / seconds:.1f}x |")


if __name__ == "__main__":
    main()
