"""Running a parser of untrusted bytes in a child process, with limits the function survives.

A native library that loops, runs out of memory or crashes on a hostile file would take the
ingest function down with it, and the queue would try again, and again. In a child it only ends
the child: a watchdog kills it when it stays silent too long, an address-space limit stops
runaway allocations, and whatever way it ends, the parent sees a refusal it can record once.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
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


# The parent answers each line the child prints with one frame on the child's stdin: the bytes
# asked for, for a request to read ({"read": [start, length]}); empty, as an acknowledgement, for
# any other message. A frame is its length (8 bytes, big-endian) and then its bytes.
_LENGTH = 8


def wait_for_reader() -> bool:
    """In the child: wait until the parent has read the last message; False once it has gone."""
    return _frame() is not None


def read_from_parent(start: int, length: int) -> bytes:
    """In the child: ``length`` bytes of the file from ``start``, which only the parent may read
    (the child has no credentials: a parser taken over by a hostile file reaches nothing)."""
    sys.stdout.write(json.dumps({"read": [start, length]}) + "\n")
    sys.stdout.flush()
    data = _frame()
    if data is None:
        raise EOFError("the parent has gone")
    return data


def _frame() -> bytes | None:
    header = sys.stdin.buffer.read(_LENGTH)
    if len(header) < _LENGTH:
        return None
    return sys.stdin.buffer.read(int.from_bytes(header, "big"))


def _answer(stdin: IO[bytes], data: bytes) -> None:
    try:
        stdin.write(len(data).to_bytes(_LENGTH, "big") + data)
        stdin.flush()
    except BrokenPipeError:
        pass  # the child has ended; its status says how


MAX_READ = 16 * 1024**2


def _is_range(asked: Any) -> bool:
    return (
        isinstance(asked, list)
        and len(asked) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in asked)
        and 0 < asked[1] <= MAX_READ
    )


def run_module(
    module: str,
    args: list[str],
    silence_seconds: float,
    read: Callable[[int, int], bytes] | None = None,
) -> Iterator[dict[str, Any]]:
    """Run ``python -m module args...`` and yield the JSON objects it prints, one per line.

    Each message is acknowledged, which a child that writes large files per message waits for
    (``wait_for_reader``): it then works one message ahead of the caller, never filling the disk.
    Requests to read the file (``read_from_parent``) are answered with ``read(start, length)``.
    The child is killed if it prints nothing for ``silence_seconds`` (raising ``ChildFailed``), as
    it is if the caller stops reading; ``ChildFailed`` too if it ends in any way but exiting 0.
    """
    # The function's own import path (a Lambda layer's packages, /opt/python, are on sys.path
    # only), and none of its AWS credentials or settings.
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "VELLUM_"))
    }
    environment["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
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
            try:
                message = json.loads(line)
            except ValueError:
                raise ChildFailed(f"it said something that is not JSON: {line[:200]!r}") from None
            asked = message.get("read") if isinstance(message, dict) else None
            if asked is not None and read is not None and _is_range(asked):
                _answer(child.stdin, read(asked[0], asked[1]))
            else:
                _answer(child.stdin, b"")
                yield message
            watchdog = threading.Timer(silence_seconds, kill)
            watchdog.start()
        returncode = child.wait()
    finally:
        watchdog.cancel()
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        with contextlib.suppress(BrokenPipeError):  # flushing to a child that has ended
            child.stdin.close()
        errors.seek(0)
        said = errors.read()[-2000:].decode(errors="replace")
        errors.close()
    if timed_out.is_set():
        raise ChildFailed(f"it did not answer within {silence_seconds:g} seconds")
    if returncode != 0:
        raise ChildFailed(f"it ended with status {returncode}: {said}")
