"""Ingest's description of a landed file: its real type, and for images their facts."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from chalicelib.files import storage
from chalicelib.files.models import FILE_SK, FileItem, file_pk
from chalicelib.ingest.media import IMAGE_TYPES, ImageFacts, NotAnImage, image_facts, sniff
from chalicelib.observability import logger, metrics
from chalicelib.settings import get_settings

HEAD_BYTES = 1024 * 1024  # enough for the header of every format read here, TIFF's first IFD included
# A TIFF whose directory lies beyond the head is read whole up to this size, else refused.
WHOLE_READ_LIMIT = 256 * 1024 * 1024


def describe_file(file_id: str) -> FileItem | None:
    """Sniff the file and record what it is; None if Vellum has no record of it (yet)."""
    try:
        stored = FileItem.get(file_pk(file_id), FILE_SK, consistent_read=True)
    except DoesNotExist:
        return None
    head = storage.read_head(stored.s3_key, min(HEAD_BYTES, max(int(stored.size), 1)))
    sniffed = sniff(head) or "application/octet-stream"
    actions: list[Action] = [FileItem.sniffed_type.set(sniffed), FileItem.ingest.set("done")]
    if sniffed in IMAGE_TYPES:
        try:
            actions.append(FileItem.image.set(_facts(stored, head).to_json()))
        except NotAnImage as refusal:
            # Recorded, not retried: the same bytes would fail the same way.
            logger.warning("image refused at ingest", extra={"file_id": file_id, "reason": str(refusal)})
            metrics.add_metric(name="ImagesRefused", unit="Count", value=1)
            actions = [
                FileItem.sniffed_type.set(sniffed),
                FileItem.ingest.set("failed"),
                FileItem.ingest_failure.set(str(refusal)),
            ]
    stored.update(actions=actions)
    return stored


def _facts(stored: FileItem, head: bytes) -> ImageFacts:
    max_pixels = get_settings().max_image_pixels
    try:
        return image_facts(head, max_pixels)
    except NotAnImage:
        if int(stored.size) <= len(head) or int(stored.size) > WHOLE_READ_LIMIT:
            raise
    return image_facts(storage.read_all(stored.s3_key), max_pixels)


def record_ingest_failure(file_id: str, reason: str) -> None:
    """Show on the file why ingest gave up on it."""
    logger.error("ingest gave up", extra={"file_id": file_id, "reason": reason})
    metrics.add_metric(name="IngestFailures", unit="Count", value=1)
    FileItem(pk=file_pk(file_id), sk=FILE_SK).update(
        actions=[FileItem.ingest.set("failed"), FileItem.ingest_failure.set(reason[:500])],
        condition=FileItem.pk.exists(),
    )
