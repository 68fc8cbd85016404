"""Stored files: the bytes behind versions, and what ingest learnt of them.

The one door to the files table's file items for the other domains: IIIF, previews and
manifests read a ``StoredFile``; ingest claims a file and records what it found through the verbs
here, never through the item itself.

One ingest of a file at a time, and only once: S3 and SQS deliver messages more than once. A
claim is a conditional write on the file's item, so two deliveries of the same notice never both
hash, describe and tile the same bytes (a file id names one upload's bytes for good). A claim
older than the ingest function's timeout belongs to an attempt that is certainly dead, and may be
taken over; a failed attempt gives its claim back at once, so the queue's next try can run.

A file is ``done`` only once ingest has stored everything it makes of it. Until then it waits in
the files table's ingest-due index, under the time its ingest is overdue (its notice lost, or
its attempt dead); the integrity job announces overdue files again (``overdue_ingests``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.dynamodb import condition_failed, update_once
from chalicelib.files.models import FILE_SK, INGEST_DUE_PK, FileItem, IngestState, file_pk
from chalicelib.resources import INGEST_FUNCTION_TIMEOUT_SECONDS

INGEST_LEASE = timedelta(seconds=INGEST_FUNCTION_TIMEOUT_SECONDS)
MAX_REASON_CHARS = 500


@dataclass(frozen=True)
class StoredFile:
    id: str
    s3_key: str
    size: int
    checksum: str | None
    ingest: IngestState
    ingest_failure: str | None
    sniffed_type: str | None
    image: dict[str, Any] | None  # ingest's facts of an image (chalicelib.ingest.media.ImageFacts)
    levels: int  # downscaled levels stored, the source itself included (0: none yet)
    thumbnails: list[list[int]]
    last_check_at: datetime | None
    last_check: bool | None  # None: not checked yet
    overwrite_undone_at: datetime | None = None  # when bytes landing on the recorded ones were undone
    pages: list[list[int]] | None = None  # a multi-page file's pages, [width, height] each
    pages_stored: frozenset[int] = frozenset()  # the pages (from 1) whose derivatives are stored
    media: dict[str, Any] | None = None  # audio's or video's facts
    stills: dict[str, list[int]] | None = None  # the still images made of them: [width, height] by name

    @property
    def viewable_image(self) -> dict[str, Any] | None:
        """The image's facts once ingest has described it, else None (not an image, or not yet)."""
        return self.image if self.image and self.ingest == IngestState.DONE else None

    @property
    def refused(self) -> bool:
        """Ingest gave up on the file: it makes nothing more of it."""
        return self.ingest == IngestState.FAILED

    @property
    def shown_still(self) -> str | None:
        """Of the stills made of audio or video, the one that stands for it: a video's poster,
        else a sound's waveform."""
        if not self.stills:
            return None
        return "poster" if "poster" in self.stills else next(iter(self.stills))

    @property
    def thumbnail(self) -> list[int] | None:
        """The stored thumbnail a listing shows: the second smallest, when there are two."""
        from chalicelib.iiif.pyramid import shown_thumbnail  # the pyramid's rule; Pillow loads with it

        return shown_thumbnail(self.thumbnails)


def _from_item(item: FileItem) -> StoredFile:
    return StoredFile(
        id=item.id,
        s3_key=item.s3_key,
        size=int(item.size),
        checksum=item.checksum,
        ingest=IngestState(item.ingest),
        ingest_failure=item.ingest_failure,
        sniffed_type=item.sniffed_type,
        image=dict(item.image) if item.image else None,
        levels=int(item.levels),
        thumbnails=[list(size) for size in item.thumbnails or []],
        last_check_at=item.last_check_at,
        last_check=item.last_check,
        overwrite_undone_at=item.overwrite_undone_at,
        pages=[list(size) for size in item.pages] if item.pages else None,
        pages_stored=frozenset(int(page) for page in item.pages_done or ()),
        media=dict(item.media) if item.media else None,
        stills={name: list(size) for name, size in item.stills.items()} if item.stills else None,
    )


def stored_file(file_id: str, *, consistent: bool = False) -> StoredFile | None:
    """The stored file, or None if Vellum has no record of it (yet)."""
    try:
        return _from_item(FileItem.get(file_pk(file_id), FILE_SK, consistent_read=consistent))
    except DoesNotExist:
        return None


def stored_files(file_ids: list[str]) -> dict[str, StoredFile]:
    """The stored files of ``file_ids`` that exist, by id, in one batch read."""
    keys = [(file_pk(file_id), FILE_SK) for file_id in dict.fromkeys(file_ids)]
    return {item.id: _from_item(item) for item in FileItem.batch_get(keys)} if keys else {}


def _item(file_id: str) -> FileItem:
    return FileItem(pk=file_pk(file_id), sk=FILE_SK)


def _due_at(file_id: str, when: datetime) -> str:
    return f"{when.isoformat()}#{file_id}"


def await_ingest(item: FileItem) -> None:
    """Set on a new file's item: ingest is overdue if it has not finished one lease from now."""
    item.gsi2pk = INGEST_DUE_PK
    item.gsi2sk = _due_at(item.id, item.created + INGEST_LEASE)


_INGEST_SETTLED = (FileItem.gsi2pk.remove(), FileItem.gsi2sk.remove())


def overdue_ingests(now: datetime, limit: int) -> list[str]:
    """Files whose ingest should have finished by ``now`` and has not, most overdue first."""
    due = FileItem.by_ingest_due.query(INGEST_DUE_PK, FileItem.gsi2sk < _due_at("", now), limit=limit)
    return [item.id for item in due]


def claim_ingest(file_id: str) -> datetime | None:
    """Claim the file's ingest; None if it is done, under way elsewhere, or not recorded (yet)."""
    now = clock.now()
    claimed = update_once(
        _item(file_id),
        # Overdue again if this attempt dies: once its claim may be taken over.
        [FileItem.ingest_claimed_at.set(now), FileItem.gsi2sk.set(_due_at(file_id, now + INGEST_LEASE))],
        FileItem.pk.exists()
        & FileItem.ingested_at.does_not_exist()
        & (FileItem.ingest_claimed_at.does_not_exist() | (FileItem.ingest_claimed_at < now - INGEST_LEASE)),
    )
    return now if claimed else None


def finish_ingest(file_id: str) -> None:
    """Everything ingest makes of the file is stored: it is done, unless ingest refused it."""
    ended: list[Action] = [
        FileItem.ingested_at.set(clock.now()),
        FileItem.ingest_claimed_at.remove(),
        *_INGEST_SETTLED,
    ]
    try:
        _item(file_id).update(
            actions=[*ended, FileItem.ingest.set(IngestState.DONE)],
            condition=FileItem.ingest != IngestState.FAILED,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        _item(file_id).update(actions=ended)


def release_ingest(file_id: str, claimed: datetime) -> None:
    """Give the claim back after a failed attempt, unless another attempt has taken it over."""
    try:
        _item(file_id).update(
            actions=[FileItem.ingest_claimed_at.remove()], condition=FileItem.ingest_claimed_at == claimed
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise


def record_identity(
    file_id: str,
    sniffed_type: str,
    image: dict[str, Any] | None,
    pages: list[list[int]] | None = None,
) -> None:
    """What the bytes are (and, for an image, its facts: a multi-page file's are its first page's,
    with every page's size); done comes with the last derivative."""
    actions: list[Action] = [FileItem.sniffed_type.set(sniffed_type)]
    if image is not None:
        actions.append(FileItem.image.set(image))
    if pages is not None:
        actions.append(FileItem.pages.set(pages))
    _item(file_id).update(actions=actions, condition=FileItem.pk.exists())


def record_ingest_failure(file_id: str, reason: str, sniffed_type: str | None = None) -> None:
    """Show on the file why ingest gave up on it."""
    actions: list[Action] = [
        FileItem.ingest.set(IngestState.FAILED),
        FileItem.ingest_failure.set(reason[:MAX_REASON_CHARS]),
        *_INGEST_SETTLED,  # the same bytes would fail the same way: nothing to start again
    ]
    if sniffed_type is not None:
        actions.append(FileItem.sniffed_type.set(sniffed_type))
    _item(file_id).update(actions=actions, condition=FileItem.pk.exists())


def record_derivatives(file_id: str, levels: int, thumbnails: list[list[int]]) -> None:
    """The image's derivatives are stored: its level count (source included) and thumbnail sizes."""
    _item(file_id).update(actions=[FileItem.levels.set(levels), FileItem.thumbnails.set(thumbnails)])


def record_pages_done(file_id: str, pages: list[int]) -> int | None:
    """Count ``pages`` of a multi-page file as stored; how many are, or None if its ingest has
    ended meanwhile (done, or refused). Progress keeps the ingest from being overdue for another
    lease, so a long document is not announced again while its batches are still being made."""
    item = _item(file_id)
    try:
        item.update(
            actions=[
                FileItem.pages_done.add(set(pages)),
                FileItem.gsi2sk.set(_due_at(file_id, clock.now() + INGEST_LEASE)),
            ],
            condition=FileItem.ingested_at.does_not_exist() & (FileItem.ingest != IngestState.FAILED),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return None
        raise
    return len(item.pages_done or ())


def record_media(file_id: str, facts: dict[str, Any], stills: dict[str, list[int]]) -> None:
    """Audio's or video's facts, and the still images made of it, all stored."""
    _item(file_id).update(actions=[FileItem.media.set(facts), FileItem.stills.set(stills)])


def reserve_rendered_bytes(file_id: str, nbytes: int, budget: int, period: timedelta) -> bool:
    """Count ``nbytes`` more of the file's stored on-demand answers, if its budget for the period
    holds them; a period older than ``period`` (its answers have expired) starts a new one. One
    conditional write each way, so concurrent renders never overshoot the budget."""
    if nbytes > budget:
        return False
    now = clock.now()
    item = _item(file_id)
    try:
        item.update(
            actions=[FileItem.rendered_bytes.add(nbytes)],
            condition=(FileItem.rendered_since > now - period) & (FileItem.rendered_bytes <= budget - nbytes),
        )
        return True
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
    try:
        item.update(
            actions=[FileItem.rendered_bytes.set(nbytes), FileItem.rendered_since.set(now)],
            condition=FileItem.pk.exists()
            & (FileItem.rendered_since.does_not_exist() | (FileItem.rendered_since <= now - period)),
        )
        return True
    except UpdateError as exc:
        if condition_failed(exc):
            return False  # this period's budget is spent
        raise
