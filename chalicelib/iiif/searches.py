"""Searching a record's text: its canvases, the indexes of its PDFs' words, and the hits, for
chalicelib.iiif.search to answer with.

A file's index never changes (a file id names its bytes for good), so a warm function keeps the
ones it has read: searching a record again, or paging through its hits, reads nothing from S3.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

from cachetools import LRUCache

from chalicelib.auth.principal import Principal
from chalicelib.errors import BadRequest
from chalicelib.files import storage
from chalicelib.iiif.manifests import record_canvases, search_url
from chalicelib.iiif.presentation import canvas_id
from chalicelib.iiif.search import HITS_PER_PAGE, CanvasHit, Results, last_page
from chalicelib.iiif.text_index import TEXT_INDEX, find, hit

MAX_QUERY_CHARS = 200
MAX_PAGE = 10_000
# Memory a warm function gives the indexes it keeps: about four of 1,000 pages each. Parsed, an
# index takes about five times its JSON (measured: 14 MB of JSON, 66 MB of Python objects).
INDEX_CACHE_BYTES = 256 * 1024**2
PARSED_PER_JSON_BYTE = 5


class _Indexes:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cached: LRUCache[str, tuple[int, list[dict[str, Any]]]] = LRUCache(
            maxsize=INDEX_CACHE_BYTES, getsizeof=lambda entry: entry[0]
        )

    def pages(self, file_id: str) -> list[dict[str, Any]]:
        with self.lock:
            cached = self.cached.get(file_id)
        if cached is not None:
            return cached[1]
        stored = storage.get_derivative(file_id, TEXT_INDEX)
        pages: list[dict[str, Any]] = json.loads(stored)["pages"] if stored else []
        with self.lock:
            held = PARSED_PER_JSON_BYTE * len(stored or b"")
            if stored and held <= INDEX_CACHE_BYTES:
                self.cached[file_id] = (held, pages)
        return pages


@functools.cache
def _indexes() -> _Indexes:
    return _Indexes()


def search_record(
    principal: Principal, record_id: str, base: str, version: str, query: str | None, page: str | None
) -> tuple[Results, bool]:
    """The hits of ``query`` in the text of the record's files that ``principal`` may read, and
    whether anyone may see them (so shared caches may keep the answer)."""
    if query is None or not query.strip():
        raise BadRequest("Say what to search for: ?q=words.")
    if len(query) > MAX_QUERY_CHARS:
        raise BadRequest(f"A search is at most {MAX_QUERY_CHARS} characters long.")
    number = _page(page)
    canvases = record_canvases(principal, record_id, base)
    # Every match is found (the total is part of the answer), but only the page's are made into
    # hits with their boxes and context: a common word has tens of thousands of matches.
    matches = [
        (pages, first, match)
        for file_id, first in canvases.texts
        for pages in [_indexes().pages(file_id)]
        for match in find(pages, query)
    ]
    if number > last_page(len(matches)):
        raise BadRequest(f"This search has {last_page(len(matches))} pages of hits.")
    start = (number - 1) * HITS_PER_PAGE
    shown = [
        CanvasHit(canvas_id(base, record_id, first + match.page - 1), hit(pages, match))
        for pages, first, match in matches[start : start + HITS_PER_PAGE]
    ]
    results = Results(search_url(base, record_id, version), query, len(matches), number, shown)
    return results, canvases.public


def _page(page: str | None) -> int:
    if page is None:
        return 1
    if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
        raise BadRequest("page is a page of hits: a whole number from 1.")
    return int(page)
