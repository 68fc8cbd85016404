"""PDF pages as IIIF images: Vellum's page ingest against Poppler's ``pdftoppm``, and search latency.

    make bench-pdf                                   # installs poppler-utils if missing, then runs:
    .venv/bin/python -m bench.bench_pdf_pages        # --quick: 30 and 10 pages, 200-page search

Two PDFs made here: a text PDF (300 Letter pages of 40 lines each, Helvetica) and a scanned one
(50 pages, each one 300 dpi greyscale JPEG of a printed-looking page, as a scanner makes them).
For each, on one core (CPU 0; the embedded AWS answering the PUTs on CPU 1):

- **Vellum**: a fresh process runs what ingest runs for a PDF (``identify_file``: PDFium in its
  child process reads the page sizes; ``make_batch`` of every page: the child renders each page at
  3,000 px on its longest side and extracts its words, the parent cuts each page's tiles, levels and
  thumbnails and stores them in the embedded S3, then indexes the words). Peak RSS of the function
  process and of its PDFium child (``ru_maxrss`` of self and children).
- **Vellum, render only**: PDFium's child alone rendering every page to the same size (no pyramid).
- **pdftoppm** (the peer): ``pdftoppm -scale-to 3000 -jpeg`` (the same pixels per page, one JPEG
  each), its CPU and peak RSS.

Then search: a 1,000-page record's index (400 words a page from a 5,000-word vocabulary) stored
in the embedded S3 as ingest stores it; a cold search (S3 read, parse, search) and warm ones (the
index kept by the function), for a rare word, a common one and a phrase: the median of 21.
"""

# The benchmark runs the programs it measures, with commands it builds itself.
# ruff: noqa: S603, S607
# Random here draws reproducible sample text, never secrets.
# ruff: noqa: S311

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CORE = "0"
AWS_CORE = "1"
LONGEST_SIDE = 3000
VOCABULARY = 5_000


def _usage() -> dict[str, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "cpu": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        "rss_mib": own.ru_maxrss / 1024,
        "child_rss_mib": children.ru_maxrss / 1024,
    }


# ------------------------------------------------------------------------------------- the samples


def text_pdf(pages: int) -> bytes:
    from tests.samples import PdfPage, pdf

    words = _words(random.Random(7))
    lines = [
        " ".join(words[(page * 40 + line) * 9 % len(words) :][:9])
        for page in range(pages)
        for line in range(40)
    ]
    return pdf(
        [
            PdfPage("\n".join(lines[40 * page : 40 * page + 40]), at=(54, 740), font_size=12)
            for page in range(pages)
        ]
    )


def scanned_pdf(pages: int) -> bytes:
    """Pages as a scanner makes them: one greyscale JPEG each, 2550 x 3300 (Letter at 300 dpi)."""
    from PIL import Image, ImageDraw, ImageFilter

    noise = Image.effect_noise((2550, 3300), 12).point(lambda value: 235 + value // 16)
    frames = []
    for number in range(pages):
        page = noise.copy()
        draw = ImageDraw.Draw(page)
        for line in range(60):
            y = 200 + line * 48
            draw.rectangle((180, y, 180 + (2200 if (line + number) % 7 else 1200), y + 22), fill=40)
        frames.append(page.filter(ImageFilter.GaussianBlur(1.2)))
    buffer = io.BytesIO()
    frames[0].save(buffer, format="PDF", save_all=True, append_images=frames[1:], resolution=300, quality=80)
    return buffer.getvalue()


def _words(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyzéè"
    vocabulary = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(VOCABULARY)]
    # Zipf-like: a few words are everywhere, most are rare.
    weights = [1 / (rank + 1) for rank in range(VOCABULARY)]
    return rng.choices(vocabulary, weights, k=20_000)


# -------------------------------------------------------------------------------- the measured runs


def ingest(file_id: str) -> dict[str, Any]:
    """In a fresh process: what ingest does with a PDF, every page in one batch."""
    from chalicelib.files.stored import stored_file
    from chalicelib.ingest.describe import identify_file
    from chalicelib.ingest.pages import make_batch

    stored_file(file_id)  # connections made, as in a warm Lambda
    before, started = _usage(), time.perf_counter()
    identify_file(file_id)
    described = time.perf_counter()
    stored = stored_file(file_id, consistent=True)
    assert stored is not None and stored.pages, stored
    assert make_batch(file_id, 1, len(stored.pages))
    ended, after = time.perf_counter(), _usage()
    return {
        "pages": len(stored.pages),
        "seconds": ended - started,
        "describe_seconds": described - started,
        "cpu_seconds": after["cpu"] - before["cpu"],
        "peak_rss_mib": after["rss_mib"],
        "child_peak_rss_mib": after["child_rss_mib"],
    }


def render_only(path: str, pages: int) -> dict[str, Any]:
    """In a fresh process: PDFium's child rendering every page, its pixels thrown away."""
    from chalicelib.ingest import pdf

    limits = pdf.PageLimits(LONGEST_SIDE, 400, 10_000)
    before, started = _usage(), time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for number in pdf.render_isolated(Path(path), 1, pages, limits, Path(folder), 600):
            (Path(folder) / f"{number}.ppm").unlink()
    ended, after = time.perf_counter(), _usage()
    return {
        "seconds": ended - started,
        "cpu_seconds": after["cpu"] - before["cpu"],
        "child_peak_rss_mib": after["child_rss_mib"],
    }


def pdftoppm(path: str, out: str) -> dict[str, Any]:
    """In a fresh process: Poppler rendering every page to the same size, one JPEG each."""
    before, started = _usage(), time.perf_counter()
    subprocess.run(["pdftoppm", "-scale-to", str(LONGEST_SIDE), "-jpeg", path, f"{out}/page"], check=True)
    ended, after = time.perf_counter(), _usage()
    return {
        "pages": len(list(Path(out).iterdir())),
        "seconds": ended - started,
        "cpu_seconds": after["cpu"] - before["cpu"],
        "peak_rss_mib": after["child_rss_mib"],
    }


def search_latency(pages: int) -> dict[str, Any]:
    """In this process, against the embedded S3: a record of ``pages`` pages of text."""
    from chalicelib.files import storage
    from chalicelib.iiif import searches
    from chalicelib.iiif.search import HITS_PER_PAGE
    from chalicelib.iiif.text_index import TEXT_INDEX, find, hit, page_index

    def record_hits(pages: list[dict[str, Any]], query: str) -> int:
        """What a search answer costs beyond the record's canvases: every match, the first page made."""
        matches = list(find(pages, query))
        [hit(pages, match) for match in matches[:HITS_PER_PAGE]]
        return len(matches)

    rng = random.Random(11)
    words = _words(rng)
    index = {
        "pages": [
            page_index([[rng.choice(words), 40 * (i % 60), 30 * (i // 60), 38, 24] for i in range(400)])
            for _ in range(pages)
        ]
    }
    body = json.dumps(index, ensure_ascii=False, separators=(",", ":")).encode()
    file_id = f"bench-search-{pages}"
    storage.put_derivative(file_id, TEXT_INDEX, body, "application/json")
    counts: dict[str, int] = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    common = max(counts, key=counts.__getitem__)
    rare = min(counts, key=counts.__getitem__)
    queries = {"rare word": rare, "common word": common, "two-word phrase": f"{words[100]} {words[101]}"}
    result: dict[str, Any] = {"pages": pages, "index_bytes": len(body), "queries": {}}
    for name, query in queries.items():
        cold, warm = [], []
        for _ in range(21):
            searches._indexes.cache_clear()
            started = time.perf_counter()
            found = record_hits(searches._indexes().pages(file_id), query)
            cold.append(time.perf_counter() - started)
            started = time.perf_counter()
            found = record_hits(searches._indexes().pages(file_id), query)
            warm.append(time.perf_counter() - started)
        result["queries"][name] = {
            "hits": found,
            "cold_ms": statistics.median(cold) * 1000,
            "warm_ms": statistics.median(warm) * 1000,
        }
    return result


# ------------------------------------------------------------------------------------------- driver


def _run(*arguments: str, env: dict[str, str]) -> dict[str, Any]:
    """A subcommand in a fresh process on the measured core (its children stay there too)."""
    from local.environment import ROOT

    done = subprocess.run(
        ["taskset", "-c", CORE, sys.executable, "-m", "bench.bench_pdf_pages", *arguments],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _peer(path: Path, work: Path, env: dict[str, str]) -> dict[str, Any]:
    out = work / "pdftoppm"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    try:
        return _run("pdftoppm", str(path), str(out), env=env)
    finally:
        shutil.rmtree(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("command", nargs="?", default="run")
    parser.add_argument("arguments", nargs="*")
    args = parser.parse_args()
    if args.command == "ingest":
        print(json.dumps(ingest(args.arguments[0])))
        return
    if args.command == "render":
        print(json.dumps(render_only(args.arguments[0], int(args.arguments[1]))))
        return
    if args.command == "pdftoppm":
        print(json.dumps(pdftoppm(args.arguments[0], args.arguments[1])))
        return
    if args.command == "search":
        print(json.dumps(search_latency(int(args.arguments[0]))))
        return
    if shutil.which("pdftoppm") is None:
        sys.exit("pdftoppm is missing: make bench-pdf installs poppler-utils")
    print(json.dumps(run(args.quick), indent=2))


def run(quick: bool) -> dict[str, Any]:
    from local.embedded_aws import READY_FILE
    from local.environment import ROOT, free_port, service_environment

    work = Path(tempfile.gettempdir()) / "vellum-bench-pdf"
    shutil.rmtree(work, ignore_errors=True)
    (work / "state").mkdir(parents=True)
    port = free_port()
    env = service_environment(port, free_port(), work / "state")
    env["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    env["VELLUM_MAX_PAGES"] = "10000"
    embedded = ["local.embedded_aws", "--port", str(port), "--state", str(work / "state")]
    aws = subprocess.Popen(
        ["taskset", "-c", AWS_CORE, sys.executable, "-m", *embedded],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    results: dict[str, Any] = {
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "documents": {},
    }
    try:
        deadline = time.monotonic() + 120
        while not (work / "state" / READY_FILE).exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the embedded AWS did not start")
            time.sleep(0.2)
        documents = {
            "text PDF": (text_pdf(30 if quick else 300), "text.pdf"),
            "scanned PDF": (scanned_pdf(10 if quick else 50), "scanned.pdf"),
        }
        for name, (content, filename) in documents.items():
            path = work / filename
            path.write_bytes(content)
            uploaded = subprocess.run(
                [sys.executable, "-m", "bench.iiif.ingest", "upload", str(path)],
                cwd=ROOT, env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            file_id = json.loads(uploaded.stdout.strip().splitlines()[-1])["file_id"]
            vellum = _run("ingest", file_id, env=env)
            results["documents"][name] = {
                "bytes": len(content),
                "vellum": vellum,
                "vellum_render_only": _run("render", str(path), str(vellum["pages"]), env=env),
                "pdftoppm": _peer(path, work, env),
            }
            print(f"{name}: {json.dumps(results['documents'][name])}", file=sys.stderr, flush=True)
        results["search"] = _run("search", "200" if quick else "1000", env=env)
    finally:
        aws.kill()
        aws.wait()
    return results


if __name__ == "__main__":
    main()
