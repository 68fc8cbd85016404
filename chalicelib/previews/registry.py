"""Previewers, and the choice of one for a file.

A previewer declares a name, the extensions and media types it takes, ``can_preview`` and
``preview``; it is pure Python, handed the file's facts and a reader of its bytes (range reads), and
returns a ``Page``. New ones are added by registering them (the ``@previewer`` decorator, or an
entry point in the ``vellum.previewers`` group), with no change to the others. Which one a file
gets: the one its metadata names (``previewer``), else the first of the configured order that takes
it; one that raises is logged and the next is tried, and the last resort is "no preview".
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol

ENTRY_POINT_GROUP = "vellum.previewers"


class Reader(Protocol):
    """The file's bytes, read in ranges: a previewer never needs a large file whole."""

    @property
    def size(self) -> int: ...

    def read(self, start: int, length: int) -> bytes: ...


@dataclass(frozen=True)
class PreviewFile:
    key: str
    size: int
    mimetype: str | None  # as the uploader declared it
    sniffed_type: str | None  # as ingest read it from the bytes
    metadata: dict[str, Any]  # the file's own metadata (records)
    download_url: str  # a short-lived URL of the bytes, for viewers that fetch them (PDF, media)
    static: str = "/static"  # where the preview pages' scripts and libraries are served
    iiif_base: str | None = None  # the IIIF Image API service of an ingested image
    image: dict[str, Any] | None = None  # an ingested image's facts (width, height, frames, ...)
    # What a player shows of ingested sound or video before it plays: a video's poster frame, a
    # sound's waveform (IIIF images).
    poster: str | None = None
    pages: int = 1  # a multi-page image's (a TIFF's), each its own IIIF image ({iiif_base}~p{n})
    # URLs of another file beside this one (same bucket or record), from its key: its preview
    # page, and its bytes (for relative links and images in Markdown).
    sibling_page: Callable[[str], str] | None = None
    sibling_bytes: Callable[[str], str] | None = None

    @property
    def extension(self) -> str:
        return posixpath.splitext(self.key)[1].lower().lstrip(".")

    @property
    def types(self) -> set[str]:
        return {t.split(";")[0].strip().lower() for t in (self.mimetype, self.sniffed_type) if t}


@dataclass(frozen=True)
class Page:
    """What a previewer shows: HTML made safe by the previewer (escaped or sanitised), plus what
    the page's Content-Security-Policy must allow for it."""

    body: str
    styles: tuple[str, ...] = ()  # inline CSS, allowed by hash
    scripts: tuple[str, ...] = ()  # URLs of Vellum's own scripts (static assets; .mjs: modules)
    connect: tuple[str, ...] = ()  # origins a script of ours fetches from (the file's bytes)
    workers: tuple[str, ...] = ()  # origins of web workers (pdf.js parses in one)
    media: tuple[str, ...] = ()  # origins of audio and video
    images: tuple[str, ...] = ()  # origins of images (the IIIF service, S3) besides the API's
    notes: tuple[str, ...] = ()  # what the preview leaves out (truncation), shown under it


class Previewer(Protocol):
    @property
    def name(self) -> str: ...

    def can_preview(self, file: PreviewFile) -> bool: ...

    def preview(self, file: PreviewFile, reader: Reader) -> Page: ...


@dataclass(frozen=True)
class FunctionPreviewer:
    """A previewer made of a function (what ``@previewer`` registers)."""

    name: str
    extensions: frozenset[str]
    mimetypes: frozenset[str]
    render: Callable[[PreviewFile, Reader], Page]
    accepts: Callable[[PreviewFile], bool] | None = None

    def can_preview(self, file: PreviewFile) -> bool:
        if self.accepts is not None:
            return self.accepts(file)
        return file.extension in self.extensions or bool(file.types & self.mimetypes)

    def preview(self, file: PreviewFile, reader: Reader) -> Page:
        return self.render(file, reader)


class Registry:
    def __init__(self) -> None:
        self._previewers: dict[str, Previewer] = {}

    def add(self, previewer: Previewer) -> Previewer:
        if previewer.name in self._previewers:
            raise ValueError(f"a previewer named {previewer.name!r} is registered already")
        self._previewers[previewer.name] = previewer
        return previewer

    def candidates(self, file: PreviewFile, order: Iterable[str]) -> Iterator[Previewer]:
        """The previewers to try for ``file``, best first."""
        forced = file.metadata.get("previewer")
        if isinstance(forced, str) and forced in self._previewers:
            yield self._previewers[forced]
        ranked = [name for name in order if name in self._previewers]
        ranked += [name for name in self._previewers if name not in ranked]
        for name in ranked:
            if name != forced and self._previewers[name].can_preview(file):
                yield self._previewers[name]

    def load_entry_points(self) -> None:
        """Previewers other packages declare in the ``vellum.previewers`` entry point group."""
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            if entry.name not in self._previewers:
                self.add(entry.load())


REGISTRY = Registry()


def previewer(
    name: str,
    *,
    extensions: Iterable[str] = (),
    mimetypes: Iterable[str] = (),
    accepts: Callable[[PreviewFile], bool] | None = None,
    registry: Registry = REGISTRY,
) -> Callable[[Callable[[PreviewFile, Reader], Page]], Callable[[PreviewFile, Reader], Page]]:
    """Register the decorated function as the previewer ``name``."""

    def register(render: Callable[[PreviewFile, Reader], Page]) -> Callable[[PreviewFile, Reader], Page]:
        registry.add(
            FunctionPreviewer(
                name=name,
                extensions=frozenset(e.lower().lstrip(".") for e in extensions),
                mimetypes=frozenset(m.lower() for m in mimetypes),
                render=render,
                accepts=accepts,
            )
        )
        return render

    return register
