"""`python -m local.token`: dev tokens that the local stack accepts."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.auth.tokens import TokenVerifier
from local.environment import forget_running, free_port, note_running, running_state
from local.secret import SECRET_FILE_NAME, load_or_create_local_secret

PROJECT = Path(__file__).resolve().parents[2]


def run_token_cli(state: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local.token", *arguments],
        cwd=PROJECT,
        env={**os.environ, "VELLUM_LOCAL_STATE": str(state)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_the_cli_prints_an_admin_token_the_local_verifier_accepts(tmp_path: Path) -> None:
    state = tmp_path / "state"

    result = run_token_cli(state, "alice", "--admin")

    token = result.stdout.splitlines()[-1]
    secret_file = state / SECRET_FILE_NAME
    principal = TokenVerifier(local_secret=secret_file.read_text().strip()).verify(token)
    assert (principal.sub, principal.is_admin) == ("alice", True)
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert "alice" in result.stderr


def test_without_admin_the_token_has_no_roles(tmp_path: Path) -> None:
    result = run_token_cli(tmp_path, "bob", "--ttl", "60")

    verifier = TokenVerifier(local_secret=load_or_create_local_secret(tmp_path))
    principal = verifier.verify(result.stdout.splitlines()[-1])
    assert (principal.sub, principal.roles, principal.is_admin) == ("bob", frozenset(), False)


def test_the_secret_is_created_once_and_then_reused(tmp_path: Path) -> None:
    first = load_or_create_local_secret(tmp_path / "state")

    assert load_or_create_local_secret(tmp_path / "state") == first
    assert len(first) >= 32
    assert stat.S_IMODE((tmp_path / "state" / SECRET_FILE_NAME).stat().st_mode) == 0o600
    assert [path.name for path in (tmp_path / "state").iterdir()] == [SECRET_FILE_NAME]


def test_a_truncated_secret_file_is_refused_not_used(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE_NAME).write_text("short\n")

    with pytest.raises(ValueError, match="delete it"):
        load_or_create_local_secret(tmp_path)


def test_without_a_user_the_token_is_for_the_demo_user(tmp_path: Path) -> None:
    result = run_token_cli(tmp_path)

    principal = TokenVerifier(local_secret=load_or_create_local_secret(tmp_path)).verify(
        result.stdout.splitlines()[-1]
    )
    assert principal.sub == "demo"
    assert "No stack has used" in result.stderr  # a fresh state directory: said, not silent


def test_the_token_is_signed_for_the_stack_running_on_port_wherever_its_state_is(tmp_path: Path) -> None:
    # `make run VELLUM_LOCAL_STATE=elsewhere`, then a plain `make token`: the running stack's secret.
    elsewhere = tmp_path / "elsewhere"
    secret = load_or_create_local_secret(elsewhere)
    port = free_port()
    note_running(port, elsewhere)  # as local.run does, with this (live) process's pid
    try:
        environment = {key: value for key, value in os.environ.items() if key != "VELLUM_LOCAL_STATE"}
        result = subprocess.run(
            [sys.executable, "-m", "local.token", "carol"],
            cwd=PROJECT,
            env={**environment, "PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    finally:
        forget_running(port)

    assert TokenVerifier(local_secret=secret).verify(result.stdout.splitlines()[-1]).sub == "carol"
    assert running_state(port) is None
