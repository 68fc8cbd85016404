"""The words of a document's pages, indexed for IIIF Content Search: case- and accent-insensitive
phrase search that answers with each hit's boxes on its page.

An index is one JSON object per file, made once by ingest from its pages' words and read whole
by a search: per page, the words folded (case and accents) and joined by spaces, where each word
starts in that text, the words as printed, and their boxes. Finding a phrase is then
``str.find`` over each page's text, in C, with no per-word work but for the hits.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

CONTEXT_WORDS = 4  # words either side of a hit, shown as its context
TEXT_INDEX = "text-index.json"  # a file's index, among its derivatives


def fold(text: str) -> str:
    """Case and accents away, whitespace collapsed: "Café  ÉTÉ" and "cafe ete" are one."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.split())


def page_index(words: list[list[Any]]) -> dict[str, Any]:
    """A page's index from its words, ``[text, x, y, w, h]`` each (chalicelib.ingest.pdf)."""
    kept = [(fold(str(word[0])), word) for word in words]
    kept = [(folded, word) for folded, word in kept if folded]
    starts, position = [], 0
    for folded, _ in kept:
        starts.append(position)
        position += len(folded) + 1
    return {
        "text": " ".join(folded for folded, _ in kept),
        "starts": starts,
        "words": [str(word[0]) for _, word in kept],
        "boxes": [int(value) for _, word in kept for value in word[1:5]],
    }


@dataclass(frozen=True)
class Match:
    page: int  # from 1
    first: int  # the words matched, by their place on the page (from 0)
    last: int


@dataclass(frozen=True)
class Hit:
    page: int
    first: int
    boxes: list[tuple[int, int, int, int]]  # x, y, w, h of each word matched
    match: str  # the words matched, as printed
    before: str
    after: str


def find(pages: list[dict[str, Any]], query: str) -> Iterator[Match]:
    """Every place the query's words stand together, from the start of a word, in page order
    ("vote" finds "votes", "ote" does not)."""
    folded = fold(query)
    if not folded:
        return
    for number, page in enumerate(pages, start=1):
        text, starts = page["text"], page["starts"]
        found = text.find(folded)
        while found != -1:
            first = bisect.bisect_right(starts, found) - 1
            if starts[first] == found:  # at a word's start
                yield Match(number, first, bisect.bisect_left(starts, found + len(folded)) - 1)
            found = text.find(folded, found + 1)


def hit(pages: list[dict[str, Any]], match: Match) -> Hit:
    """A match with its words' boxes and its context: made only for the hits a page of results shows."""
    page = pages[match.page - 1]
    words, boxes, first, last = page["words"], page["boxes"], match.first, match.last
    return Hit(
        page=match.page,
        first=first,
        boxes=[
            (boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3])
            for i in range(first, last + 1)
        ],
        match=" ".join(words[first : last + 1]),
        before=" ".join(words[max(0, first - CONTEXT_WORDS) : first]),
        after=" ".join(words[last + 1 : last + 1 + CONTEXT_WORDS]),
    )


def search(pages: list[dict[str, Any]], query: str) -> Iterator[Hit]:
    """Every hit of the query, made in full."""
    return (hit(pages, match) for match in find(pages, query))
