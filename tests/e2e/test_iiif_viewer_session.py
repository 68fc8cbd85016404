"""A viewer's session over HTTP on the embedded stack: info.json, then every tile at every zoom level,
requested as OpenSeadragon requests them from a IIIF 3.0 service."""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from PIL import Image

from chalicelib.files.keys import encode_key
from tests.stack import Stack, make_token

pytestmark = pytest.mark.e2e


def large_photo(width: int, height: int) -> bytes:
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def test_a_viewer_loads_every_tile_of_a_large_image(stack: Stack) -> None:
    auth = {"Authorization": f"Bearer {make_token(stack, 'viewer')}"}
    bucket = requests.post(f"{stack.api}/files", json={"public_read": True}, headers=auth, timeout=10).json()[
        "id"
    ]
    content = large_photo(3000, 2000)
    target = f"{stack.api}/files/{bucket}/{encode_key('photos/large.jpg')}"
    upload = requests.post(f"{target}?uploads", json={"size": len(content)}, headers=auth, timeout=10).json()
    [part] = upload["parts"]
    requests.put(part["url"], data=content, headers=part["headers"], timeout=30).raise_for_status()
    requests.post(f"{target}?uploadId={upload['id']}", headers=auth, timeout=30).raise_for_status()
    deadline = time.monotonic() + 60
    while "thumbnail" not in requests.get(f"{target}?meta", headers=auth, timeout=10).json()["ingest"]:
        assert time.monotonic() < deadline, "ingest did not make the image's derivatives"
        time.sleep(0.3)
    info_url = requests.get(f"{target}?meta", headers=auth, timeout=10).json()["links"]["iiif_info"]

    info = requests.get(info_url, timeout=10).json()  # anonymous, as a public viewer
    tile = info["tiles"][0]["width"]
    requests_made = []
    for scale in info["tiles"][0]["scaleFactors"]:
        span = tile * scale
        for y in range(0, info["height"], span):
            for x in range(0, info["width"], span):
                w, h = min(span, info["width"] - x), min(span, info["height"] - y)
                size = (-(-w // scale), -(-h // scale))
                requests_made.append(
                    (f"{info['id']}/{x},{y},{w},{h}/{size[0]},{size[1]}/0/default.jpg", size)
                )

    def fetch(request: tuple[str, tuple[int, int]]) -> tuple[int, tuple[int, int], tuple[int, int], str]:
        url, size = request
        response = requests.get(url, timeout=30)
        got = Image.open(io.BytesIO(response.content)).size if response.status_code == 200 else (0, 0)
        return response.status_code, got, size, response.headers.get("Cache-Control", "")

    with ThreadPoolExecutor(6) as pool:  # a viewer fetches tiles in parallel
        answers = list(pool.map(fetch, requests_made))

    assert info["tiles"][0]["scaleFactors"] == [1, 2, 4, 8]
    assert len(answers) == 24 + 6 + 2 + 1
    assert all(status == 200 and got == size for status, got, size, _ in answers), answers
    assert {cache for *_, cache in answers} == {"public, max-age=3600, s-maxage=31536000"}
