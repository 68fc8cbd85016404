"""Sample files the tests make, so that no binary fixture lives in the repository: PDFs with text,
encrypted and damaged ones, multi-page TIFFs."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass

from PIL import Image, ImageDraw

LETTER = (612, 792)  # points: US Letter


@dataclass(frozen=True)
class PdfPage:
    text: str
    size: tuple[int, int] = LETTER  # points
    rotate: int = 0  # the page's /Rotate
    at: tuple[int, int] = (72, 700)  # where the text starts, in points from the bottom left
    font_size: int = 24  # lines ("\n" in text) are 1.2 of it apart


def pdf(pages: list[PdfPage | str]) -> bytes:
    """A PDF whose pages show their text in Helvetica, extractable (WinAnsi: accents included)."""
    described = [page if isinstance(page, PdfPage) else PdfPage(page) for page in pages]
    kids = " ".join(f"{4 + 2 * index} 0 R" for index in range(len(described)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(described)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for index, page in enumerate(described):
        lines = [
            b"("
            + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("cp1252")
            + b") Tj"
            for line in page.text.split("\n")
        ]
        leading = round(page.font_size * 1.2)
        start = b"BT /F1 %d Tf %d TL %d %d Td " % (page.font_size, leading, *page.at)
        content = start + b" T* ".join(lines) + b" ET"
        width, height = page.size
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Rotate {page.rotate} "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * index} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    return pdf_file(objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF of these objects, numbered from 1 (the first the catalogue, /Root), with its xref."""
    document, offsets = b"%PDF-1.7\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(document))
        document += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    start = len(document)
    document += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    document += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    document += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, start)
    return document


def image_pdf(images: list[Image.Image], side: int) -> bytes:
    """A PDF of square pages ``side`` points wide, each showing one RGB image, losslessly
    (/FlateDecode), the whole page."""
    kids = " ".join(f"{3 + 3 * index} 0 R" for index in range(len(images)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(images)} >>".encode(),
    ]
    for index, image in enumerate(images):
        pixels = zlib.compress(image.convert("RGB").tobytes())
        content = b"q %d 0 0 %d 0 0 cm /Im1 Do Q" % (side, side)
        objects += [
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {side} {side}] /Resources << /XObject "
            f"<< /Im1 {4 + 3 * index} 0 R >> >> /Contents {5 + 3 * index} 0 R >>".encode(),
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
            b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
            % (*image.size, len(pixels))
            + pixels
            + b"\nendstream",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        ]
    return pdf_file(objects)


def encrypted_pdf(password: str = "secret") -> bytes:  # noqa: S107 - a sample's, not a credential
    """A PDF that opens only with a password (pypdf encrypts it: RC4, as old scanners made them)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf(["Confidential"]))))
    writer.encrypt(password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_declaring_pages(count: int) -> bytes:
    """A small PDF whose page tree names ``count`` pages (all one object): what a bomb looks like."""
    kids = " ".join(["4 0 R"] * count)
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
            b"<< >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        ]
    )


def tiff(sizes: list[tuple[int, int]]) -> bytes:
    """A multi-page TIFF, page ``n`` (from 1) filled with its own colour and a white disc."""
    frames = []
    for number, (width, height) in enumerate(sizes, start=1):
        frame = Image.new("RGB", (width, height), page_colour(number))
        ImageDraw.Draw(frame).ellipse(
            (width // 4, height // 4, width * 3 // 4, height * 3 // 4), fill="white"
        )
        frames.append(frame)
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    return buffer.getvalue()


def page_colour(number: int) -> tuple[int, int, int]:
    return ((70 * number) % 256, (140 + 50 * number) % 256, (200 - 60 * number) % 256)


def phone_photo(format: str, orientation: int = 6) -> bytes:
    """A 300 x 200 photo as a phone stores one taken upright (turned by ``orientation``), red with
    a blue square in its top left corner as stored, in "HEIF" (HEIC, via pillow-heif) or "AVIF"."""
    image = Image.new("RGB", (300, 200), (200, 30, 30))
    image.paste((0, 0, 255), (0, 0, 60, 60))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    if format == "HEIF":  # without registering pillow-heif's opener: Vellum must do that itself
        import pillow_heif

        pillow_heif.from_pillow(image).save(buffer, exif=exif.tobytes(), quality=95)
    else:
        image.save(buffer, format=format, exif=exif.tobytes(), quality=95)
    return buffer.getvalue()


def tone(seconds: float = 2.0, rate: int = 8000, format: str = "wav") -> bytes:
    """A sound that is silent for its first half and a loud 440 Hz tone for its second, as WAV
    (the standard library writes it) or MP3 (FFmpeg's LAME, through PyAV)."""
    import math
    import struct
    import wave

    count = int(seconds * rate)
    samples = [
        0 if n < count // 2 else int(30000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(count)
    ]
    if format == "wav":
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as audio:
            audio.setnchannels(1)
            audio.setsampwidth(2)
            audio.setframerate(rate)
            audio.writeframes(struct.pack(f"<{count}h", *samples))
        return buffer.getvalue()
    return _encoded_sound(samples, rate, format)


def _encoded_sound(samples: list[int], rate: int, format: str) -> bytes:
    import struct

    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=format) as container:
        stream = container.add_stream("libmp3lame" if format == "mp3" else "aac", rate=rate)
        stream.layout = "mono"
        step = 1152
        for start in range(0, len(samples), step):
            chunk = samples[start : start + step]
            frame = av.AudioFrame(format="s16", layout="mono", samples=len(chunk))
            frame.planes[0].update(struct.pack(f"<{len(chunk)}h", *chunk))
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def video(seconds: int = 4, size: tuple[int, int] = (320, 240), fps: int = 10) -> bytes:
    """An H.264 MP4 whose frames are second ``n``'s colour (``second_colour(n)``), full frame."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"g": str(fps)}  # a keyframe every second
        for index in range(seconds * fps):
            frame = av.VideoFrame.from_image(Image.new("RGB", size, second_colour(index // fps)))
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def second_colour(second: int) -> tuple[int, int, int]:
    return [(220, 40, 40), (40, 200, 60), (40, 60, 220), (230, 210, 40), (200, 60, 200)][second % 5]
