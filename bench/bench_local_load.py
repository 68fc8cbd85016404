"""The embedded stack under load: concurrent uploaders through `make run`'s three processes.

    .venv/bin/python -m bench.bench_local_load [--uploaders 50] [--seconds 60] [--items 20000]
        [--checkout DIR ...]

Each checkout (default: this one; give an older worktree to compare) is started as `make run`
starts it, on free loopback ports with a fresh state folder; its files table is first filled with
`--items` items, then `--uploaders` threads each upload 1 MiB files (initiate, PUT to the presigned
URL, complete) for `--seconds`. Reported: uploads completed per second, each step's latency, and
the requests that failed, connection resets counted apart. Everything runs on this machine's cores
together, as a developer's laptop or a CI runner runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import requests

from chalicelib.files.keys import encode_key
from local.environment import REGION, ROOT, free_port

MiB = 1024**2


class Stack:
    def __init__(self, checkout: Path, work: Path) -> None:
        self.checkout, self.state = checkout, work / "state"
        self.api_port, self.aws_port = free_port(), free_port()
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.log = (work / "stack.log").open("wb")
        command = [sys.executable, "-m", "local.run", "--port", str(self.api_port)]
        command += ["--aws-port", str(self.aws_port), "--state", str(self.state)]
        self.process = subprocess.Popen(command, cwd=checkout, stdout=self.log, stderr=subprocess.STDOUT)  # noqa: S603
        deadline = time.monotonic() + 120
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the stack of {checkout} did not start: see {work / 'stack.log'}")
            time.sleep(0.3)

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.api}/health", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    def token(self) -> str:
        ran = subprocess.run(
            [sys.executable, "-m", "local.token", "bench"],
            cwd=self.checkout,
            env={"PATH": "/usr/bin:/bin", "VELLUM_LOCAL_STATE": str(self.state)},
            capture_output=True,
            text=True,
            check=True,
        )
        return ran.stdout.strip().splitlines()[-1]

    def fill(self, items: int) -> None:
        """Items of buckets nobody uploads to, as a table with history has."""
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{self.aws_port}",
            region_name=REGION,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 (moto takes any)
        )
        for start in range(0, items, 25):
            batch = [
                {
                    "PutRequest": {
                        "Item": {
                            "pk": {"S": f"B#filler-{number // 100}"},
                            "sk": {"S": f"V#file-{number}.bin\x00{number:012d}"},
                            "size": {"N": str(number)},
                            "mimetype": {"S": "application/octet-stream"},
                        }
                    }
                }
                for number in range(start, min(start + 25, items))
            ]
            dynamodb.batch_write_item(RequestItems={"vellum-local-files": batch})

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each of the stack's processes, and by this load generator."""
        used = {"load generator": time.process_time()}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                command = (stat.parent / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue  # exited meanwhile
            if int(fields[1]) == self.process.pid and len(command) > 2:
                name = command[2].decode().removeprefix("local.")  # python -m local.<name>
                used[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return used

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=120)
        self.log.close()


def _upload(
    session: requests.Session, api: str, bucket: str, key: str, data: bytes, took: dict[str, list[float]]
) -> None:
    url = f"{api}/files/{bucket}/{encode_key(key)}"
    start = time.perf_counter()
    initiated = session.post(f"{url}?uploads", json={"size": len(data)}, timeout=60)
    initiated.raise_for_status()
    signed = time.perf_counter()
    part = initiated.json()["parts"][0]
    requests.put(part["url"], data=data, headers=part["headers"], timeout=60).raise_for_status()
    landed = time.perf_counter()
    session.post(url, params={"uploadId": initiated.json()["id"]}, timeout=60).raise_for_status()
    done = time.perf_counter()
    took["initiate"].append(signed - start)
    took["put"].append(landed - signed)
    took["complete"].append(done - landed)


def _failure(exc: Exception) -> str:
    text = repr(exc)
    if "reset" in text.lower() or "Connection aborted" in text:
        return "connection reset"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}: {exc.response.text[:200]}"
    return type(exc).__name__


def run(checkout: Path, args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="vellum-load-"))
    stack = Stack(checkout, work)
    try:
        stack.fill(args.items)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {stack.token()}"
        buckets = [session.post(f"{stack.api}/files", json={}, timeout=30).json()["id"] for _ in range(5)]
        took: dict[str, list[float]] = {"initiate": [], "put": [], "complete": []}
        failures: Counter[str] = Counter()
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds
        data = os.urandom(args.size)

        def uploader(number: int) -> None:
            own = requests.Session()
            own.headers["Authorization"] = session.headers["Authorization"]
            attempt = 0
            while time.monotonic() < deadline:
                attempt += 1
                try:
                    _upload(
                        own, stack.api, buckets[number % len(buckets)], f"u{number}-{attempt}.bin", data, took
                    )
                except Exception as exc:  # counted, and the uploader goes on as a client would
                    with lock:
                        failures[_failure(exc)] += 1

        threads = [threading.Thread(target=uploader, args=(n,)) for n in range(args.uploaders)]
        cpu_before = stack.cpu_seconds()
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        cpu = {name: seconds - cpu_before.get(name, 0) for name, seconds in stack.cpu_seconds().items()}
    finally:
        stack.stop()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=checkout,
        capture_output=True,
        text=True,
    ).stdout.strip()
    completed = len(took["complete"])
    return {
        "checkout": str(checkout),
        "commit": commit,
        "uploads": completed,
        "uploads_per_second": completed / elapsed,
        "failures": dict(failures),
        "cpu_ms_per_upload": {name: seconds * 1000 / max(completed, 1) for name, seconds in cpu.items()},
        **{f"{step}_ms": _summary(samples) for step, samples in took.items()},
    }


def _summary(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    ordered = sorted(samples)
    at = lambda q: ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000  # noqa: E731
    return {"p50": statistics.median(ordered) * 1000, "p95": at(0.95), "max": ordered[-1] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploaders", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=MiB)
    parser.add_argument("--checkout", type=Path, nargs="+", default=[ROOT])
    args = parser.parse_args()
    for checkout in args.checkout:
        result = run(checkout.resolve(), args)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
