"""A browser-like HTTP loader: a fixed number of keep-alive connections working through a list of
paths in order, timing each request from sending it to the last byte of its answer.

Each answer's pixels are read from its image header (no decoding), so megapixels delivered are
what the server really sent. A 3xx answer (Vellum sends 303 to S3 for answers too large for Lambda)
is followed on a fresh connection, and its time counts in the request's.
"""

from __future__ import annotations

import http.client
import io
import statistics
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from PIL import Image

# What Chromium sends for <img> and fetch of images.
IMAGE_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
TIMEOUT_SECONDS = 300


@dataclass
class Answer:
    path: str
    status: int
    seconds: float
    size: int  # bytes
    pixels: int  # width * height of the image sent (0 when not an image)
    dimensions: tuple[int, int] | None
    expected: tuple[int, int] | None = None
    body_head: bytes = b""  # the first bytes of a failed answer, for the report

    @property
    def ok(self) -> bool:
        return self.status == 200 and (self.expected is None or self.dimensions == self.expected)


@dataclass
class Run:
    answers: list[Answer]
    seconds: float  # wall time of the whole run
    stopped_early: bool = False
    planned: int = 0

    @property
    def requests(self) -> int:
        return len(self.answers)

    @property
    def failures(self) -> list[Answer]:
        return [a for a in self.answers if not a.ok]

    @property
    def megapixels(self) -> float:
        return sum(a.pixels for a in self.answers if a.ok) / 1e6

    @property
    def megabytes(self) -> float:
        return sum(a.size for a in self.answers) / 1e6

    def latency_ms(self, fraction: float) -> float:
        ordered = sorted(a.seconds for a in self.answers)
        if not ordered:
            return float("nan")
        if fraction == 0.5:
            return statistics.median(ordered) * 1000
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] * 1000

    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for answer in self.answers:
            counts[answer.status] = counts.get(answer.status, 0) + 1
        return counts


@dataclass
class _Work:
    items: Sequence[tuple[str, tuple[int, int] | None]]
    deadline: float | None
    next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopped_early: bool = False

    def take(self) -> int | None:
        with self.lock:
            if self.next >= len(self.items):
                return None
            if self.deadline is not None and time.perf_counter() > self.deadline:
                self.stopped_early = True
                return None
            self.next += 1
            return self.next - 1


def image_dimensions(body: bytes) -> tuple[int, int] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(body)) as image:
                return image.size
    except Exception:
        return None


def _get(connection: http.client.HTTPConnection, path: str, accept: str) -> tuple[int, bytes, str | None]:
    connection.request("GET", path, headers={"Accept": accept})
    response = connection.getresponse()
    body = response.read()
    return response.status, body, response.getheader("Location")


def fetch(
    host: str,
    port: int,
    items: Sequence[tuple[str, tuple[int, int] | None]],
    *,
    connections: int = 6,
    accept: str = IMAGE_ACCEPT,
    budget_seconds: float | None = None,
) -> Run:
    """GET every path (with the size it should have, if known) over ``connections`` connections."""
    started = time.perf_counter()
    work = _Work(items, None if budget_seconds is None else started + budget_seconds)
    answers: list[Answer | None] = [None] * len(items)

    def worker() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)
        while (index := work.take()) is not None:
            path, expected = items[index]
            begun = time.perf_counter()
            try:
                status, body, location = _get(connection, path, accept)
            except (OSError, http.client.HTTPException):
                connection.close()  # a server that closed an idle keep-alive connection: once more
                connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)
                status, body, location = _get(connection, path, accept)
            size = len(body)
            if status in (301, 302, 303, 307, 308) and location:
                target = urlsplit(location)
                side = http.client.HTTPConnection(
                    target.hostname or host, target.port or 80, timeout=TIMEOUT_SECONDS
                )
                status, body, _ = _get(
                    side, target.path + (f"?{target.query}" if target.query else ""), accept
                )
                side.close()
                size += len(body)
            seconds = time.perf_counter() - begun
            dimensions = image_dimensions(body) if status == 200 else None
            answers[index] = Answer(
                path=path,
                status=status,
                seconds=seconds,
                size=size,
                pixels=dimensions[0] * dimensions[1] if dimensions else 0,
                dimensions=dimensions,
                expected=expected,
                body_head=b"" if status == 200 else body[:300],
            )
        connection.close()

    threads = [threading.Thread(target=worker, name=f"loader-{n}") for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = [a for a in answers if a is not None]
    return Run(done, time.perf_counter() - started, stopped_early=work.stopped_early, planned=len(items))
