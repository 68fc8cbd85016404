"""Synthesise Vellum's stacks: ``python -m infrastructure`` from the repository's root.

Writes a CloudFormation cloud assembly to ``CDK_OUTDIR`` (infrastructure/cdk.out), one stack per
stage (VellumDev, VellumProd), with no AWS credentials and no ``cdk`` CLI: the account and region
are left to deploy time unless CDK_DEFAULT_ACCOUNT/CDK_DEFAULT_REGION say otherwise. The Pillow
layer must be built first (``make layer ARCH=arm64``); ``make synth`` does both.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import aws_cdk as cdk

from infrastructure.stack import VellumStack
from infrastructure.stages import STAGES

OUTDIR = Path(__file__).resolve().parent / "cdk.out"


def build(outdir: str, stages: list[str]) -> cdk.App:
    app = cdk.App(outdir=outdir)
    environment = cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    for name in stages:
        VellumStack(app, f"Vellum{name.title()}", STAGES[name], env=environment)
    return app


def synthesize(outdir: Path, stages: list[str]) -> None:
    # chalice.cdk packages the app into ./chalice.out; the assembly keeps copies of what it needs.
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as work:
        os.chdir(work)
        try:
            build(str(outdir.resolve()), stages).synth()
        finally:
            os.chdir(here)


def main() -> None:
    stages = os.environ.get("VELLUM_DEPLOY_STAGES", ",".join(STAGES)).split(",")
    synthesize(Path(os.environ.get("CDK_OUTDIR", str(OUTDIR))), stages)


if __name__ == "__main__":
    main()
