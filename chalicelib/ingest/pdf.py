"""A PDF's pages as images, and their words with where they stand (PDFium, through pypdfium2).

PDFium parses whatever bytes it is handed, and a hostile PDF can make it loop, exhaust memory or
crash, so this module runs in a child process with limits (chalicelib.ingest.sandbox), never in
the function itself: ``python -m chalicelib.ingest.pdf describe|render ...``. It speaks JSON lines
on stdout; a page's pixels and words go to files beside each other.

Sizes are in the rendered page's pixels: IIIF canvases are as large as their image, so a word's
box is a ``canvas#xywh=`` fragment as it stands.
"""

from __future__ import annotations

import ctypes
import json
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

POINTS_PER_INCH = 72
# ceil(side * scale) is the rendered side (pypdfium2's rule): a hair under the exact scale keeps
# the longest side at the setting, not one pixel over it from rounding.
_UNDER = 1 - 1e-9


class Refused(ValueError):
    """The PDF cannot be made into pages, with the reason a person can act on."""


@dataclass(frozen=True)
class PageLimits:
    longest_side: int  # pixels
    max_dpi: int
    max_pages: int

    def arguments(self) -> list[str]:
        return [str(self.longest_side), str(self.max_dpi), str(self.max_pages)]


def render_scale(width_pt: float, height_pt: float, limits: PageLimits) -> float:
    """Pixels per point: the page's longest side at ``longest_side``, never finer than ``max_dpi``."""
    return min(limits.longest_side / max(width_pt, height_pt, 1.0), limits.max_dpi / POINTS_PER_INCH) * _UNDER


def pixel_size(width_pt: float, height_pt: float, limits: PageLimits) -> tuple[int, int]:
    scale = render_scale(width_pt, height_pt, limits)
    return max(1, math.ceil(width_pt * scale)), max(1, math.ceil(height_pt * scale))


def _open(path: Path) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Refused("the PDF is encrypted: Vellum cannot open it to show its pages") from exc
        raise Refused("the PDF cannot be read: its data is damaged or not a PDF") from exc


def describe(path: Path, limits: PageLimits) -> list[tuple[int, int]]:
    """Each page's size in pixels as it will be rendered (its /Rotate applied)."""
    document = _open(path)
    count = len(document)
    if count < 1:
        raise Refused("the PDF has no pages")
    if count > limits.max_pages:
        raise Refused(f"the PDF has {count} pages, more than the {limits.max_pages} allowed")
    # The page sizes /Rotate applied, without loading each page's content.
    sizes = (document.get_page_size(index) for index in range(count))
    return [pixel_size(width, height, limits) for width, height in sizes]


def render(path: Path, first: int, last: int, limits: PageLimits, folder: Path) -> Iterator[int]:
    """Render pages ``first`` to ``last`` (from 1) into ``folder``: ``{n}.ppm`` (RGB on white) and
    ``{n}.json`` (its words); yield each page's number once both are written."""
    document = _open(path)
    if last > len(document):
        raise Refused("the PDF has fewer pages than it had when it was described")
    for number in range(first, last + 1):
        page = document[number - 1]
        width, height = pixel_size(page.get_width(), page.get_height(), limits)
        scale = render_scale(page.get_width(), page.get_height(), limits)
        bitmap = page.render(scale=scale, draw_annots=True, rev_byteorder=True, prefer_bgrx=False)
        _save_ppm(bitmap, (width, height), folder / f"{number}.ppm")
        words = list(_words(page, width, height))
        (folder / f"{number}.json").write_text(json.dumps({"words": words}, ensure_ascii=False))
        page.close()
        yield number


def _save_ppm(bitmap: Any, size: tuple[int, int], path: Path) -> None:
    """The rendered RGB pixels as they are, behind a PPM header (no copy through Pillow)."""
    if (bitmap.width, bitmap.height) != size or bitmap.n_channels != 3:  # never expected
        bitmap.to_pil().convert("RGB").resize(size).save(path, format="PPM")
        return
    row = bitmap.width * 3
    pixels = memoryview(bitmap.buffer).cast("B")
    with path.open("wb") as file:
        file.write(b"P6 %d %d 255\n" % size)
        if bitmap.stride == row:
            file.write(pixels)
        else:
            for start in range(0, bitmap.stride * bitmap.height, bitmap.stride):
                file.write(pixels[start : start + row])


def _words(page: Any, width: int, height: int) -> Iterator[list[Any]]:
    """The page's words as ``[text, x, y, w, h]`` in rendered pixels: runs of characters between
    spaces and line ends, each boxed by the union of its characters' boxes."""
    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    device_x, device_y = ctypes.c_int(), ctypes.c_int()

    def device(x: float, y: float) -> tuple[int, int]:
        pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, width, height, 0, x, y, device_x, device_y)
        return device_x.value, device_y.value

    # Page space to pixels is affine (its /Rotate and crop box included): PDFium's own mapping of
    # three points far apart gives it to a thousandth of a pixel, and then each character costs
    # no call for it.
    (ox, oy), (xx, xy), (yx, yy) = device(0, 0), device(1000, 0), device(0, 1000)
    a, b, c, d = (xx - ox) / 1000, (yx - ox) / 1000, (xy - oy) / 1000, (yy - oy) / 1000

    def to_pixels(x: float, y: float) -> tuple[int, int]:
        return round(ox + a * x + b * y), round(oy + c * x + d * y)

    text: list[str] = []
    box: list[int] = []
    for index in range(textpage.count_chars()):
        char = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index) or 32)
        if char.isspace() or not pdfium_c.FPDFText_GetCharBox(textpage.raw, index, left, right, bottom, top):
            if text:
                yield ["".join(text), box[0], box[1], box[2] - box[0], box[3] - box[1]]
            text, box = [], []
            continue
        (x0, y0), (x1, y1) = to_pixels(left.value, bottom.value), to_pixels(right.value, top.value)
        corners = [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]
        box = corners if not box else [*map(min, box[:2], corners[:2]), *map(max, box[2:], corners[2:])]
        text.append(char)
    if text:
        yield ["".join(text), box[0], box[1], box[2] - box[0], box[3] - box[1]]
    textpage.close()


def describe_isolated(path: Path, limits: PageLimits, seconds: float) -> list[list[int]]:
    """``describe``, in a child process that may take ``seconds`` at most."""
    for said in _isolated(["describe", str(path), *limits.arguments()], seconds):
        return list(said["pages"])
    raise Refused(_GAVE_UP)  # the child exited without a word


def render_isolated(
    path: Path, first: int, last: int, limits: PageLimits, folder: Path, seconds: float
) -> Iterator[int]:
    """``render``, in a child process that may take ``seconds`` for each page."""
    arguments = ["render", str(path), *limits.arguments(), str(first), str(last), str(folder)]
    for said in _isolated(arguments, seconds):
        yield int(said["page"])


_GAVE_UP = "PDFium gave up on the PDF within its limits of time and memory: it is damaged or hostile"


def _isolated(arguments: list[str], seconds: float) -> Iterator[dict[str, Any]]:
    from chalicelib.ingest.sandbox import ChildFailed, run_module
    from chalicelib.observability import logger

    try:
        for said in run_module(_MODULE, arguments, seconds):
            if "refused" in said:
                raise Refused(str(said["refused"]))
            yield said
    except ChildFailed as failure:
        logger.warning("PDF child process failed", extra={"reason": str(failure)})
        raise Refused(_GAVE_UP) from failure


_MODULE = "chalicelib.ingest.pdf"  # what ``python -m`` runs (this module's __name__ is __main__ there)


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    """The child's entry: ``describe PDF LONGEST DPI MAX_PAGES`` or
    ``render PDF LONGEST DPI MAX_PAGES FIRST LAST FOLDER``."""
    from chalicelib.ingest.sandbox import limit_self, wait_for_reader

    limit_self()
    command, path, *numbers = argv
    limits = PageLimits(int(numbers[0]), int(numbers[1]), int(numbers[2]))
    try:
        if command == "describe":
            _say({"pages": describe(Path(path), limits)})
        else:
            for number in render(Path(path), int(numbers[3]), int(numbers[4]), limits, Path(numbers[5])):
                _say({"page": number})
                if not wait_for_reader():  # one page ahead of the parent at most: /tmp is small
                    break
    except Refused as refusal:
        _say({"refused": str(refusal)})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
