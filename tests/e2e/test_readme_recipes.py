"""The README's recipes, run as a reader would paste them, against the embedded stack."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from local.environment import ROOT
from tests.stack import Stack, make_token

pytestmark = pytest.mark.e2e


def readme_block(after: str) -> str:
    """The first shell block that follows the line starting with `after`."""
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"^{re.escape(after)}.*?\n```sh\n(.*?)\n```", text, re.MULTILINE | re.DOTALL)
    assert match, f"no shell block after {after!r} in the README"
    return match.group(1)


def test_the_curl_recipe_uploads_a_file_in_parts_and_downloads_it_whole(stack: Stack, tmp_path: Path) -> None:
    data = os.urandom(12 * 1024 * 1024 + 123)  # two full 5 MiB parts and a short last one
    (tmp_path / "big.bin").write_bytes(data)
    environment = {"PATH": "/usr/bin:/bin", "API": stack.api, "TOKEN": make_token(stack, "reader")}

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_block("With curl and jq")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["size"] == len(data)  # the completion's answer: the new version
    assert (tmp_path / "copy.bin").read_bytes() == data
