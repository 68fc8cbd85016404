"""Ingest's derivatives of an image: tiles, thumbnails and levels, from one decode of the source."""

from __future__ import annotations

import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from chalicelib.files import storage
from chalicelib.files.stored import record_derivatives, record_ingest_failure, stored_file
from chalicelib.iiif.pyramid import ALPHA_MODES, Derivative, derivatives, thumbnail_plans
from chalicelib.iiif.render import open_upright
from chalicelib.observability import logger, metrics
from chalicelib.settings import get_settings

UPLOAD_THREADS = 16  # S3 takes thousands of small PUTs a second per prefix: the network is the limit
# Derivatives encoded but not yet stored: bounds their memory when encoding outpaces the PUTs.
MAX_WAITING = 4 * UPLOAD_THREADS


class NotDecodable(ValueError):
    """Pillow read the image's header but cannot decode its pixels (a damaged or polyglot file)."""


def _decoded(make: Callable[[], Iterator[Derivative]]) -> Iterator[Derivative]:
    """The derivatives ``make`` yields, with a failure to decode the source told apart from I/O."""
    try:
        yield from make()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise NotDecodable(str(exc)) from exc


def make_derivatives(file_id: str) -> int:
    """Store the image's derivatives once; return how many were written (0 when there was nothing to do)."""
    stored = stored_file(file_id, consistent=True)
    if stored is None or stored.image is None or stored.refused or stored.levels:
        return 0  # unknown, not an image, refused, or done before (S3 and SQS repeat events)
    image = stored.image
    settings = get_settings()
    written = levels = 0
    # The source goes to /tmp, not memory: Pillow decodes it from the file and closes it, so its
    # bytes are never held beside its pixels (the one full-size decode ingest allows itself).
    with tempfile.TemporaryDirectory() as folder, ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        source = Path(folder) / "source"
        storage.download(stored.s3_key, source)
        waiting: deque[Future[None]] = deque()
        limit = settings.max_image_pixels
        # Handed over unnamed: derivatives() holds the only reference, and drops it for level 1.
        made = _decoded(
            lambda: derivatives(
                open_upright(source, limit),
                settings.iiif_tile_size,
                settings.thumbnail_sizes,
                half=(lambda: open_upright(source, limit, reduce=2))
                if stored.sniffed_type == "image/jpeg"
                else None,
                alpha=image.get("mode") in ALPHA_MODES,
            )
        )
        try:
            for derivative in made:
                levels += derivative.key.startswith("level/")
                put = (file_id, derivative.key, derivative.body, derivative.media_type)
                waiting.append(pool.submit(storage.put_derivative, *put))
                while len(waiting) > MAX_WAITING or (waiting and waiting[0].done()):
                    waiting.popleft().result()
                    written += 1
            for future in waiting:
                future.result()
                written += 1
        except NotDecodable as refusal:
            # Recorded, not retried: the same bytes fail the same way on every try.
            logger.warning(
                "image not decodable", extra={"file_id": file_id, "reason": str(refusal.__cause__)}
            )
            metrics.add_metric(name="ImagesRefused", unit="Count", value=1)
            record_ingest_failure(file_id, "the image cannot be decoded: its data is damaged or not an image")
            return 0
    width, height = int(image["width"]), int(image["height"])
    thumbnails = [
        [plan.width, plan.height] for plan in thumbnail_plans(width, height, settings.thumbnail_sizes)
    ]
    # levels + 1: level 0 is the source itself, so a recorded count means "done" even for a small image.
    record_derivatives(file_id, levels + 1, thumbnails)
    logger.info("image derivatives stored", extra={"file_id": file_id, "count": written, "levels": levels})
    metrics.add_metric(name="DerivativesStored", unit="Count", value=written)
    return written
