"""Audio and video at ingest: their facts from FFmpeg (in a child process, by ranged reads), and
still images made of them (a video's poster and strip, a sound's waveform) as IIIF images."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
import requests
from chalice.test import Client
from PIL import Image

from chalicelib.files.keys import encode_key
from chalicelib.settings import get_settings
from tests import samples
from tests.helpers import (
    ALICE,
    call,
    create,
    drain,
    ingested,
    png,
    upload,
    valid_manifest,
)


def picture(api: Client, url: str) -> Image.Image:
    response = api.http.get(url.split("localhost", 1)[1])
    assert response.status_code == 200, response.body
    return Image.open(io.BytesIO(response.body)).convert("RGB")


def close(colour: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(colour, expected, strict=True))


def test_a_video_is_described_and_gets_a_poster_and_a_strip(api: Client, pump: Any) -> None:
    _, meta = ingested(api, pump, samples.video(seconds=4, size=(320, 240)), "lecture.mp4")

    assert (meta["ingest"]["state"], meta["ingest"]["type"]) == ("done", "video/mp4")
    media = meta["ingest"]["media"]
    assert (media["kind"], media["duration"], media["width"], media["height"]) == ("video", 4.0, 320, 240)
    assert (media["video_codec"], media["frame_rate"]) == ("h264", 10.0)
    # The poster is a frame near the start (second 0 is red): the object's thumbnail.
    thumbnail = picture(api, meta["links"]["thumbnail"])
    assert close(thumbnail.getpixel((10, 10)), samples.second_colour(0))  # type: ignore[arg-type]
    # The strip: eight frames across the four seconds, two of each second's colour.
    info = json.loads(api.http.get(meta["links"]["iiif_stills"]["strip"].split("localhost", 1)[1]).body)
    assert (info["width"], info["height"]) == (8 * 240, 180)
    strip = picture(api, f"{info['id']}/full/max/0/default.png")
    for index in range(8):
        colour = strip.getpixel((index * 240 + 120, 90))
        assert close(colour, samples.second_colour(index // 2)), (index, colour)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("format", "mimetype", "codec"), [("wav", "audio/wav", "pcm_s16le"), ("mp3", "audio/mpeg", "mp3float")]
)
def test_a_sound_is_described_and_gets_a_waveform(
    api: Client, pump: Any, format: str, mimetype: str, codec: str
) -> None:
    _, meta = ingested(api, pump, samples.tone(seconds=2.0, format=format), f"interview.{format}")

    assert (meta["ingest"]["state"], meta["ingest"]["type"]) == ("done", mimetype)
    media = meta["ingest"]["media"]
    assert (media["kind"], media["audio_codec"], media["sample_rate"], media["channels"]) == (
        "audio",
        codec,
        8000,
        1,
    )
    assert media["duration"] == pytest.approx(2.0, abs=0.2)
    assert "poster" not in meta["links"]["iiif_stills"]
    # Silent first half, loud second half: ink only on the right, from edge to edge.
    waveform = picture(
        api, meta["links"]["iiif_stills"]["waveform"].replace("/info.json", "/full/max/0/default.png")
    )
    quiet = waveform.crop((50, 0, 650, 400)).convert("L")
    loud = waveform.crop((900, 0, 1400, 400)).convert("L")
    assert quiet.crop((0, 0, 600, 150)).getextrema()[0] > 240  # nothing above the middle line
    assert loud.crop((0, 40, 500, 60)).getextrema()[1] < 200  # ink near the top
    assert api.http.get(meta["links"]["thumbnail"].split("localhost", 1)[1]).status_code == 200


def test_a_file_ffmpeg_cannot_read_fails_once_with_its_reason(api: Client, pump: Any) -> None:
    broken = samples.video()[:64] + b"\x00" * 2048  # an MP4's header, and then nothing

    _, meta = ingested(api, pump, broken, "broken.mp4")

    assert meta["ingest"]["state"] == "failed"
    assert meta["ingest"]["reason"].startswith("the file cannot be read as audio or video")
    assert pump.poll_once(wait_seconds=0) == 0


def test_a_file_ffmpeg_never_finishes_with_is_refused_in_bounded_time(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.ingest import stills

    changed = get_settings().model_copy(update={"media_step_seconds": 1})
    monkeypatch.setattr(stills, "get_settings", lambda: changed)
    monkeypatch.setattr(stills, "_MODULE", "tests.children.hang")  # as FFmpeg looping on a hostile file

    _, meta = ingested(api, pump, samples.video(), "loop.mp4")

    assert (meta["ingest"]["state"], meta["ingest"]["reason"]) == ("failed", stills._GAVE_UP)


def test_a_record_s_sound_and_video_are_canvases_with_their_duration_and_thumbnail(
    api: Client, pump: Any
) -> None:
    drain(pump)
    record = create(api, {"title": "Oral history"})
    upload(api, record, "portrait.png", png(400, 300))
    upload(api, record, "interview.mp4", samples.video(seconds=4, size=(320, 240)))
    upload(api, record, "interview.wav", samples.tone(seconds=2.0))
    call(api, "post", f"/records/{record['id']}/publish")
    drain(pump)

    manifest = json.loads(api.http.get(f"/iiif/presentation/{record['id']}/manifest").body)

    valid_manifest(manifest)
    _, video, sound = manifest["items"]
    assert (video["duration"], video["width"], video["height"]) == (4.0, 320, 240)
    body = video["items"][0]["items"][0]["body"]
    assert (body["type"], body["format"], body["duration"], body["width"]) == ("Video", "video/mp4", 4.0, 320)
    assert body["id"].endswith(f"/records/{record['id']}/files/{encode_key('interview.mp4')}/content")
    assert "width" not in sound and sound["duration"] == pytest.approx(2.0, abs=0.2)
    assert sound["items"][0]["items"][0]["body"]["type"] == "Sound"
    # Their thumbnails are the poster and the waveform, IIIF images that answer.
    assert "~poster/" in video["thumbnail"][0]["id"] and "~waveform/" in sound["thumbnail"][0]["id"]
    for canvas in (video, sound):
        assert api.http.get(canvas["thumbnail"][0]["id"].split("localhost", 1)[1]).status_code == 200
    # The file itself plays: its content answers with a redirect to S3, which serves ranges.
    status, _, headers = call(api, "get", body["id"].split("localhost", 1)[1], headers={})
    assert status == 302
    assert requests.get(headers["Location"], headers={"Range": "bytes=0-99"}, timeout=30).status_code == 206


def test_a_restricted_video_names_its_probe_and_its_poster_is_for_those_who_may_see_it(
    api: Client, pump: Any
) -> None:
    drain(pump)
    record = create(api, {"title": "Closed"}, access={"record": "public", "files": "restricted"})
    upload(api, record, "private.mp4", samples.video())
    call(api, "post", f"/records/{record['id']}/publish")
    drain(pump)

    [video] = json.loads(api.http.get(f"/iiif/presentation/{record['id']}/manifest").body)["items"]

    [probe] = video["items"][0]["items"][0]["body"]["service"]
    assert probe["type"] == "AuthProbeService2"
    probe_path = probe["id"].split("localhost", 1)[1]
    assert json.loads(api.http.get(probe_path).body)["status"] == 401
    assert json.loads(api.http.get(probe_path, headers=ALICE).body)["status"] == 200
    poster = video["thumbnail"][0]["id"].split("localhost", 1)[1]
    assert api.http.get(poster).status_code == 401
    assert api.http.get(poster, headers=ALICE).status_code == 200


@pytest.mark.parametrize(
    ("key", "content", "still"),
    [("clip.mp4", samples.video(), "poster"), ("talk.wav", samples.tone(), "waveform")],
)
def test_the_preview_page_s_player_shows_the_poster_or_the_waveform(
    api: Client, pump: Any, key: str, content: bytes, still: str
) -> None:
    drain(pump)
    record = create(api, {"title": "Clips"})
    upload(api, record, key, content)
    drain(pump)

    page = api.http.get(f"/records/{record['id']}/preview/{encode_key(key)}", headers=ALICE)

    html = page.body.decode()
    assert page.status_code == 200
    [shown] = re.findall(r'(?:poster|src)="([^"]*~' + still + r'[^"]*)"', html)
    assert ("<video" in html) == (still == "poster") and ("<audio" in html) == (still == "waveform")
    assert (
        api.http.get(shown.replace("&amp;", "&").split("localhost", 1)[1], headers=ALICE).status_code == 200
    )
