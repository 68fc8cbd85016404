"""The HS256 secret shared by the local stack and the dev tokens it accepts."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

SECRET_FILE_NAME = "token-secret"  # noqa: S105  (a file name, not a secret)
# The settings refuse a shorter VELLUM_LOCAL_TOKEN_SECRET.
MIN_SECRET_LENGTH = 32


def load_or_create_local_secret(state_dir: Path) -> str:
    """The secret in ``state_dir/token-secret``, created (mode 0600) on first use."""
    path = state_dir / SECRET_FILE_NAME
    if not path.exists():
        _create_secret_file(path)
    secret = path.read_text().strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"{path} holds under {MIN_SECRET_LENGTH} characters; delete it to get a new one")
    return secret


def _create_secret_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under a temporary name (mkstemp creates it 0600), then linked into place:
    # the launcher and `python -m local.token` may race, and neither may read a half-written file
    # or overwrite the secret the other already handed out.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{SECRET_FILE_NAME}.")
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
        # If the other process won, its secret is the one.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
