"""Loading the Chalice app the way `chalice local` does, with the `local` stage's config."""

from __future__ import annotations

import os
from typing import Any

from chalice.cli.factory import CLIFactory
from chalice.config import Config

from local.environment import ROOT


def load_local_config() -> Config:
    # os.environ itself, so the stage's variables reach the app's settings.
    factory = CLIFactory(project_dir=str(ROOT), environ=os.environ)
    return factory.create_config_obj(chalice_stage_name="local")


def app_module() -> Any:
    import sys

    return sys.modules["app"]
