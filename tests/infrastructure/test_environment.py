"""The stand-ins chalice package imports the app with: valid for the stage, and gone afterwards."""

from __future__ import annotations

import os

import pytest

from chalicelib.settings import load_settings
from infrastructure.environment import packaging_stand_ins


def test_the_app_imports_with_stand_ins_even_in_a_shell_that_ran_make_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VELLUM_LOCAL_TOKEN_SECRET", "x" * 40)  # what `make run`'s shell may hold
    monkeypatch.setenv("VELLUM_STAGE", "local")

    with packaging_stand_ins("prod"):
        settings = load_settings()  # as the app does at import

    assert settings.stage == "prod" and settings.local_token_secret is None
    assert os.environ["VELLUM_STAGE"] == "local" and os.environ["VELLUM_LOCAL_TOKEN_SECRET"] == "x" * 40
