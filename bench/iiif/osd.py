"""The tile requests OpenSeadragon makes for a IIIF image service, from its info.json.

A port of OpenSeadragon 6.1.1's ``IIIFTileSource`` (the constructor's level set-up,
``getNumTiles`` and ``getTileUrl``), so each server is walked with the grid, scale factors, sizes
and preferred format its own info.json advertises, exactly as the viewer would walk it when a
reader zooms from the whole image down to full resolution and pans over every tile.
"""

# The benchmark starts the servers it measures, with commands it builds itself.
# ruff: noqa: S603, S607

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# OpenSeadragon's FILEFORMATS: what it will pick from preferredFormats.
SUPPORTED_FORMATS = {"avif": True, "bmp": False, "jpeg": True, "jpg": True, "png": True, "tif": False,
                     "wdp": False, "webp": True}  # fmt: skip


@dataclass(frozen=True)
class TileRequest:
    path: str  # the URL's path (and query), on the service's host
    level: int  # OpenSeadragon's level: 0 is the smallest
    scale_factor: int
    expected: tuple[int, int] | None  # the size the request spells out, when it spells out both sides


def _round(value: float) -> int:
    # JavaScript's Math.round: halves go up.
    return math.floor(value + 0.5)


def version_of(info: dict[str, Any]) -> int:
    context = info.get("@context", "")
    contexts = context if isinstance(context, list) else [context]
    if any("/3/context.json" in c for c in contexts):
        return 3
    if any("/2/context.json" in c for c in contexts):
        return 2
    return 1


def tile_format(info: dict[str, Any], forced: str | None = None) -> str:
    """The format OpenSeadragon asks for: the first preferred format it supports, else jpg."""
    if forced:
        return forced
    for candidate in info.get("preferredFormats", []):
        if SUPPORTED_FORMATS.get(candidate.lower()):
            return str(candidate)
    return "jpg"


def _is_level0(info: dict[str, Any]) -> bool:
    profile = info.get("profile")
    first = profile[0] if isinstance(profile, list) and profile else profile
    return isinstance(first, str) and ("level0" in first)


def service_id(info: dict[str, Any]) -> str:
    return str(info.get("@id") or info.get("id"))


def tile_requests(info: dict[str, Any], forced_format: str | None = None) -> list[TileRequest]:
    """Every tile of every level, smallest level first (zooming in), rows then columns."""
    version = version_of(info)
    width, height = int(info["width"]), int(info["height"])
    tiles = info.get("tiles") or []
    if not tiles:
        raise ValueError("this benchmark walks tiled services only (info.json has no tiles)")
    per_factor: dict[int, tuple[int, int]] = {}
    if len(tiles) == 1:
        tile_w = int(tiles[0]["width"])
        tile_h = int(tiles[0].get("height") or tile_w)
        scale_factors = [int(f) for f in tiles[0]["scaleFactors"]]
    else:
        scale_factors = []
        for entry in tiles:
            for factor in entry["scaleFactors"]:
                scale_factors.append(int(factor))
                per_factor[int(factor)] = (int(entry["width"]), int(entry.get("height") or entry["width"]))
        tile_w = tile_h = int(tiles[0]["width"])
    max_level = _round(math.log2(max(scale_factors)))

    level_sizes: list[tuple[int, int]] | None = None
    sizes = info.get("sizes") or []
    if sizes:
        ordered = sorted(((int(s["width"]), int(s["height"])) for s in sizes), key=lambda s: s[0])
        if ordered[-1][0] < width and ordered[-1][1] < height:
            ordered.append((width, height))
        if len(ordered) == max_level + 1:
            matches = True
            if len(scale_factors) == len(ordered):
                for i, (w, h) in enumerate(ordered):
                    factor = scale_factors[len(ordered) - i - 1]
                    if _round(width / w) != factor or _round(height / h) != factor:
                        matches = False
                        break
            if matches:
                level_sizes = ordered

    fmt = tile_format(info, forced_format)
    quality = ("native" if version == 1 else "default") + "." + fmt
    base = service_id(info)
    prefix = "/" + base.split("://", 1)[1].split("/", 1)[1] if "://" in base else base
    requests: list[TileRequest] = []
    for level in range(max_level + 1):
        factor = 2 ** (max_level - level)
        scale = 0.5 ** (max_level - level)
        tw, th = per_factor.get(factor, (tile_w, tile_h))
        if level_sizes:
            level_w, level_h = level_sizes[level]
            columns, rows = math.ceil(level_w / tw), math.ceil(level_h / th)
        else:
            level_w, level_h = math.ceil(width * scale), math.ceil(height * scale)
            columns, rows = math.ceil(scale * width / tw), math.ceil(scale * height / th)
        region_w, region_h = _round(tw / scale), _round(th / scale)
        for y in range(rows):
            for x in range(columns):
                expected: tuple[int, int] | None
                if level_w < tw and level_h < th:
                    region = "full"
                    if version == 2 and level_w == width:
                        size, expected = "full", (width, height)
                    elif version == 3 and level_w == width and level_h == height:
                        size, expected = "max", (width, height)
                    elif version == 3:
                        size, expected = f"{level_w},{level_h}", (level_w, level_h)
                    else:
                        size, expected = f"{level_w},", None
                else:
                    tx, ty = x * region_w, y * region_h
                    tile_region_w, tile_region_h = min(region_w, width - tx), min(region_h, height - ty)
                    if x == 0 and y == 0 and tile_region_w == width and tile_region_h == height:
                        region = "full"
                    else:
                        region = f"{tx},{ty},{tile_region_w},{tile_region_h}"
                    size_w, size_h = min(tw, level_w - x * tw), min(th, level_h - y * th)
                    expected = (size_w, size_h)
                    if version == 2 and size_w == width:
                        size = "full"
                    elif version == 3 and size_w == width and size_h == height:
                        size = "max"
                    elif _is_level0(info) and version < 3:
                        size, expected = f"{size_w},", None
                    else:
                        size = f"{size_w},{size_h}"
                requests.append(TileRequest(f"{prefix}/{region}/{size}/0/{quality}", level, factor, expected))
    return requests


def check_against_openseadragon(
    info: dict[str, Any], requests: list[TileRequest], forced_format: str | None, node_dir: Path
) -> str:
    """Ask OpenSeadragon itself (node/osd_tiles.js) for the session's URLs and insist they are these;
    return its version."""
    document = dict(info)
    if forced_format:
        # A viewer set up for one format: what OpenSeadragon asks when no preferred format overrides it.
        document.pop("preferredFormats", None)
        document["tileFormat"] = forced_format
    done = subprocess.run(
        ["node", str((node_dir / "osd_tiles.js").resolve())],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        check=True,
        cwd=node_dir,
    )
    answer = json.loads(done.stdout)
    theirs = [url.split("://", 1)[1].split("/", 1)[1] for url in answer["urls"]]
    ours = [request.path.lstrip("/") for request in requests]
    if theirs != ours:
        first = next((pair for pair in zip(theirs, ours, strict=False) if pair[0] != pair[1]), None)
        raise AssertionError(
            f"the walker disagrees with OpenSeadragon {answer['version']}: {len(theirs)} vs {len(ours)} "
            f"tiles, first difference {first}"
        )
    return str(answer["version"])
