"""`make run`: the whole service on the embedded AWS.

Starts three processes, as AWS would run three things: the embedded AWS
(moto, provisioned like the IaC), the API (the Chalice app over HTTP) and the
event pump (SQS to the app's queue handlers). Ctrl-C stops all three; the
embedded AWS saves its data first, so the next run starts where this one stopped.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from local.embedded_aws import READY_FILE
from local.environment import ROOT, service_environment, state_dir

START_TIMEOUT_SECONDS = 90


def _wait_for(condition: Callable[[], bool], what: str, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not condition():
        if any(process.poll() is not None for process in processes):
            raise SystemExit(f"a process exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    # The API and the pump first, then the embedded AWS, whose last snapshot then holds everything.
    for process in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("VELLUM_AWS_PORT", "0")))
    parser.add_argument("--state", type=Path, default=state_dir())
    parser.add_argument(
        "--retry-delay", type=int, default=2, help="seconds before the pump retries a failed message"
    )
    args = parser.parse_args()
    aws_port = args.aws_port or args.port + 1
    state: Path = args.state.resolve()
    state.mkdir(parents=True, exist_ok=True)
    env = service_environment(aws_port, args.port, state)
    api_url = f"http://127.0.0.1:{args.port}"

    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    python = sys.executable
    processes: list[subprocess.Popen[bytes]] = []

    def start(*argv: str) -> None:
        # Own process groups: a terminal's Ctrl-C reaches only us, and we stop the children in order.
        processes.append(subprocess.Popen([python, "-m", *argv], cwd=ROOT, env=env, start_new_session=True))

    # One left by an embedded AWS that was killed would pass for the new one's before it starts.
    (state / READY_FILE).unlink(missing_ok=True)
    try:
        start("local.embedded_aws", "--port", str(aws_port), "--state", str(state))
        _wait_for(lambda: (state / READY_FILE).exists() or stopping, "the embedded AWS", processes)
        start("local.api", "--port", str(args.port))
        start("local.pump", "--retry-delay", str(args.retry_delay))
        _wait_for(lambda: _healthy(api_url) or stopping, "the API", processes)
        if not stopping:
            _print_banner(api_url, aws_port, env["VELLUM_LOCAL_TOKEN_SECRET"])
        while not stopping and all(process.poll() is None for process in processes):
            time.sleep(0.5)
    finally:
        _stop(processes)
    failed = [process.args for process in processes if process.returncode not in (0, -signal.SIGTERM)]
    if failed and not stopping:
        raise SystemExit(f"stopped because a process exited: {failed}")


def _print_banner(api_url: str, aws_port: int, secret: str) -> None:
    from chalicelib.auth.tokens import issue_local_token

    token = issue_local_token(secret, "demo", [])
    print(
        f"""
Vellum is running.
  API           {api_url}   (try {api_url}/health)
  embedded AWS  http://127.0.0.1:{aws_port}   (S3, DynamoDB, SQS; presigned URLs point here)
  bearer token for user "demo" (make token USER=... [ADMIN=1] for others):

{token}

Ctrl-C stops everything; data is kept for the next run (make reset wipes it).
""",
        flush=True,
    )


if __name__ == "__main__":
    main()
