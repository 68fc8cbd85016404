"""Ingest's derivatives of an image: tiles, thumbnails and levels, from one decode of the source."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pynamodb.exceptions import DoesNotExist

from chalicelib.files import storage
from chalicelib.files.models import FILE_SK, FileItem, file_pk
from chalicelib.iiif.pyramid import derivatives, thumbnail_plan
from chalicelib.iiif.render import open_upright
from chalicelib.observability import logger, metrics
from chalicelib.settings import get_settings

UPLOAD_THREADS = 16  # S3 takes thousands of small PUTs a second per prefix: the network is the limit


def make_derivatives(file_id: str) -> int:
    """Store the image's derivatives once; return how many were written (0 when there was nothing to do)."""
    try:
        stored = FileItem.get(file_pk(file_id), FILE_SK, consistent_read=True)
    except DoesNotExist:
        return 0
    if not stored.image or stored.ingest != "done" or stored.levels:
        return 0  # not an image, refused, or done before (S3 and SQS repeat events)
    settings = get_settings()
    image = open_upright(storage.read_all(stored.s3_key), settings.max_image_pixels)
    width, height = image.size
    written = levels = 0
    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        futures = []
        for derivative in derivatives(image, settings.iiif_tile_size, settings.thumbnail_sizes):
            levels += derivative.key.startswith("level/")
            futures.append(
                pool.submit(storage.put_derivative, file_id, derivative.key, derivative.body, "image/jpeg")
            )
        for future in futures:
            future.result()
            written += 1
    thumbnails = [
        [plan.width, plan.height]
        for plan in (thumbnail_plan(width, height, side) for side in sorted(set(settings.thumbnail_sizes)))
        if plan.width < width
    ]
    # levels + 1: level 0 is the source itself, so a recorded count means "done" even for a small image.
    stored.update(actions=[FileItem.levels.set(levels + 1), FileItem.thumbnails.set(thumbnails)])
    logger.info("image derivatives stored", extra={"file_id": file_id, "count": written, "levels": levels})
    metrics.add_metric(name="DerivativesStored", unit="Count", value=written)
    return written
