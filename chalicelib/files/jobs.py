"""The files domain's scheduled work: abort abandoned uploads, re-check stored files."""

from __future__ import annotations

from chalicelib import clock
from chalicelib.files.integrity import check_stalest
from chalicelib.files.notices import announce_recorded_file
from chalicelib.files.purge import purge_deleted_buckets
from chalicelib.files.stored import overdue_ingests
from chalicelib.files.uploads import expire_abandoned
from chalicelib.observability import flush_metrics, logger
from chalicelib.settings import get_settings

# The hourly housekeeping runs in a function with a 5-minute timeout; keep a margin.
PURGE_BUDGET_SECONDS = 120


def housekeeping() -> int:
    """Abort abandoned uploads, then purge deleted buckets while time allows."""
    try:
        ended = expire_abandoned(clock.now())
        purge_deleted_buckets(PURGE_BUDGET_SECONDS)
        return ended
    finally:
        flush_metrics()


def monitor_integrity() -> int:
    try:
        batch = get_settings().integrity_batch_size
        results = check_stalest(batch)
        # Files whose notice went missing or whose ingest died part-way: announce them again, so
        # ingest does all it does for any file (a repeated notice is claimed only once).
        overdue = overdue_ingests(clock.now(), batch)
        for file_id in overdue:
            announce_recorded_file(file_id)
        failed = [result.file_id for result in results if not result.ok]
        logger.info(
            "integrity monitoring ran",
            extra={"checked": len(results), "failed": failed, "ingests_restarted": len(overdue)},
        )
        return len(results)
    finally:
        flush_metrics()
