"""IIIF Content Search answers for a record's text: 2.0 (https://iiif.io/api/search/2.0/) and 1.0,
which Mirador 4 reads (https://iiif.io/api/search/1.0/). Pure: handed the hits, it writes JSON.

Each word a hit spans is one annotation on its canvas, targeting the word's box
(``canvas#xywh=``), so a viewer highlights exactly what matched; each hit says its words with
their context. Hits are paged, ``HITS_PER_PAGE`` to a page, each page naming the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from chalicelib.iiif.text_index import Hit

SEARCH1_CONTEXT = "http://iiif.io/api/search/1/context.json"
SEARCH1_PROFILE = "http://iiif.io/api/search/1/search"
SEARCH2_CONTEXT = "http://iiif.io/api/search/2/context.json"
PRESENTATION2_CONTEXT = "http://iiif.io/api/presentation/2/context.json"
HITS_PER_PAGE = 50


@dataclass(frozen=True)
class CanvasHit:
    canvas_id: str
    hit: Hit

    def annotations(self) -> list[tuple[str, str, str]]:
        """(id, target, word) of the annotation of each word it spans."""
        words = self.hit.match.split(" ")
        return [
            (
                f"{self.canvas_id}/words/{self.hit.first + index}",
                f"{self.canvas_id}#xywh={x},{y},{w},{h}",
                word,
            )
            for index, ((x, y, w, h), word) in enumerate(zip(self.hit.boxes, words, strict=False))
        ]


@dataclass(frozen=True)
class Results:
    service: str  # the search service's id
    query: str
    total: int  # hits in all
    page: int  # from 1
    shown: list[CanvasHit]  # this page's, in canvas order

    def url(self, page: int) -> str:
        return f"{self.service}?{urlencode({'q': self.query, **({'page': page} if page > 1 else {})})}"

    @property
    def last(self) -> int:
        return last_page(self.total)

    @property
    def start(self) -> int:
        return (self.page - 1) * HITS_PER_PAGE


def last_page(total: int) -> int:
    return max(1, -(-total // HITS_PER_PAGE))


def services(search1: str, search2: str) -> list[dict[str, Any]]:
    """The manifest's declaration of both services (1.0 with 2.x's keys, as Presentation 3 asks
    of older services: section 3.3.3.1)."""
    return [
        {"id": search2, "type": "SearchService2"},
        {"@id": search1, "@type": "SearchService1", "profile": SEARCH1_PROFILE},
    ]


def search2(results: Results) -> dict[str, Any]:
    items, contexts = [], []
    for found in results.shown:
        annotations = found.annotations()
        for annotation_id, target, word in annotations:
            items.append(
                {
                    "id": annotation_id,
                    "type": "Annotation",
                    "motivation": "supplementing",  # text transcribed from the page's image
                    "body": {"type": "TextualBody", "value": word, "format": "text/plain"},
                    "target": target,
                }
            )
        contexts.append(
            {
                "id": f"{annotations[0][0]}/hit",
                "type": "Annotation",
                "motivation": "contextualizing",
                "target": {
                    "type": "SpecificResource",
                    "source": annotations[0][0],
                    "selector": [_quote(found.hit)],
                },
            }
        )
    page: dict[str, Any] = {
        "@context": SEARCH2_CONTEXT,
        "id": results.url(results.page),
        "type": "AnnotationPage",
        "startIndex": results.start,
        "partOf": {
            "id": results.url(1),
            "type": "AnnotationCollection",
            "total": results.total,
            "first": {"id": results.url(1), "type": "AnnotationPage"},
            "last": {"id": results.url(results.last), "type": "AnnotationPage"},
        },
        "items": items,
    }
    if contexts:
        page["annotations"] = [{"type": "AnnotationPage", "items": contexts}]
    if results.page < results.last:
        page["next"] = {"id": results.url(results.page + 1), "type": "AnnotationPage"}
    if results.page > 1:
        page["prev"] = {"id": results.url(results.page - 1), "type": "AnnotationPage"}
    return page


def _quote(hit: Hit) -> dict[str, str]:
    return {
        "type": "TextQuoteSelector",
        "prefix": f"{hit.before} " if hit.before else "",
        "exact": hit.match,
        "suffix": f" {hit.after}" if hit.after else "",
    }


def search1(results: Results) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    hits: list[dict[str, Any]] = []
    for found in results.shown:
        annotations = found.annotations()
        resources.extend(
            {
                "@id": annotation_id,
                "@type": "oa:Annotation",
                "motivation": "sc:painting",
                "resource": {"@type": "cnt:ContentAsText", "chars": word},
                "on": target,
            }
            for annotation_id, target, word in annotations
        )
        hits.append(
            {
                "@type": "search:Hit",
                "annotations": [annotation_id for annotation_id, _, _ in annotations],
                "match": found.hit.match,
                "before": found.hit.before,
                "after": found.hit.after,
            }
        )
    answer: dict[str, Any] = {
        "@context": [PRESENTATION2_CONTEXT, SEARCH1_CONTEXT],
        "@id": results.url(results.page),
        "@type": "sc:AnnotationList",
        "within": {
            "@type": "sc:Layer",
            "total": results.total,
            "first": results.url(1),
            "last": results.url(results.last),
        },
        "startIndex": results.start,
        "resources": resources,
        "hits": hits,
    }
    if results.page < results.last:
        answer["next"] = results.url(results.page + 1)
    if results.page > 1:
        answer["prev"] = results.url(results.page - 1)
    return answer
