"""The CDK app synthesised once per test session (both stages), into a temporary cloud assembly."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

STACKS = {"dev": "VellumDev", "prod": "VellumProd"}
# jsii runs on Debian's Node 20 here and says so in a twelve-line banner on every synth.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from infrastructure.__main__ import synthesize

    outdir = tmp_path_factory.mktemp("cdk.out")
    synthesize(outdir, list(STACKS))
    return outdir


def template_of(assembly: Path, stage: str) -> dict[str, Any]:
    return json.loads((assembly / f"{STACKS[stage]}.template.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def dev(assembly: Path) -> Template:
    return Template.from_json(template_of(assembly, "dev"))


@pytest.fixture(scope="session")
def prod(assembly: Path) -> Template:
    return Template.from_json(template_of(assembly, "prod"))
