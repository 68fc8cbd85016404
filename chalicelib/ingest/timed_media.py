"""Audio and video: their facts, and the still images a viewer shows of them (FFmpeg, via PyAV).

Ingest reads a file's duration, dimensions and codecs from its container, reading only the bytes
FFmpeg asks for (ranged reads from S3: an MP4's index may lie at its end, and a poster frame needs
only its own group of pictures). Of a video it makes a poster frame and a strip of frames across its
length; of a sound, a picture of its waveform. Each is then made into an IIIF image of its own,
``{version}~poster``, ``{version}~strip`` or ``{version}~waveform`` (chalicelib.iiif.identifiers).

FFmpeg parses whatever it is handed, so like PDFium it runs in a child process
(chalicelib.ingest.sandbox): ``python -m chalicelib.ingest.timed_media SIZE FOLDER``, reading
the file through its parent, which alone may read S3.
"""

from __future__ import annotations

import io
import itertools
import json
import sys
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

BLOCK = 1024 * 1024  # bytes a ranged read fetches at once
BLOCKS_KEPT = 32
POSTER_AT = 0.1  # of the duration: past fades in from black, still near the start
POSTER_AT_MOST_SECONDS = 10.0
STRIP_FRAMES = 8
STRIP_HEIGHT = 180
WAVEFORM_SIZE = (1600, 400)
WAVEFORM_COLOUR = (40, 90, 160)
WAVEFORM_RATE = 4000  # samples a second the waveform is drawn from
MAX_SECONDS = 24 * 3600  # a longer duration is a damaged or hostile header


class Refused(ValueError):
    """The file is not audio or video that FFmpeg can read, with the reason a person can act on."""


class RangedFile(io.RawIOBase):
    """A file read in blocks by ``read_range(start, length)``, the blocks kept a while: FFmpeg's
    small reads and seeks cost a few ranged GETs, and bytes it never asks for are never fetched."""

    def __init__(self, size: int, read_range: Callable[[int, int], bytes]) -> None:
        self.size, self.read_range = size, read_range
        self.position = 0
        self.blocks: OrderedDict[int, bytes] = OrderedDict()
        self.fetched = 0  # bytes read from the store

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self.size - self.position)
        done = 0
        while done < wanted:
            index, skip = divmod(self.position, BLOCK)
            block = self._block(index)[skip : skip + wanted - done]
            buffer[done : done + len(block)] = block
            done += len(block)
            self.position += len(block)
        return done

    def _block(self, index: int) -> bytes:
        if index in self.blocks:
            self.blocks.move_to_end(index)
            return self.blocks[index]
        start = index * BLOCK
        block = self.read_range(start, min(BLOCK, self.size - start))
        self.fetched += len(block)
        self.blocks[index] = block
        if len(self.blocks) > BLOCKS_KEPT:
            self.blocks.popitem(last=False)
        return block


@dataclass(frozen=True)
class MediaFacts:
    kind: str  # "video" or "audio"
    duration: float  # seconds
    container: str  # FFmpeg's name of the format, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    width: int | None = None  # a video's, as displayed (its rotation applied)
    height: int | None = None
    video_codec: str | None = None
    frame_rate: float | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    bit_rate: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def _open(source: Any) -> Any:
    import av

    if hasattr(source, "seek"):
        source.seek(0)  # opened again for each still: FFmpeg reads its header from the start
    try:
        return av.open(source, mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise Refused(
            "the file cannot be read as audio or video: its data is damaged or of no known format"
        ) from exc


def describe(source: Any) -> MediaFacts:
    container = _open(source)
    video = next(iter(container.streams.video), None)
    audio = next(iter(container.streams.audio), None)
    if video is None and audio is None:
        raise Refused("the file holds neither sound nor pictures")
    duration = _duration(container, video or audio)
    if not 0 < duration <= MAX_SECONDS:
        raise Refused("the file does not say how long it lasts, or says more than a day")
    facts: dict[str, Any] = {
        "kind": "video" if video is not None else "audio",
        "duration": round(duration, 3),
        "container": container.format.name,
        "bit_rate": container.bit_rate or None,
    }
    if video is not None:
        width, height = video.codec_context.width, video.codec_context.height
        first = next(container.decode(video), None)  # its display matrix: a phone's upright video
        if first is not None and first.rotation % 180:
            width, height = height, width
        rate = video.average_rate or video.guessed_rate
        facts |= {
            "width": width,
            "height": height,
            "video_codec": video.codec_context.name,
            "frame_rate": round(float(rate), 3) if rate else None,
        }
    if audio is not None:
        facts |= {
            "audio_codec": audio.codec_context.name,
            "sample_rate": audio.codec_context.sample_rate,
            "channels": audio.codec_context.channels,
        }
    container.close()
    return MediaFacts(**facts)


def _duration(container: Any, stream: Any) -> float:
    if container.duration:
        return float(container.duration) / 1_000_000  # AV_TIME_BASE
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return 0.0


def frame_at(source: Any, seconds: float) -> Image.Image | None:
    """The first frame shown at or after ``seconds``, upright; None if there is none."""
    container = _open(source)
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    container.seek(int(seconds * 1_000_000), any_frame=False, backward=True)  # the keyframe before
    try:
        for frame in container.decode(stream):
            if frame.time is None or frame.time >= seconds - 1 / 1000:
                return _upright(frame.to_image(), frame.rotation)
    finally:
        container.close()
    return None


def _upright(image: Image.Image, rotation: float) -> Image.Image:
    # A display matrix's rotation is counter-clockwise; Pillow's rotate turns counter-clockwise too.
    return image.rotate(rotation, expand=True) if round(rotation) % 360 else image


def poster(source: Any, facts: MediaFacts) -> Image.Image:
    frame = frame_at(source, min(facts.duration * POSTER_AT, POSTER_AT_MOST_SECONDS))
    if frame is None:
        frame = frame_at(source, 0)
    if frame is None:
        raise Refused("the video has no picture that can be decoded")
    return frame


def strip(source: Any, facts: MediaFacts) -> Image.Image:
    """``STRIP_FRAMES`` frames across the video's length, side by side, ``STRIP_HEIGHT`` high."""
    assert facts.width and facts.height
    width = max(1, round(facts.width * STRIP_HEIGHT / facts.height))
    canvas = Image.new("RGB", (width * STRIP_FRAMES, STRIP_HEIGHT))
    for index in range(STRIP_FRAMES):
        frame = frame_at(source, facts.duration * (index + 0.5) / STRIP_FRAMES)
        if frame is not None:
            canvas.paste(frame.convert("RGB").resize((width, STRIP_HEIGHT)), (index * width, 0))
    return canvas


def waveform(source: Any, facts: MediaFacts) -> Image.Image:
    """The sound's loudness across its length: each column the peak of its share of the samples,
    mixed to one channel at a low rate (enough for a picture, and fast to scan in C)."""
    import av

    columns, height = WAVEFORM_SIZE
    per_column = max(1.0, facts.duration * WAVEFORM_RATE / columns)
    peaks = [0] * columns
    position = 0  # samples so far
    container = _open(source)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=WAVEFORM_RATE)
    # Frame by frame (an hour of sound decoded at once would be gigabytes); None flushes the resampler.
    for frame in itertools.chain(container.decode(container.streams.audio[0]), [None]):
        for mixed in resampler.resample(frame):
            samples = array("h", bytes(mixed.planes[0])[: 2 * mixed.samples])
            start = 0
            while start < len(samples):
                column = min(columns - 1, int(position / per_column))
                end = min(len(samples), start + max(1, int((column + 1) * per_column) - position))
                chunk = samples[start:end]
                peaks[column] = max(peaks[column], max(chunk), -min(chunk))
                position += end - start
                start = end
    container.close()
    image = Image.new("RGB", WAVEFORM_SIZE, "white")
    draw = ImageDraw.Draw(image)
    middle = height / 2
    for column, peak in enumerate(peaks):
        reach = max(1.0, min(1.0, peak / 32768) * (middle - 4))
        draw.line((column, middle - reach, column, middle + reach), fill=WAVEFORM_COLOUR)
    return image


def stills(source: Any, facts: MediaFacts) -> dict[str, Image.Image]:
    """The still images ingest makes of it, by name."""
    if facts.kind == "video":
        return {"poster": poster(source, facts), "strip": strip(source, facts)}
    return {"waveform": waveform(source, facts)}


def main(argv: list[str]) -> int:
    """The child's entry: ``SIZE FOLDER``; says its facts, then each still it has written. It
    reads the file through its parent (chalicelib.ingest.sandbox.read_from_parent)."""
    from chalicelib.ingest.sandbox import limit_self, read_from_parent

    limit_self()
    size, folder = int(argv[0]), Path(argv[1])
    source = RangedFile(size, read_from_parent)
    try:
        facts = describe(source)
        _say({"facts": facts.to_json()})
        for name, image in stills(source, facts).items():
            image.convert("RGB").save(folder / f"{name}.png", format="PNG", compress_level=1)
            _say({"still": name})
        _say({"fetched": source.fetched})
    except Refused as refusal:
        _say({"refused": str(refusal)})
    return 0


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
