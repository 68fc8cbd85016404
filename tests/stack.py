"""The embedded stack for end-to-end tests, started as `make run` starts it, on free loopback ports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
import requests

from local.environment import REGION, ROOT, free_port

START_TIMEOUT_SECONDS = 120


@dataclass
class Stack:
    api: str
    aws_endpoint: str
    state: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)  # on top of this process's, for the stack's

    def start(self) -> None:
        api_port, aws_port = (int(url.rsplit(":", 1)[1]) for url in (self.api, self.aws_endpoint))
        command = [sys.executable, "-m", "local.run", "--port", str(api_port), "--aws-port", str(aws_port)]
        command += ["--state", str(self.state), "--retry-delay", "0"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._healthy():
            assert self.process.poll() is None, f"the stack exited early:\n{self.log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"the stack did not start:\n{self.log.read_text()[-3000:]}"
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
            self.process.wait(timeout=60)
        self.process = None

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.api}/health", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    def client(self, service: str):  # type: ignore[no-untyped-def]
        return boto3.client(
            service,
            endpoint_url=self.aws_endpoint,
            region_name=REGION,
            aws_access_key_id="vellum-local",
            aws_secret_access_key="vellum-local",
        )

    def wait_for_log_record(self, **fields: object) -> dict[str, object]:
        """The first JSON log line of the stack's processes that has these fields, polled with a deadline."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for line in self.log.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    record = json.loads(line)
                    if all(record.get(name) == value for name, value in fields.items()):
                        return record  # type: ignore[no-any-return]
            time.sleep(0.2)
        raise AssertionError(f"no log record with {fields} in:\n{self.log.read_text()[-3000:]}")


def make_token(stack: Stack, user: str, admin: bool = False) -> str:
    command = [sys.executable, "-m", "local.token", user] + (["--admin"] if admin else [])
    result = subprocess.run(
        command,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "VELLUM_LOCAL_STATE": str(stack.state)},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def new_stack(directory: Path, env: dict[str, str] | None = None) -> Stack:
    """A stack on free ports, keeping its state and log in ``directory``; not started yet."""
    return Stack(
        api=f"http://127.0.0.1:{free_port()}",
        aws_endpoint=f"http://127.0.0.1:{free_port()}",
        state=directory / "state",
        log=directory / "stack.log",
        env=env or {},
    )


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = new_stack(tmp_path_factory.mktemp("stack"))
    os.environ.pop("VELLUM_LOCAL_STATE", None)
    running.start()
    yield running
    running.stop()
