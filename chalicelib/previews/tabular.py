"""CSV and TSV: the first rows as a table, the delimiter sniffed and the encoding detected."""

from __future__ import annotations

import csv
import io
from html import escape

from chalicelib.previews.page import message
from chalicelib.previews.registry import Page, PreviewFile, Reader, previewer
from chalicelib.previews.text import NotText, read_text, truncation_note

DELIMITERS = ",;\t|"
MAX_FIELD = 1_000  # characters of one cell shown: a cell can be a megabyte of text
# Cells shown at most: a megabyte of one-digit cells would make a table page of seven.
MAX_CELLS = 100_000


def _dialect(sample: str, extension: str) -> type[csv.Dialect] | csv.Dialect:
    if extension == "tsv":
        return csv.excel_tab
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
    except csv.Error:
        pass
    # The sniffer wants every row alike; ragged tables are common: take the delimiter that occurs
    # on the most of the first lines.
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    best = max(
        DELIMITERS, key=lambda d: (sum(d in line for line in lines), sum(line.count(d) for line in lines))
    )

    class Sniffed(csv.excel):
        delimiter = best

    return Sniffed if any(best in line for line in lines) else csv.excel


@previewer("csv", extensions=("csv", "tsv"), mimetypes=("text/csv", "text/tab-separated-values"))
def preview_csv(file: PreviewFile, reader: Reader) -> Page:
    try:
        text = read_text(reader)
    except NotText as refusal:
        return message(f"No preview: {refusal}.")
    content = text.content
    if text.truncated and "\n" in content:
        content = content[: content.rindex("\n")]  # the last row was cut: leave it out
    csv.field_size_limit(len(content) + 1)
    try:
        rows = list(csv.reader(io.StringIO(content), _dialect(content[:65536], file.extension)))
    except csv.Error as exc:
        return message(f"No preview: the table cannot be read ({exc}).")
    if not rows:
        return message("The table is empty.")
    shown, cells_so_far = 0, 0
    while shown < len(rows) and cells_so_far + len(rows[shown]) <= MAX_CELLS:
        cells_so_far += len(rows[shown])
        shown += 1
    cut = shown < len(rows)
    rows = rows[: max(shown, 1)]
    width = max(len(row) for row in rows)

    def cells(row: list[str], tag: str) -> str:
        padded = row + [""] * (width - len(row))  # ragged rows keep their columns
        return "".join(f"<{tag}>{escape(cell[:MAX_FIELD], quote=False)}</{tag}>" for cell in padded)

    head, *body = rows
    table = f"<table><thead><tr>{cells(head, 'th')}</tr></thead><tbody>"
    table += "".join(f"<tr>{cells(row, 'td')}</tr>" for row in body) + "</tbody></table>"
    notes = truncation_note(text, f"the first {len(rows):,} rows")
    if cut and not notes:
        notes = (f"Showing the first {len(rows):,} rows only: download the file for all.",)
    return Page(body=table, notes=notes)
