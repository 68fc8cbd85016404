"""Audio and video facts and stills (FFmpeg through PyAV), read through a ranged file that fetches
only the blocks FFmpeg asks for."""

from __future__ import annotations

import pytest

from chalicelib.ingest import timed_media
from tests import samples


def ranged(data: bytes) -> timed_media.RangedFile:
    return timed_media.RangedFile(len(data), lambda start, length: data[start : start + length])


def test_describing_a_long_sound_reads_its_header_not_its_samples() -> None:
    data = samples.tone(seconds=60, rate=44_100)  # 5.3 MB of samples
    source = ranged(data)

    facts = timed_media.describe(source)

    assert (facts.kind, facts.duration, facts.sample_rate) == ("audio", 60.0, 44_100)
    assert source.fetched == timed_media.BLOCK < len(data) / 5


def test_a_ranged_file_reads_what_it_is_asked_for_wherever_it_seeks() -> None:
    data = bytes(range(256)) * 20_000  # 5 MB, each byte its offset modulo 256
    source = ranged(data)

    source.seek(-10, 2)
    assert source.read(10) == data[-10:]
    source.seek(timed_media.BLOCK - 3)
    assert source.read(6) == data[timed_media.BLOCK - 3 : timed_media.BLOCK + 3]  # across two blocks
    assert source.read(0) == b""
    last_block = len(data) - 4 * timed_media.BLOCK
    assert source.fetched == last_block + 2 * timed_media.BLOCK  # the last block, then the first two


def test_a_video_s_poster_is_its_frame_near_the_start_and_its_strip_spans_it() -> None:
    source = ranged(samples.video(seconds=5, size=(160, 120)))
    facts = timed_media.describe(source)

    stills = timed_media.stills(source, facts)

    assert stills["poster"].size == (160, 120)
    assert stills["poster"].getpixel((80, 60)) == pytest.approx(samples.second_colour(0), abs=30)
    assert stills["strip"].size == (8 * 240, 180)  # 180 px high, each frame its width in proportion
    last = stills["strip"].getpixel((7 * 240 + 120, 90))
    assert last == pytest.approx(samples.second_colour(4), abs=30)  # its last eighth is second 4


@pytest.mark.parametrize("data", [b"", b"\x00" * 4096, b"ID3\x04" + b"\xff" * 100])
def test_bytes_that_are_no_sound_or_video_are_refused_with_a_reason(data: bytes) -> None:
    with pytest.raises(timed_media.Refused):
        timed_media.describe(ranged(data))
