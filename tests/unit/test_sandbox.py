"""Parsers of untrusted bytes run in a child process: whatever the child does, the parent gets its
messages or a ChildFailed, in bounded time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from chalicelib.ingest.sandbox import ChildFailed, run_module


def test_a_child_s_messages_arrive_one_by_one() -> None:
    assert list(run_module("tests.children.pages", [], silence_seconds=30)) == [
        {"page": 1},
        {"page": 2},
        {"page": 3},
    ]


def test_a_silent_child_is_killed_after_its_silence() -> None:
    started = time.monotonic()
    with pytest.raises(ChildFailed, match="did not answer within 1 seconds"):
        list(run_module("tests.children.hang", [], silence_seconds=1))
    assert time.monotonic() - started < 30


def test_a_crash_after_a_message_is_a_failure_not_a_result() -> None:
    said = []
    with pytest.raises(ChildFailed, match="ended with status -6"):
        said.extend(run_module("tests.children.crash", [], silence_seconds=30))
    assert said == [{"page": 1}]


def test_a_child_cannot_take_more_memory_than_its_limit() -> None:
    with pytest.raises(ChildFailed, match="ended with status 3"):
        list(run_module("tests.children.allocate", [], silence_seconds=30))


def test_a_reader_that_stops_early_leaves_no_child_behind() -> None:
    reading = run_module("tests.children.pages", [], silence_seconds=30)
    assert next(reading) == {"page": 1}
    assert _children("tests.children.pages") == 1  # waiting for its acknowledgement
    reading.close()
    assert _children("tests.children.pages") == 0


def _children(module: str) -> int:
    """Processes running ``python -m module``."""
    count = 0
    for process in Path("/proc").iterdir():
        try:
            arguments = (process / "cmdline").read_bytes().split(b"\0")
        except OSError:  # not a process, or it has just ended
            continue
        count += module.encode() in arguments
    return count


def test_a_child_that_prints_what_is_not_a_message_has_failed() -> None:
    with pytest.raises(ChildFailed, match="not JSON"):
        list(run_module("tests.children.babble", [], silence_seconds=30))


def test_a_child_reads_its_file_through_its_parent_only() -> None:
    data = b"abcdefgh"
    asked: list[tuple[int, int]] = []

    def read(start: int, length: int) -> bytes:
        asked.append((start, length))
        return data[start : start + length]

    said = list(run_module("tests.children.reader", [], silence_seconds=30, read=read))

    assert said == [{"got": ["cdef", "a"]}]  # requests to read are answered, not passed on
    assert asked == [(2, 4), (0, 1)]


def test_a_child_has_none_of_the_function_s_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "the-function-s-secret")
    monkeypatch.setenv("VELLUM_DATA_BUCKET", "the-data-bucket")

    [said] = list(run_module("tests.children.environment", [], silence_seconds=30))

    assert not [name for name in said["names"] if name.startswith(("AWS_", "VELLUM_"))]
