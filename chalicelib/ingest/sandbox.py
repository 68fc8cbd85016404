"""Running a parser of untrusted bytes in a child process, with limits the function survives.

A native library that loops, runs out of memory or crashes on a hostile file would take the
ingest function down with it, and the queue would try again, and again. In a child it only ends
the child: a watchdog kills it when it stays silent too long, an address-space limit stops
runaway allocations, and whatever way it ends, the parent sees a refusal it can record once.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Any

# Virtual memory a child may reserve: PDFium's own needs are well under this for any page
# Vellum renders (its longest side is bounded), a decompression bomb's are not.
CHILD_ADDRESS_SPACE = 4 * 1024**3


class ChildFailed(RuntimeError):
    """The child ended without finishing: killed by the watchdog or a limit, or it crashed."""


def limit_self() -> None:
    """Called by the child before it reads the file. (Not a ``preexec_fn``: forking a process with
    threads, as the function has, and running Python before exec can deadlock.)"""
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_ADDRESS_SPACE, CHILD_ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def wait_for_reader() -> bool:
    """In the child: wait until the parent has read the last message; False once it has gone."""
    return bool(sys.stdin.readline())


def _acknowledge(stdin: IO[bytes]) -> None:
    try:
        stdin.write(b"\n")
        stdin.flush()
    except BrokenPipeError:
        pass  # the child has ended; its status says how


def run_module(module: str, args: list[str], silence_seconds: float) -> Iterator[dict[str, Any]]:
    """Run ``python -m module args...`` and yield the JSON objects it prints, one per line.

    Each line read is acknowledged with a line on the child's stdin, which a child that writes
    large files per message waits for (``wait_for_reader``): it then works one message ahead of
    the caller, never filling the disk. The child is killed if it prints nothing for
    ``silence_seconds`` (raising ``ChildFailed``), as it is if the caller stops reading;
    ``ChildFailed`` too if it ends in any way but exiting 0.
    """
    # The function's own import path: a Lambda layer's packages (/opt/python) are on sys.path only.
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    # A file, not a pipe: a child that writes much to stderr never blocks on it.
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the child is gone
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        stderr=errors,
        stdin=subprocess.PIPE,
        env=environment,
    )
    assert child.stdout is not None and child.stdin is not None
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        child.kill()

    watchdog = threading.Timer(silence_seconds, kill)
    watchdog.start()
    try:
        for line in child.stdout:
            watchdog.cancel()
            _acknowledge(child.stdin)
            yield json.loads(line)
            watchdog = threading.Timer(silence_seconds, kill)
            watchdog.start()
        returncode = child.wait()
    finally:
        watchdog.cancel()
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stdin.close()
        errors.seek(0)
        said = errors.read()[-2000:].decode(errors="replace")
        errors.close()
    if timed_out.is_set():
        raise ChildFailed(f"it did not answer within {silence_seconds:g} seconds")
    if returncode != 0:
        raise ChildFailed(f"it ended with status {returncode}: {said}")
