"""The IIIF links an image's JSON carries, so clients never build IIIF URLs themselves."""

from __future__ import annotations


def iiif_links(base: str, version_id: str, thumbnail: list[int] | None) -> dict[str, str]:
    service = f"{base}/iiif/3/{version_id}"
    links = {"iiif_base": service, "iiif_info": f"{service}/info.json"}
    # A thumbnail ingest stored, asked for by its exact size, is one small object to read.
    size = f"{thumbnail[0]},{thumbnail[1]}" if thumbnail else "!256,256"
    links["thumbnail"] = f"{service}/full/{size}/0/default.jpg"
    return links
