"""Ingest's derivatives of an image: tiles, thumbnails and levels, from one decode of the source."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from PIL import Image

from chalicelib.files import storage
from chalicelib.files.stored import record_derivatives, record_ingest_failure, stored_file
from chalicelib.iiif.pyramid import ALPHA_MODES, Derivative, derivatives, level_key, thumbnail_sizes
from chalicelib.iiif.render import open_upright
from chalicelib.ingest.sources import local_copy
from chalicelib.observability import logger, metrics
from chalicelib.settings import get_settings

# Formats whose decoders make a half-size image without the full one: level 1 then comes from
# the file, after the full size is dropped (JPEG: libjpeg's DCT scaling; JPEG 2000: OpenJPEG's
# resolution levels).
HALVED_IN_DECODING = frozenset({"image/jpeg", "image/jp2"})
UPLOAD_THREADS = 16  # S3 takes thousands of small PUTs a second per prefix: the network is the limit
# Derivatives encoded but not yet stored: bounds their memory when encoding outpaces the PUTs.
MAX_WAITING = 4 * UPLOAD_THREADS


class NotDecodable(ValueError):
    """Pillow read the image's header but cannot decode its pixels (a damaged or polyglot file)."""


def decoded(make: Callable[[], Iterator[Derivative]]) -> Iterator[Derivative]:
    """The derivatives ``make`` yields, with a failure to decode the source told apart from I/O."""
    try:
        yield from make()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise NotDecodable(str(exc)) from exc


class Uploads:
    """Derivatives stored by a pool of threads while the next ones are encoded, at most
    ``MAX_WAITING`` of them held in memory waiting for their PUT."""

    def __init__(self, pool: ThreadPoolExecutor, file_id: str) -> None:
        self.pool, self.file_id = pool, file_id
        self.waiting: deque[Future[None]] = deque()
        self.written = self.levels = 0

    def store(self, made: Iterable[Derivative], prefix: str = "") -> None:
        """Store ``made`` under ``prefix`` of the file's derivatives (a page's, or the image's)."""
        for derivative in made:
            self.levels += derivative.key.startswith("level/") and derivative.key != level_key(0)
            self.store_one(f"{prefix}{derivative.key}", derivative.body, derivative.media_type)

    def store_one(self, key: str, body: bytes, media_type: str) -> None:
        self.waiting.append(self.pool.submit(storage.put_derivative, self.file_id, key, body, media_type))
        while len(self.waiting) > MAX_WAITING or (self.waiting and self.waiting[0].done()):
            self.waiting.popleft().result()
            self.written += 1

    def finish(self) -> int:
        """Wait for every PUT; how many derivatives were written in all."""
        while self.waiting:
            self.waiting.popleft().result()
            self.written += 1
        return self.written


def make_derivatives(file_id: str) -> int:
    """Store the image's derivatives once; return how many were written (0 when there was nothing to do)."""
    stored = stored_file(file_id, consistent=True)
    if stored is None or stored.image is None or stored.refused or stored.levels or stored.pages:
        return 0  # unknown, not an image, refused, done before (S3 and SQS repeat events), or pages
    image = stored.image
    settings = get_settings()
    # The source goes to /tmp, not memory: Pillow decodes it from the file and closes it, so its
    # bytes are never held beside its pixels (the one full-size decode ingest allows itself).
    source = local_copy(file_id, stored.s3_key)
    limit = settings.max_image_pixels
    # Handed over unnamed: derivatives() holds the only reference, and drops it for level 1.
    made = decoded(
        lambda: derivatives(
            open_upright(source, limit),
            settings.iiif_tile_size,
            settings.thumbnail_sizes,
            half=(lambda: open_upright(source, limit, reduce=2))
            if stored.sniffed_type in HALVED_IN_DECODING
            else None,
            alpha=image.get("mode") in ALPHA_MODES,
        )
    )
    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        uploads = Uploads(pool, file_id)
        try:
            uploads.store(made)
            written = uploads.finish()
        except NotDecodable as refusal:
            refuse_undecodable(
                file_id, refusal, "the image cannot be decoded: its data is damaged or not an image"
            )
            return 0
    width, height = int(image["width"]), int(image["height"])
    # levels + 1: level 0 is the source itself, so a recorded count means "done" even for a small image.
    record_derivatives(file_id, uploads.levels + 1, thumbnail_sizes(width, height, settings.thumbnail_sizes))
    logger.info(
        "image derivatives stored", extra={"file_id": file_id, "count": written, "levels": uploads.levels}
    )
    metrics.add_metric(name="DerivativesStored", unit="Count", value=written)
    return written


def refuse_undecodable(file_id: str, refusal: NotDecodable, reason: str) -> None:
    """Recorded, not retried: the same bytes fail the same way on every try."""
    logger.warning("image not decodable", extra={"file_id": file_id, "reason": str(refusal.__cause__)})
    metrics.add_metric(name="ImagesRefused", unit="Count", value=1)
    record_ingest_failure(file_id, reason)
