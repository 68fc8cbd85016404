"""Audio and video at ingest: their facts from FFmpeg (in a child process, by ranged reads), and
still images made of them (a video's poster and strip, a sound's waveform) as IIIF images."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from chalice.test import Client
from PIL import Image

from chalicelib.settings import get_settings
from tests import samples
from tests.helpers import call, complete, drain, initiate, new_bucket, object_path, put


def landed(api: Client, pump: Any, content: bytes, key: str) -> dict[str, Any]:
    bucket = new_bucket(api, public_read=True)
    drain(pump)
    upload = initiate(api, bucket, len(content), key=key, content_type="application/octet-stream")
    put(upload["parts"][0], content)
    complete(api, bucket, upload["id"], key=key)
    drain(pump)
    return call(api, "get", f"{object_path(bucket, key)}?meta")[1]  # type: ignore[no-any-return]


def picture(api: Client, url: str) -> Image.Image:
    response = api.http.get(url.split("localhost", 1)[1])
    assert response.status_code == 200, response.body
    return Image.open(io.BytesIO(response.body)).convert("RGB")


def close(colour: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(colour, expected, strict=True))


def test_a_video_is_described_and_gets_a_poster_and_a_strip(api: Client, pump: Any) -> None:
    meta = landed(api, pump, samples.video(seconds=4, size=(320, 240)), "lecture.mp4")

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
    meta = landed(api, pump, samples.tone(seconds=2.0, format=format), f"interview.{format}")

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

    meta = landed(api, pump, broken, "broken.mp4")

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

    meta = landed(api, pump, samples.video(), "loop.mp4")

    assert (meta["ingest"]["state"], meta["ingest"]["reason"]) == ("failed", stills._GAVE_UP)
