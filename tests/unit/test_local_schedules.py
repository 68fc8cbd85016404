"""The local stack runs a schedule when it is due, counting from its last run, across restarts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from local.pump import ScheduleLog, due_in, run_schedule

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_a_schedule_never_run_or_overdue_is_due_at_once() -> None:
    assert due_in(None, 3600, NOW) == 0
    assert due_in(NOW - timedelta(hours=5), 3600, NOW) == 0


def test_a_schedule_run_recently_is_due_one_period_after_that_run() -> None:
    assert due_in(NOW - timedelta(minutes=40), 3600, NOW) == 20 * 60


def test_last_runs_survive_a_restart_in_the_state_directory(tmp_path: Path) -> None:
    ScheduleLog(tmp_path).record("housekeeping", NOW)

    assert ScheduleLog(tmp_path).last_run("housekeeping") == NOW  # the next `make run`
    assert ScheduleLog(tmp_path).last_run("monitor_integrity") is None


def test_a_stack_restarted_more_often_than_the_period_still_runs_the_schedule(tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []
    log = ScheduleLog(tmp_path)
    log.record("housekeeping", datetime.now(UTC) - timedelta(hours=2))  # the last run, two restarts ago
    stop = threading.Event()

    def handler(event: dict[str, Any], context: Any) -> None:
        calls.append(event)
        stop.set()  # the stack stops again right after

    runner = threading.Thread(
        target=run_schedule, args=("housekeeping", handler, 3600, "us-east-1", stop, log)
    )
    runner.start()
    runner.join(5)

    assert [call["detail-type"] for call in calls] == ["Scheduled Event"]
    last = log.last_run("housekeeping")
    assert last is not None and datetime.now(UTC) - last < timedelta(seconds=5)
