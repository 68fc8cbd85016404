"""The README's recipes, run as a reader would paste them, against the embedded stack."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import requests

from chalicelib.files.keys import encode_key
from local.environment import ROOT
from tests.stack import Stack, make_token

pytestmark = pytest.mark.e2e


def readme_block(after: str, language: str = "sh") -> str:
    """The first code block in this language that follows the line starting with `after`."""
    text = (ROOT / "README.md").read_text()
    found = rf"^{re.escape(after)}.*?\n```{language}\n(.*?)\n```"
    match = re.search(found, text, re.MULTILINE | re.DOTALL)
    assert match, f"no {language} block after {after!r} in the README"
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


@pytest.mark.parametrize("size", [300_000, 17 * 1024 * 1024 + 5], ids=["single PUT", "three parts"])
def test_the_python_client_uploads_a_file_that_downloads_whole(
    stack: Stack, tmp_path: Path, size: int
) -> None:
    namespace: dict[str, object] = {}
    exec(readme_block("A short Python client", "python"), namespace)  # noqa: S102 (the README's own code)
    token = make_token(stack, "reader")
    bucket = requests.post(
        f"{stack.api}/files", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).json()
    data = os.urandom(size)
    (tmp_path / "data.bin").write_bytes(data)

    version = namespace["upload"](stack.api, token, bucket["id"], "notes/data.bin", tmp_path / "data.bin")  # type: ignore[operator]

    assert version["size"] == size, version
    key = encode_key("notes/data.bin")
    download = requests.get(
        f"{stack.api}/files/{bucket['id']}/{key}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert download.content == data
