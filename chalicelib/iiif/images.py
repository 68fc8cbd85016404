"""IIIF images: finding the stored file behind an identifier, and serving its info and pixels.

An identifier is an object version's id, so what it names never changes and its responses can be
cached forever. Access follows the file's bucket: anyone may see a public bucket's current
versions; older versions, and everything in a private bucket, are for its owners and admins.
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cachetools import LRUCache, TTLCache
from PIL import Image

from chalicelib.auth.policy import Action, require
from chalicelib.auth.principal import Principal
from chalicelib.errors import BadRequest, NotFound, ServiceUnavailable, TooManyRequests, VellumError
from chalicelib.files import storage
from chalicelib.files.access import on_access_narrowed, on_access_widened
from chalicelib.files.buckets import Bucket, load_bucket
from chalicelib.files.models import IngestState
from chalicelib.files.objects import find_version
from chalicelib.files.stored import StoredFile, reserve_rendered_bytes, stored_file
from chalicelib.iiif.geometry import ImagePlan, Limits, canonical_path, plan_image
from chalicelib.iiif.identifiers import DEGRADED_SUFFIX, ImageIdentifier, parse_identifier
from chalicelib.iiif.info import ImageLimits, info_json
from chalicelib.iiif.pyramid import (
    ALPHA_MODES,
    alpha_cell_key,
    cache_key,
    level_count,
    level_key,
    page_prefix,
    thumbnail_plan,
    thumbnail_sizes,
    tile_plan,
)
from chalicelib.iiif.render import MEDIA_TYPES, Pixels, open_upright, render
from chalicelib.iiif.request import ImageRequest
from chalicelib.records.service import public_facts
from chalicelib.resources import DERIVATIVES_PREFIX, RENDERED_PREFIX
from chalicelib.settings import get_settings

NOT_AN_IMAGE = "No image with this identifier."
PENDING_RETRY_SECONDS = 5  # a viewer asks again this soon for an image still being ingested
TILE_READERS = 16  # S3 reads in parallel when a region is pieced together from stored tiles
# Above this, a full-resolution answer is pieced together from stored tiles (JPEG, so not quite
# the source's pixels) rather than decoding the source: 25 MP take 0.15 s and 100 MB to decode.
TILES_ABOVE_PIXELS = 25_000_000
# Lambda answers at most 6 MB, and binary bodies travel base64-encoded (a third larger).
MAX_INLINE_BYTES = 4_500_000


@dataclass(frozen=True)
class ImageSource:
    identifier: str
    file_id: str
    s3_key: str
    width: int
    height: int
    levels: int  # ingest's downscaled levels, the source itself included (0: not made yet)
    thumbnails: list[list[int]]
    public: bool  # anyone may see it: responses may sit in shared caches
    listed: bool = False  # anyone may know it exists (a public record's): refusals say who may see it
    rights: str | None = None  # the licence URI of the record that owns the image, if any
    opaque: bool = True  # no transparency: JPEG tiles hold all of its pixels
    degraded_size: int | None = None  # anyone may see it scaled to fit this (the record's tiered access)
    full: ImageSource | None = None  # set on a degraded tier: the image its pixels are scaled from
    prefix: str = ""  # a page's: where its derivatives are, its own pixels (level 0) among them

    def key(self, name: str) -> str:
        """The name of one of its derivatives, among those of its file."""
        return f"{self.prefix}{name}"

    @property
    def degraded_identifier(self) -> str | None:
        """The identifier of its degraded tier, where anyone may see one instead of it."""
        offered = self.degraded_size and self.listed and not self.public and self.full is None
        return f"{self.identifier}{DEGRADED_SUFFIX}" if offered else None


def degraded_tier(source: ImageSource) -> ImageSource:
    """The image scaled down to fit the record's degraded size: an image of its own, with its own
    identifier (Auth 1.0 section 3.2: each tier its own info.json), that anyone may see."""
    assert source.degraded_size and source.degraded_identifier
    scaled = thumbnail_plan(source.width, source.height, source.degraded_size)
    return ImageSource(
        identifier=source.degraded_identifier,
        file_id=source.file_id,
        s3_key=source.s3_key,
        width=scaled.width,
        height=scaled.height,
        levels=0,
        thumbnails=[],
        public=True,
        listed=True,
        rights=source.rights,
        opaque=source.opaque,
        full=source,
        prefix=source.prefix,
    )


class RestrictedImage(VellumError):
    """An image anyone may know of, that the caller may not see: 401 (sign in) or 403 (signed in
    as someone who may not). The IIIF Authorization Flow's services tell a viewer how to sign in."""

    def __init__(self, source: ImageSource, *, signed_in: bool) -> None:
        self.source = source
        self.status = 403 if signed_in else 401
        message = "You may not see this image." if signed_in else "Sign in to see this image."
        # Never kept by a cache: the same request answers 200 once the viewer has signed in.
        headers = {"Cache-Control": "no-store"} | ({} if signed_in else {"WWW-Authenticate": "Bearer"})
        super().__init__(message, headers=headers)


@dataclass(frozen=True)
class Redirect:
    """An answer too large to return through Lambda: the client fetches it from S3."""

    url: str


def limits() -> ImageLimits:
    settings = get_settings()
    return ImageLimits(
        max_width=settings.iiif_max_width,
        max_height=settings.iiif_max_height,
        max_area=settings.iiif_max_area,
        tile_size=settings.iiif_tile_size,
    )


@dataclass(frozen=True)
class _Found:
    """What decides who may see an image, read together: its bucket, and whether it is current."""

    source: ImageSource | None  # None: the file is not an image, or not ingested yet
    bucket: Bucket
    is_head: bool
    pending: bool = False  # ingest is still at work on a file that may be an image


class _Recent:
    """Per warm function: images recently found, and recent answers.

    A viewer asks for dozens of tiles a second; without these each one costs four DynamoDB reads
    and an S3 read. An image's facts and answers never change once ingest is done; who may see it
    can, so that is re-read after ``iiif_access_cache_seconds``, a delay far shorter than the year
    a shared cache keeps a public tile. Locked: `make run` serves requests on threads.
    """

    def __init__(self) -> None:
        settings = get_settings()
        self.lock = threading.Lock()
        self.images: TTLCache[str, _Found] = TTLCache(maxsize=4096, ttl=settings.iiif_access_cache_seconds)
        self.answers: LRUCache[tuple[str, str], bytes] = LRUCache(
            maxsize=settings.iiif_memory_cache_bytes, getsizeof=len
        )

    def answer(self, file_id: str, key: str) -> bytes | None:
        with self.lock:
            return self.answers.get((file_id, key))

    def remember(self, file_id: str, key: str, body: bytes) -> None:
        with self.lock:
            if len(body) <= self.answers.maxsize:
                self.answers[(file_id, key)] = body

    def forget_bucket(self, bucket_id: str) -> None:
        """What was found of the bucket's images; their answers stay, each served only after
        a fresh access check."""
        with self.lock:
            for identifier in [i for i, found in self.images.items() if found.bucket.id == bucket_id]:
                del self.images[identifier]


@functools.cache
def recent() -> _Recent:
    return _Recent()


# The function that changes access answers by the new rule from its next request on.
on_access_narrowed(lambda narrowing: recent().forget_bucket(narrowing.bucket_id))
on_access_widened(lambda bucket_id: recent().forget_bucket(bucket_id))


def find_image(principal: Principal, identifier: str) -> ImageSource:
    """The image an identifier names, if ``principal`` may see it (404 alike for hidden and missing)."""
    named = parse_identifier(identifier)
    if named is None:
        raise NotFound(NOT_AN_IMAGE)
    cache = recent()
    with cache.lock:
        found = cache.images.get(named.full)
    if found is None:
        found = _look_up(named)
        if found.source and found.source.levels:  # ingest is done with it: only access changes now
            with cache.lock:
                cache.images[named.full] = found
    if named.degraded:
        if found.source is None or found.source.degraded_identifier != identifier:
            raise NotFound(NOT_AN_IMAGE)
        return degraded_tier(found.source)
    try:
        require(principal, Action.OBJECT_READ if found.is_head else Action.OBJECT_READ_VERSION, found.bucket)
    except NotFound:
        if found.source is None or not found.source.listed:
            raise NotFound(NOT_AN_IMAGE) from None
        raise RestrictedImage(found.source, signed_in=not principal.anonymous) from None
    # Said only to those who may read the file: to others it is as missing as any other.
    if found.pending:
        raise ServiceUnavailable(
            "This file is still being ingested: its image service opens once every derivative is "
            "stored, so that what it answers never changes.",
            retry_after=PENDING_RETRY_SECONDS,
        )
    if found.source is None:
        raise NotFound("This file is not an image, or ingest could not make one of it.")
    return found.source


def _look_up(named: ImageIdentifier) -> _Found:
    version = find_version(named.version_id)
    if version is None or version.file_id is None:
        raise NotFound(NOT_AN_IMAGE)
    bucket = load_bucket(version.bucket_id)
    if bucket is None:
        raise NotFound(NOT_AN_IMAGE)
    stored = stored_file(version.file_id)
    if stored is None:
        raise NotFound(NOT_AN_IMAGE)
    if named.page is not None and not (stored.pages and named.page <= len(stored.pages)):
        raise NotFound(NOT_AN_IMAGE)  # no such page (a still image has none)
    if named.still is not None and stored.stills is not None and named.still not in stored.stills:
        raise NotFound(NOT_AN_IMAGE)  # a still this file has none of (a sound's poster)
    shape = _shape(named, stored) if stored.ingest == IngestState.DONE else None
    if shape is None:
        sniffed = stored.sniffed_type
        pending = stored.ingest == IngestState.PENDING and (
            named.still is not None
            or stored.image is not None
            or sniffed is None
            or sniffed.startswith("image/")
        )
        return _Found(None, bucket, version.is_head, pending)
    facts = public_facts(bucket.record_id) if bucket.record_id else None
    source = ImageSource(
        identifier=named.full,
        file_id=stored.id,
        s3_key=stored.s3_key,
        width=shape.width,
        height=shape.height,
        levels=shape.levels,
        thumbnails=shape.thumbnails,
        prefix=shape.prefix,
        public=bucket.public_read and version.is_head,
        listed=bool(facts and facts.listed),
        rights=facts.licence if facts else None,
        opaque=shape.opaque,
        degraded_size=facts.degraded_size if facts else None,
    )
    return _Found(source, bucket, version.is_head)


@dataclass(frozen=True)
class _Shape:
    width: int
    height: int
    levels: int
    thumbnails: list[list[int]]
    prefix: str
    opaque: bool


def _shape(named: ImageIdentifier, stored: StoredFile) -> _Shape | None:
    """The size and pyramid of the image ``named`` of an ingested file; None if it has none."""
    if named.still is not None:  # ingest made each still as it makes a page (chalicelib.ingest.stills)
        size = (stored.stills or {}).get(named.still)
        return None if size is None else _made_like_a_page(size, f"{named.still}/")
    image = stored.viewable_image
    if image is None:
        return None
    if stored.pages:  # each page as a still image (chalicelib.ingest.pages)
        page = named.page or 1
        return _made_like_a_page(stored.pages[page - 1], page_prefix(page))
    width, height = int(image["width"]), int(image["height"])
    opaque = image.get("mode") not in ALPHA_MODES
    return _Shape(width, height, stored.levels, stored.thumbnails, "", opaque)


def _made_like_a_page(size: list[int], prefix: str) -> _Shape:
    width, height = size
    settings = get_settings()
    levels = level_count(width, height, settings.iiif_tile_size)
    thumbnails = thumbnail_sizes(width, height, settings.thumbnail_sizes)
    return _Shape(width, height, levels, thumbnails, prefix, opaque=True)


def image_info(source: ImageSource, version: str, service_id: str) -> dict[str, Any]:
    document = info_json(version, service_id, source.width, source.height, limits(), source.thumbnails)
    if source.rights:
        document["rights" if version == "3" else "license"] = source.rights  # 3.0 5.4 / 2.1 5.3
    return document


def plan_pixels(source: ImageSource, request: ImageRequest) -> tuple[str, Callable[[], bytes | Redirect]]:
    """The request's canonical path, and how to produce its answer.

    Planning is cheap and validates the request (400s); producing is left to the caller, who may
    not need it (a conditional request whose ETag matches). An answer comes from the derivative
    cache when ingest or an earlier request stored it; otherwise it is rendered from the smallest
    stored level with enough pixels, and cached.
    """
    caps = limits()
    plan = plan_image(
        request, source.width, source.height, Limits(caps.max_width, caps.max_height, caps.max_area)
    )

    def produce() -> bytes | Redirect:
        key = _answer_key(source, plan)
        found = _stored(source, key)
        if found is not None:
            body, prefix = found
        else:
            body, prefix = _render(source, plan), RENDERED_PREFIX
            if _may_store(source, len(body)):
                storage.put_derivative(source.file_id, key, body, MEDIA_TYPES[plan.format], prefix)
            elif len(body) > MAX_INLINE_BYTES:
                raise TooManyRequests(
                    "This image has stored all the large answers it may for now: ask for a smaller "
                    "size, or again later.",
                )
        if len(body) > MAX_INLINE_BYTES:
            return Redirect(storage.presign_derivative(source.file_id, key, prefix))
        recent().remember(source.file_id, key, body)
        return body

    return canonical_path(request, plan, source.width, source.height), produce


def _answer_key(source: ImageSource, plan: ImagePlan) -> str:
    # A degraded tier's plans are in its own pixels: kept apart from the full image's answers.
    tier = f"degraded-{source.width}x{source.height}/" if source.full else ""
    return source.key(f"{tier}{cache_key(plan)}")


def _stored(source: ImageSource, key: str) -> tuple[bytes, str] | None:
    """An answer already made, and the prefix it is kept under: ingest's derivatives (tiles,
    thumbnails; or this function's memory of any answer), else the answers rendered on demand."""
    made = _made(source, key)
    if made is not None:
        return made, DERIVATIVES_PREFIX
    rendered = storage.get_derivative(source.file_id, key, RENDERED_PREFIX)
    return None if rendered is None else (rendered, RENDERED_PREFIX)


def _made(source: ImageSource, key: str) -> bytes | None:
    return recent().answer(source.file_id, key) or storage.get_derivative(source.file_id, key)


def _may_store(source: ImageSource, nbytes: int) -> bool:
    """Whether a rendered answer fits the image's budget of stored answers for this period."""
    settings = get_settings()
    period = timedelta(days=settings.iiif_rendered_expiry_days)
    return reserve_rendered_bytes(source.file_id, nbytes, settings.iiif_rendered_budget_bytes, period)


def _degraded_pixels(tier: ImageSource) -> Image.Image:
    """A degraded tier's whole image, scaled from the full image once and stored beside its
    derivatives: every answer of the tier is cut from these pixels and no others."""
    assert tier.full is not None
    key = tier.key(f"degraded-{tier.width}x{tier.height}.png")
    stored = _made(tier, key)
    if stored is None:
        full = tier.full
        size = (tier.width, tier.height)
        stored = _render(full, ImagePlan(0, 0, full.width, full.height, *size, 0.0, False, "default", "png"))
        storage.put_derivative(tier.file_id, key, stored, MEDIA_TYPES["png"])
        recent().remember(tier.file_id, key, stored)
    return open_upright(stored, get_settings().max_image_pixels)


def _render(source: ImageSource, plan: ImagePlan) -> bytes:
    if source.full is not None:
        return render(_degraded_pixels(source), _pixels(plan, 0, 0, 1))
    # Level k holds the source halved k times: use the smallest that still has the pixels asked for.
    shrink = min(plan.w / plan.width, plan.h / plan.height)
    level = 0
    while level + 1 < source.levels and 2 ** (level + 1) <= shrink:
        level += 1
    image, (left, top) = None, (0, 0)
    if level:
        image = _level(source, level)
        if image is None:
            level = 0
    if image is None and source.levels and source.width * source.height > TILES_ABOVE_PIXELS:
        image, (left, top) = _full_resolution_tiles(source, plan) or (None, (0, 0))
    if image is None and source.prefix:  # a page: its own pixels are a derivative, not its file
        image = _level(source, 0)
    if image is None:
        _check_decodable(source)
        image = open_upright(storage.read_all(source.s3_key), get_settings().max_image_pixels)
    return render(image, _pixels(plan, left, top, 2**level))


def _level(source: ImageSource, level: int) -> Image.Image | None:
    stored = storage.get_derivative(source.file_id, source.key(level_key(level, alpha=not source.opaque)))
    return None if stored is None else open_upright(stored, get_settings().max_image_pixels)


def _pixels(plan: ImagePlan, left: int, top: int, scale: int) -> Pixels:
    """The plan's pixels in an image that starts at (left, top) of the source, shrunk ``scale`` times."""
    return Pixels(
        region=((plan.x - left) / scale, (plan.y - top) / scale, plan.w / scale, plan.h / scale),
        size=(plan.width, plan.height),
        rotation=plan.rotation,
        mirror=plan.mirror,
        quality=plan.quality,
        format=plan.format,
    )


def _check_decodable(source: ImageSource) -> None:
    bound = get_settings().iiif_max_decode_pixels
    if source.width * source.height > bound:
        raise BadRequest(
            f"Answering this would decode the whole {source.width}x{source.height} image, more than "
            f"the {bound} pixels one request may decode: ask for a smaller size, or a tile."
        )


def _full_resolution_tiles(
    source: ImageSource, plan: ImagePlan
) -> tuple[Image.Image, tuple[int, int]] | None:
    """The region's full-resolution pixels pieced together from ingest's scale-1 tiles, and where
    they start in the image; None if a tile is missing.

    A region off the tile grid then costs a few small reads instead of decoding the whole source
    (2.2 s and 1.2 GB for 300 MP). Tiles are JPEG; an image with transparency has its grid in PNG.
    """
    tile = get_settings().iiif_tile_size
    columns = range(plan.x // tile, (plan.x + plan.w - 1) // tile + 1)
    rows = range(plan.y // tile, (plan.y + plan.h - 1) // tile + 1)
    cells = [(column, row) for row in rows for column in columns]
    if source.opaque:
        keys = [
            source.key(cache_key(tile_plan(source.width, source.height, tile, 1, column, row)))
            for column, row in cells
        ]
    else:
        keys = [source.key(alpha_cell_key(column, row)) for column, row in cells]

    with ThreadPoolExecutor(min(len(keys), TILE_READERS)) as pool:
        bodies = list(pool.map(functools.partial(_made, source), keys))
    if any(body is None for body in bodies):
        return None
    left, top = columns[0] * tile, rows[0] * tile
    width = min((columns[-1] + 1) * tile, source.width) - left
    height = min((rows[-1] + 1) * tile, source.height) - top
    pieces = [Image.open(io.BytesIO(body)) for body in bodies if body is not None]
    canvas = Image.new(pieces[0].mode, (width, height))
    for (column, row), piece in zip(cells, pieces, strict=True):
        canvas.paste(piece, (column * tile - left, row * tile - top))
    return canvas, (left, top)
