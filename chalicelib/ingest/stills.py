"""Ingest's audio and video: their facts, and the still images made of them as IIIF images.

FFmpeg reads the file in a child process (chalicelib.ingest.timed_media), by ranged reads from S3,
and writes each still (a video's poster and strip, a sound's waveform) to the disk; each is then
made into a pyramid as a page is, under its name (``poster/``, ...), so ``{version}~poster`` is an
IIIF image like any other, and the file's thumbnail.
"""

from __future__ import annotations

import functools
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from chalicelib.files import storage
from chalicelib.files.stored import record_ingest_failure, record_media, stored_file
from chalicelib.iiif.pyramid import derivatives
from chalicelib.ingest import timed_media
from chalicelib.ingest.derivatives import UPLOAD_THREADS, Uploads
from chalicelib.ingest.media import TIMED_TYPES
from chalicelib.ingest.sandbox import ChildFailed, run_module
from chalicelib.observability import logger, metrics
from chalicelib.settings import get_settings

_MODULE = "chalicelib.ingest.timed_media"
_GAVE_UP = "FFmpeg gave up on the file within its limits of time and memory: it is damaged or hostile"
FORMATS = {"poster": "jpg", "strip": "jpg", "waveform": "png"}  # each still's own pixels, as stored


def make_stills(file_id: str) -> None:
    """Describe audio or video and store its stills, once; nothing for other files."""
    stored = stored_file(file_id, consistent=True)
    if stored is None or stored.sniffed_type not in TIMED_TYPES or stored.refused or stored.media:
        return
    settings = get_settings()
    facts: dict[str, object] = {}
    sizes: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as folder, ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        uploads = Uploads(pool, file_id)
        try:
            key = stored.s3_key
            read = functools.partial(storage.read_range, key)
            for said in run_module(_MODULE, [str(stored.size), folder], settings.media_step_seconds, read):
                if "refused" in said:
                    raise timed_media.Refused(str(said["refused"]))
                if "facts" in said:
                    facts = said["facts"]
                elif "still" in said:
                    name = str(said["still"])
                    path = Path(folder) / f"{name}.png"
                    image = Image.open(path)
                    sizes[name] = [image.width, image.height]
                    made = derivatives(
                        image, settings.iiif_tile_size, settings.thumbnail_sizes, source_format=FORMATS[name]
                    )
                    uploads.store(made, f"{name}/")
                    path.unlink()
                elif "fetched" in said:  # how much of the file FFmpeg needed
                    extra = {"file_id": file_id, "fetched": said["fetched"], "size": stored.size}
                    logger.info("media read", extra=extra)
            uploads.finish()
        except ChildFailed as failure:
            logger.warning("media child process failed", extra={"file_id": file_id, "reason": str(failure)})
            _refuse(file_id, _GAVE_UP, stored.sniffed_type)
            return
        except timed_media.Refused as refusal:
            _refuse(file_id, str(refusal), stored.sniffed_type)
            return
    record_media(file_id, facts, sizes)
    metrics.add_metric(name="MediaDescribed", unit="Count", value=1)


def _refuse(file_id: str, reason: str, sniffed_type: str | None) -> None:
    """Recorded, not retried: the same bytes fail the same way."""
    logger.warning("media refused at ingest", extra={"file_id": file_id, "reason": reason})
    metrics.add_metric(name="MediaRefused", unit="Count", value=1)
    record_ingest_failure(file_id, reason, sniffed_type)
