"""Ingest's identification of a landed file: its real type, and for images and PDFs their facts
(and pages)."""

from __future__ import annotations

from chalicelib.files import storage
from chalicelib.files.stored import StoredFile, record_identity, record_ingest_failure, stored_file
from chalicelib.ingest import pdf
from chalicelib.ingest.media import IMAGE_TYPES, ImageFacts, NotAnImage, frame_sizes, image_facts, sniff
from chalicelib.ingest.pages import PDF, page_limits
from chalicelib.ingest.sources import local_copy
from chalicelib.observability import logger, metrics
from chalicelib.settings import get_settings

HEAD_BYTES = 1024 * 1024  # enough for the header of every format read here, TIFF's first IFD included
# A TIFF whose directory lies beyond the head is read whole up to this size, else refused.
WHOLE_READ_LIMIT = 256 * 1024 * 1024


def identify_file(file_id: str) -> None:
    """Sniff the file and record what it is; nothing if Vellum has no record of it (yet)."""
    stored = stored_file(file_id, consistent=True)
    if stored is None:
        return
    head = storage.read_head(stored.s3_key, min(HEAD_BYTES, max(stored.size, 1)))
    sniffed = sniff(head) or "application/octet-stream"
    if sniffed == PDF:
        _identify_pdf(stored)
        return
    if sniffed not in IMAGE_TYPES:
        record_identity(file_id, sniffed, None)
        return
    try:
        facts = _facts(stored, head)
        pages = _tiff_pages(stored, facts) if sniffed == "image/tiff" else None
    except NotAnImage as refusal:
        # Recorded, not retried: the same bytes would fail the same way.
        logger.warning(
            "image refused at ingest",
            extra={"file_id": file_id, "reason": str(refusal), "detail": repr(refusal.__cause__)},
        )
        metrics.add_metric(name="ImagesRefused", unit="Count", value=1)
        record_ingest_failure(file_id, str(refusal), sniffed)
        return
    record_identity(file_id, sniffed, facts.to_json(), pages)


def _tiff_pages(stored: StoredFile, facts: ImageFacts) -> list[list[int]] | None:
    """A TIFF's pages, if it has more than one. Its directories may lie anywhere in the file, so
    beyond the head this reads the whole file (to the disk, where its pages are made from)."""
    if facts.frames == 1 and stored.size <= HEAD_BYTES:
        return None
    settings = get_settings()
    sizes = frame_sizes(local_copy(stored.id, stored.s3_key), settings.max_image_pixels, settings.max_pages)
    return sizes if len(sizes) > 1 else None


def _identify_pdf(stored: StoredFile) -> None:
    """A PDF's pages and their sizes, read by PDFium in a child process (chalicelib.ingest.pdf)."""
    settings = get_settings()
    try:
        pages = pdf.describe_isolated(
            local_copy(stored.id, stored.s3_key), page_limits(), settings.page_render_seconds
        )
        if sum(width * height for width, height in pages) > settings.max_document_pixels:
            raise pdf.Refused(
                f"the PDF's pages have more than the {settings.max_document_pixels} pixels allowed in all"
            )
    except pdf.Refused as refusal:
        logger.warning("PDF refused at ingest", extra={"file_id": stored.id, "reason": str(refusal)})
        metrics.add_metric(name="DocumentsRefused", unit="Count", value=1)
        record_ingest_failure(stored.id, str(refusal), PDF)
        return
    width, height = pages[0]
    # Its image facts are its first page's: listings show that page as the file's thumbnail.
    first = ImageFacts(width, height, "RGB", "PDF", orientation=1, frames=len(pages), icc_profile=False)
    record_identity(stored.id, PDF, first.to_json(), pages)


def _facts(stored: StoredFile, head: bytes) -> ImageFacts:
    max_pixels = get_settings().max_image_pixels
    try:
        return image_facts(head, max_pixels)
    except NotAnImage:
        if stored.size <= len(head) or stored.size > WHOLE_READ_LIMIT:
            raise
    return image_facts(storage.read_all(stored.s3_key), max_pixels)


def give_up(file_id: str, reason: str, error: Exception) -> None:
    """Ingest will not try again: log it with the error, count it, and show on the file why."""
    logger.error("ingest gave up", extra={"file_id": file_id, "reason": reason, "error": repr(error)})
    metrics.add_metric(name="IngestFailures", unit="Count", value=1)
    record_ingest_failure(file_id, reason)
