"""PDF pages as images (PDFium): their sizes, their pixels, and where their words stand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from chalicelib.ingest import pdf
from tests import samples

LIMITS = pdf.PageLimits(longest_side=1000, max_dpi=400, max_pages=10)


def rendered(
    tmp_path: Path, pages: list[samples.PdfPage | str]
) -> list[tuple[Image.Image, list[list[object]]]]:
    source = tmp_path / "doc.pdf"
    source.write_bytes(samples.pdf(pages))
    out = []
    for number in pdf.render(source, 1, len(pages), LIMITS, tmp_path):
        words = json.loads((tmp_path / f"{number}.json").read_text())["words"]
        out.append((Image.open(tmp_path / f"{number}.ppm").convert("L"), words))
    return out


def test_a_page_s_longest_side_is_the_setting_and_never_finer_than_the_dpi_limit() -> None:
    assert pdf.pixel_size(612, 792, LIMITS) == (773, 1000)
    assert pdf.pixel_size(792, 612, LIMITS) == (1000, 773)
    # A 1-inch label would be 1,000 px at 1,000 dpi: 400 dpi is the limit.
    assert pdf.pixel_size(72, 72, LIMITS) == (400, 400)


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_each_word_s_box_holds_its_ink_whatever_the_page_s_rotation(tmp_path: Path, rotate: int) -> None:
    [(page, words)] = rendered(tmp_path, [samples.PdfPage("Turned about", rotate=rotate)])

    assert page.size == ((1000, 773) if rotate in (90, 270) else (773, 1000))
    assert [word[0] for word in words] == ["Turned", "about"]
    for _, x, y, w, h in words:
        assert isinstance(x, int) and isinstance(y, int) and isinstance(w, int) and isinstance(h, int)
        inside = page.crop((x, y, x + w, y + h))
        assert inside.getextrema()[0] < 80
    # Everything dark on the page lies within the words' boxes, a pixel or two of rounding aside.
    left = min(word[1] for word in words)  # type: ignore[type-var]
    top = min(word[2] for word in words)  # type: ignore[type-var]
    right = max(word[1] + word[3] for word in words)  # type: ignore[operator]
    bottom = max(word[2] + word[4] for word in words)  # type: ignore[operator]
    ink = page.point(lambda value: 255 if value < 128 else 0).getbbox()
    assert ink is not None
    assert ink[0] >= left - 2 and ink[1] >= top - 2 and ink[2] <= right + 2 and ink[3] <= bottom + 2


def test_accents_and_lines_come_out_as_words(tmp_path: Path) -> None:
    [(_, words)] = rendered(tmp_path, [samples.PdfPage("Le café\nétait fermé", font_size=18)])

    assert [word[0] for word in words] == ["Le", "café", "était", "fermé"]
    assert words[2][2] > words[0][2]  # type: ignore[operator]  # the second line is lower


def test_a_pdf_with_more_pages_than_allowed_is_refused_before_any_is_read(tmp_path: Path) -> None:
    source = tmp_path / "many.pdf"
    source.write_bytes(samples.pdf_declaring_pages(11))

    with pytest.raises(pdf.Refused, match="has 11 pages, more than the 10 allowed"):
        pdf.describe(source, LIMITS)
