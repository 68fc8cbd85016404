"""The files domain's scheduled work: abort abandoned uploads, re-check stored files."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.files.integrity import check_stalest
from chalicelib.files.uploads import expire_abandoned
from chalicelib.observability import flush_metrics, logger
from chalicelib.settings import get_settings


def expire_uploads() -> int:
    try:
        return expire_abandoned(datetime.now(UTC))
    finally:
        flush_metrics()


def monitor_integrity() -> int:
    try:
        results = check_stalest(get_settings().integrity_batch_size)
        failed = [result.file_id for result in results if not result.ok]
        logger.info("integrity monitoring ran", extra={"checked": len(results), "failed": failed})
        return len(results)
    finally:
        flush_metrics()
