"""Ingest's pages of a multi-page file (a PDF, a multi-page TIFF): each an image of its own.

Pages are made in batches. The ingest of the file makes the first batch itself and announces
the others on the queue, so that a long document is made by several functions at once, each
within its timeout. Every batch counts its pages as stored (a set: a batch made twice counts
once); the batch that completes the set completes the file's ingest. A batch whose notice is
lost leaves the file's ingest overdue, and the integrity job's announcement starts it again,
which announces only the batches still missing.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PIL import Image

from chalicelib.files import storage
from chalicelib.files.notices import announce_pages
from chalicelib.files.stored import (
    StoredFile,
    record_derivatives,
    record_ingest_failure,
    record_pages_done,
    stored_file,
)
from chalicelib.iiif.pyramid import (
    ALPHA_MODES,
    Derivative,
    derivatives,
    level_count,
    page_prefix,
    thumbnail_sizes,
)
from chalicelib.iiif.render import open_upright
from chalicelib.iiif.text_index import TEXT_INDEX, page_index
from chalicelib.ingest import pdf
from chalicelib.ingest.derivatives import (
    UPLOAD_THREADS,
    NotDecodable,
    Uploads,
    decoded,
    refuse_undecodable,
)
from chalicelib.ingest.sources import local_copy
from chalicelib.observability import logger, metrics
from chalicelib.settings import get_settings

PDF = "application/pdf"
WORDS = "words.json"  # a page's words and their boxes, under its prefix


def page_limits() -> pdf.PageLimits:
    settings = get_settings()
    return pdf.PageLimits(settings.pdf_page_pixels, settings.pdf_max_dpi, settings.max_pages)


def batches(total: int, size: int) -> list[tuple[int, int]]:
    """Pages 1 to ``total`` in runs of ``size``: (first, last) each."""
    return [(first, min(first + size - 1, total)) for first in range(1, total + 1, size)]


def make_pages(file_id: str) -> bool:
    """Announce every batch of the file's pages still missing but the first, and make that one
    here; True if nothing is left to wait for (every page stored, or ingest refused the file)."""
    stored = stored_file(file_id, consistent=True)
    if stored is None or not stored.pages or stored.refused:
        return True
    missing = [
        batch
        for batch in batches(len(stored.pages), get_settings().pages_per_batch)
        if not stored.pages_stored.issuperset(range(batch[0], batch[1] + 1))
    ]
    if not missing:
        return _complete(stored)
    first, *others = missing
    if others:
        announce_pages(file_id, others)
    return make_batch(file_id, *first)


def make_batch(file_id: str, first: int, last: int) -> bool:
    """Store pages ``first`` to ``last``; True if nothing is left to wait for: with them every page
    is stored, or a page was refused (which refuses the file)."""
    stored = stored_file(file_id, consistent=True)
    if stored is None or not stored.pages or stored.refused or last > len(stored.pages):
        return True
    if stored.levels:
        return False  # a repeated notice: the batch that completed the set completed the file
    if stored.pages_stored.issuperset(range(first, last + 1)):
        # Made before, by an attempt that failed after counting them: complete what it did not.
        return len(stored.pages_stored) == len(stored.pages) and _complete(stored)
    try:
        with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
            uploads = Uploads(pool, file_id)
            if stored.sniffed_type == PDF:
                _pdf_pages(stored, first, last, uploads)
            else:
                _image_pages(stored, first, last, uploads)
            written = uploads.finish()
    except pdf.Refused as refusal:
        logger.warning("PDF refused at ingest", extra={"file_id": file_id, "reason": str(refusal)})
        metrics.add_metric(name="DocumentsRefused", unit="Count", value=1)
        record_ingest_failure(file_id, str(refusal))
        return True
    except NotDecodable as refusal:
        refuse_undecodable(file_id, refusal, f"a page between {first} and {last} cannot be decoded")
        return True
    logger.info("pages stored", extra={"file_id": file_id, "first": first, "last": last, "count": written})
    metrics.add_metric(name="PagesStored", unit="Count", value=last - first + 1)
    done = record_pages_done(file_id, list(range(first, last + 1)))
    return done is None or (done == len(stored.pages) and _complete(stored))


def _complete(stored: StoredFile) -> bool:
    """Every page is stored: index a PDF's words for search, and record the file's levels and
    thumbnails (its first page's), which says it is complete. Done twice, it does the same."""
    assert stored.pages is not None
    if stored.sniffed_type == PDF:
        _index_text(stored.id, len(stored.pages))
    width, height = stored.pages[0]
    settings = get_settings()
    levels = level_count(width, height, settings.iiif_tile_size)
    record_derivatives(stored.id, levels, thumbnail_sizes(width, height, settings.thumbnail_sizes))
    return True


def _index_text(file_id: str, pages: int) -> None:
    """One index of every page's words (chalicelib.iiif.text_index), which a search reads whole."""

    def page(number: int) -> dict[str, Any]:
        stored = storage.get_derivative(file_id, f"{page_prefix(number)}{WORDS}")
        return page_index(json.loads(stored)["words"] if stored else [])

    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        index = {"pages": list(pool.map(page, range(1, pages + 1)))}
    body = json.dumps(index, ensure_ascii=False, separators=(",", ":")).encode()
    storage.put_derivative(file_id, TEXT_INDEX, body, "application/json")


def _pdf_pages(stored: StoredFile, first: int, last: int, uploads: Uploads) -> None:
    settings = get_settings()
    source = local_copy(stored.id, stored.s3_key)
    with tempfile.TemporaryDirectory() as folder:
        rendered = pdf.render_isolated(
            source, first, last, page_limits(), Path(folder), settings.page_render_seconds
        )
        for number in rendered:
            pixels, words = Path(folder) / f"{number}.ppm", Path(folder) / f"{number}.json"
            # JPEG: a PDF page is text on white, or a scan that was JPEG already.
            uploads.store(_page(Image.open(pixels), "jpg"), page_prefix(number))
            text = json.dumps({"page": number, **json.loads(words.read_text())}, ensure_ascii=False)
            uploads.store_one(f"{page_prefix(number)}{WORDS}", text.encode(), "application/json")
            pixels.unlink()
            words.unlink()


def _image_pages(stored: StoredFile, first: int, last: int, uploads: Uploads) -> None:
    source = local_copy(stored.id, stored.s3_key)
    limit = get_settings().max_image_pixels
    for number in range(first, last + 1):

        def made(frame: int = number - 1) -> Iterator[Derivative]:
            # PNG: a TIFF is most often a lossless master.
            return _page(open_upright(source, limit, frame=frame), "png")

        uploads.store(decoded(made), page_prefix(number))


def _page(image: Image.Image, source_format: str) -> Iterator[Derivative]:
    """A page's derivatives, its own pixels among them. ``image`` is handed over: see derivatives()."""
    settings = get_settings()
    alpha = image.mode in ALPHA_MODES
    return derivatives(
        image, settings.iiif_tile_size, settings.thumbnail_sizes, alpha=alpha, source_format=source_format
    )
