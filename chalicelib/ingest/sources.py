"""A file's bytes on the function's disk, kept for its next message.

A multi-page file is read by every batch of its pages, and a warm function often gets the next
batch of the same file: the copy it downloaded for the last one serves again. A file id names
one upload's bytes for good, so a copy under its id never goes stale. Only the latest file is
kept: Lambda's /tmp is small.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from chalicelib.files import storage

_FOLDER = Path(tempfile.gettempdir()) / "vellum-sources"


def local_copy(file_id: str, s3_key: str) -> Path:
    """The file's bytes in a local file, downloaded unless the last call was for the same file."""
    path = _FOLDER / file_id
    if path.is_file():
        return path
    shutil.rmtree(_FOLDER, ignore_errors=True)
    _FOLDER.mkdir(parents=True)
    partial = _FOLDER / f"{file_id}.partial"
    storage.download(s3_key, partial)
    partial.rename(path)  # whole or absent: an interrupted download never passes for the file
    return path
