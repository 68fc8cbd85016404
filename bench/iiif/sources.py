"""The benchmark's source images, drawn deterministically with Pillow and saved as JPEG q90.

The same size always gives the same pixels (and, with the same Pillow, the same bytes): a smooth
colour field that varies across the whole image (so no two tiles are alike), a fine texture of
seeded pseudo-random grain and thin lines (so JPEG has detail to encode and decode, as in a
photograph or a scanned page), and a labelled grid every 500 px (so a person looking at a tile sees
where it comes from). Files are cached in the work folder under a name that carries the generator's
version, so a second run reuses them.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

GENERATOR_VERSION = 1
JPEG_QUALITY = 90
GRAIN_TILE = 1021  # a prime, so the grain's period lines up with neither the tile grids nor the 500 px grid
GRID = 500


@dataclass(frozen=True)
class Source:
    name: str  # "24mp", "300mp", ...
    width: int
    height: int
    path: Path  # the JPEG

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


def source_name(width: int, height: int) -> str:
    return f"{round(width * height / 1e6)}mp"


def ensure_source(work: Path, width: int, height: int) -> Source:
    path = work / f"source-{width}x{height}-v{GENERATOR_VERSION}.jpg"
    if not path.exists():
        image = draw(width, height)
        partial = path.with_suffix(".part")
        image.save(partial, format="JPEG", quality=JPEG_QUALITY)
        partial.replace(path)
    return Source(source_name(width, height), width, height, path)


def draw(width: int, height: int) -> Image.Image:
    rng = random.Random(f"vellum-bench-iiif-{width}x{height}")  # noqa: S311 (pixels, not secrets)
    # 1. A colour field: a small random image, blurred and enlarged, so colour drifts across the image.
    small = (max(8, width // 256), max(8, height // 256))
    field = Image.frombytes("RGB", small, rng.randbytes(small[0] * small[1] * 3))
    field = field.filter(ImageFilter.GaussianBlur(1.5)).resize((width, height), Image.Resampling.BILINEAR)
    # 2. Grain: a prime-sized tile of seeded noise, laid over the field at a fifth of its strength.
    grain_tile = Image.frombytes("L", (GRAIN_TILE, GRAIN_TILE), rng.randbytes(GRAIN_TILE * GRAIN_TILE))
    grain_tile = grain_tile.filter(ImageFilter.GaussianBlur(0.6)).convert("RGB")
    grain = Image.new("RGB", (width, height))
    for top in range(0, height, GRAIN_TILE):
        for left in range(0, width, GRAIN_TILE):
            grain.paste(grain_tile, (left, top))
    image = Image.blend(field, grain, 0.2)
    del field, grain
    # 3. Thin lines of random colours, denser than the grid: edges for the scalers to keep sharp.
    pen = ImageDraw.Draw(image)
    for _ in range(width * height // 40_000):
        x, y = rng.randrange(width), rng.randrange(height)
        dx, dy = rng.randint(-400, 400), rng.randint(-400, 400)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        pen.line((x, y, x + dx, y + dy), fill=colour, width=rng.choice((1, 1, 2, 3)))
    # 4. A labelled grid.
    for x in range(0, width, GRID):
        pen.line((x, 0, x, height), fill=(0, 0, 0), width=2)
    for y in range(0, height, GRID):
        pen.line((0, y, width, y), fill=(0, 0, 0), width=2)
    for y in range(0, height, GRID):
        for x in range(0, width, GRID):
            pen.text((x + 6, y + 6), f"{x},{y}", fill=(255, 255, 255))
    return image
