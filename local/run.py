"""`make run`: the whole service on the embedded AWS.

Starts three processes, as AWS would run three things: the embedded AWS
(moto, provisioned like the IaC), the API (the Chalice app over HTTP) and the
event pump (SQS to the app's queue handlers). Ctrl-C stops all three; the
embedded AWS saves its data first, so the next run starts where this one stopped.

The API or the pump, should one crash, is started again alone. The children die with this
process however it ends (Linux's parent-death signal, SIGTERM: the embedded AWS still saves),
and their pids are kept in the state directory, so processes a crash left behind are named at
the next start instead of holding its ports.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from local.embedded_aws import READY_FILE
from local.environment import ROOT, forget_running, note_running, service_environment, state_dir

START_TIMEOUT_SECONDS = 90
PIDS_FILE = "processes.json"
RESTARTS_PER_MINUTE = 3  # more, and a child is failing at start: stop and say so
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child before exec: SIGTERM it when make run dies, even by kill -9.
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _alive(pid: int) -> bool:
    try:
        return b"local." in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _refuse_if_left_behind(state: Path) -> None:
    """Stop at once if processes of an earlier run of this state directory still run."""
    try:
        recorded = json.loads((state / PIDS_FILE).read_text())
    except (OSError, ValueError):
        return
    left = [pid for pid in recorded.get("pids", []) if isinstance(pid, int) and _alive(pid)]
    if left:
        raise SystemExit(
            f"processes of an earlier `make run` on {state} still run (pids {', '.join(map(str, left))}): "
            "stop them (kill PID) and start again"
        )


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


def _spawn(python: str, argv: tuple[str, ...], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [python, "-m", *argv], cwd=ROOT, env=env, start_new_session=True, preexec_fn=_die_with_parent
    )


def _count_restart(restarts: list[float], name: str, returncode: int | None) -> None:
    now = time.monotonic()
    restarts[:] = [when for when in restarts if now - when < 60]
    if len(restarts) >= RESTARTS_PER_MINUTE:
        raise SystemExit(f"{name} keeps exiting ({returncode}): stopped")
    restarts.append(now)
    print(f"{name} exited ({returncode}); starting it again", file=sys.stderr, flush=True)


def _record_pids(state: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    (state / PIDS_FILE).write_text(json.dumps({"pids": [process.pid for process in processes]}))


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
    commands: list[tuple[str, ...]] = []
    restarts: list[float] = []

    def start(*argv: str) -> None:
        # Own process groups: a terminal's Ctrl-C reaches only us, and we stop the children in order.
        commands.append(argv)
        processes.append(_spawn(python, argv, env))
        _record_pids(state, processes)

    _refuse_if_left_behind(state)
    # One left by an embedded AWS that was killed would pass for the new one's before it starts.
    (state / READY_FILE).unlink(missing_ok=True)
    try:
        start("local.embedded_aws", "--port", str(aws_port), "--state", str(state))
        _wait_for(lambda: (state / READY_FILE).exists() or stopping, "the embedded AWS", processes)
        start("local.api", "--port", str(args.port))
        start("local.pump", "--retry-delay", str(args.retry_delay))
        _wait_for(lambda: _healthy(api_url) or stopping, "the API", processes)
        if not stopping:
            note_running(args.port, state)  # for `make token` and `make job`, wherever the state is
            _print_banner(api_url, aws_port, env["VELLUM_LOCAL_TOKEN_SECRET"])
        while not stopping and processes[0].poll() is None:  # without the embedded AWS, nothing works
            for index in range(1, len(processes)):
                if processes[index].poll() is not None and not stopping:
                    _count_restart(restarts, commands[index][0], processes[index].returncode)
                    processes[index] = _spawn(python, commands[index], env)
                    _record_pids(state, processes)
            time.sleep(0.5)
    finally:
        forget_running(args.port)
        _stop(processes)
        (state / PIDS_FILE).unlink(missing_ok=True)
    failed = [process.args for process in processes if process.returncode not in (0, -signal.SIGTERM)]
    if failed and not stopping:
        raise SystemExit(f"stopped because a process exited: {failed}")


def _print_banner(api_url: str, aws_port: int, secret: str) -> None:
    from chalicelib.auth.tokens import issue_local_token
    from local.token import DEFAULT_USER

    token = issue_local_token(secret, DEFAULT_USER, [])
    print(
        f"""
Vellum is running.
  console       {api_url}/   (open it in a browser; sign in as anyone)
  API           {api_url}   (try {api_url}/health)
  embedded AWS  http://127.0.0.1:{aws_port}   (S3, DynamoDB, SQS; presigned URLs point here)
  bearer token for user "{DEFAULT_USER}" (make token USER=... [ADMIN=1] for others):

{token}

Ctrl-C stops everything; data is kept for the next run (make reset wipes it).
""",
        flush=True,
    )


if __name__ == "__main__":
    main()
