"""ZIP archives: the tree of their entries, read from the central directory by range reads.

The archive is never decompressed, nor read whole: Python's zipfile (ZIP64 included) reads the end
of the file and the central directory through ``RangeFile``, which fetches only the ranges asked
for and refuses to read more than ``preview_zip_max_directory_bytes`` in all. Names without the
UTF-8 flag are decoded as their bytes say (old tools wrote the system's code page), not as CP437.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass, field
from html import escape

from chalicelib.previews.page import human_size, message
from chalicelib.previews.registry import Page, PreviewFile, Reader, previewer
from chalicelib.settings import get_settings

ARCHIVE_EXTENSIONS = frozenset(
    {"zip", "jar", "war", "epub", "docx", "xlsx", "pptx", "odt", "ods", "odp", "apk", "whl"}
)
UTF8_FLAG = 0x800
# What tools wrote names in before the UTF-8 flag: the system's OEM or ANSI code page. Detecting
# among these only is reliable even on a few short names (among all encodings it is not).
LEGACY_NAME_ENCODINGS = ["cp437", "cp850", "cp1252", "cp866", "cp1251", "shift_jis", "gbk", "big5", "euc_kr"]


class TooMuchToRead(Exception):
    pass


class RangeFile(io.RawIOBase):
    """A read-only, seekable file over a ``Reader``, within a budget of bytes."""

    def __init__(self, reader: Reader, budget: int) -> None:
        self._reader, self._position, self._budget = reader, 0, budget

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._reader.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        length = min(len(buffer), self._reader.size - self._position)
        if length <= 0:
            return 0
        if length > self._budget:
            raise TooMuchToRead
        data = self._reader.read(self._position, length)
        self._budget -= len(data)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


@dataclass
class Folder:
    folders: dict[str, Folder] = field(default_factory=dict)
    files: list[tuple[str, zipfile.ZipInfo]] = field(default_factory=list)


def _names(infos: list[zipfile.ZipInfo]) -> dict[int, str]:
    """Each entry's name: UTF-8 when flagged (or valid), else in the encoding detected over all of them."""
    raw = {id(info): info.filename.encode("cp437") for info in infos if not info.flag_bits & UTF8_FLAG}
    names = {id(info): info.filename for info in infos if info.flag_bits & UTF8_FLAG}
    undecided = {}
    for key, data in raw.items():
        try:
            names[key] = data.decode("utf-8")
        except UnicodeDecodeError:
            undecided[key] = data
    if undecided:
        from charset_normalizer import from_bytes

        best = from_bytes(b"\n".join(undecided.values()), cp_isolation=LEGACY_NAME_ENCODINGS).best()
        encoding = best.encoding if best is not None else "cp437"
        for key, data in undecided.items():
            names[key] = data.decode(encoding, errors="replace")
    return names


def _tree(infos: list[zipfile.ZipInfo], names: dict[int, str]) -> Folder:
    root = Folder()
    for info in infos:
        *parents, leaf = names[id(info)].strip("/").split("/")
        folder = root
        for part in parents:
            folder = folder.folders.setdefault(part, Folder())
        if info.is_dir():
            folder.folders.setdefault(leaf, Folder())
        else:
            folder.files.append((leaf, info))
    return root


def _render(folder: Folder) -> str:
    items = [
        f'<li class="folder"><span>{escape(name)}/</span>{_render(child)}</li>'
        for name, child in sorted(folder.folders.items())
    ]
    for name, info in folder.files:
        year, month, day, hour, minute, _ = info.date_time
        nested = (
            " · archive, not opened"
            if posixpath.splitext(name)[1].lower().lstrip(".") in ARCHIVE_EXTENSIONS
            else ""
        )
        items.append(
            f"<li><span>{escape(name)}</span> <small>{human_size(info.file_size)} · "
            f"{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}{nested}</small></li>"
        )
    return f"<ul>{''.join(items)}</ul>" if items else ""


@previewer("zip", extensions=ARCHIVE_EXTENSIONS, mimetypes=("application/zip",))
def preview_zip(file: PreviewFile, reader: Reader) -> Page:
    settings = get_settings()
    source = io.BufferedReader(RangeFile(reader, settings.preview_zip_max_directory_bytes), 64 * 1024)
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
    except TooMuchToRead:
        return message("No preview: the archive lists too many entries to show.")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        return message(f"No preview: this is not a readable ZIP archive ({exc}).")
    if not infos:
        return message("The archive is empty.")
    shown = infos[: settings.preview_zip_max_entries]
    notes: tuple[str, ...] = ()
    if len(infos) > len(shown):
        notes = (f"Showing {len(shown):,} of the archive's {len(infos):,} entries.",)
    body = f'<nav class="tree">{_render(_tree(shown, _names(shown)))}</nav>'
    return Page(
        body=body,
        styles=(".tree ul{list-style:none;padding-left:1.2rem}.tree small{color:#666}",),
        notes=notes,
    )
