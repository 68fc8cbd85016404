"""The environment the local processes run in: the `local` stage of `.chalice/config.json`
plus the endpoints of the embedded AWS, so the app finds moto exactly as it finds AWS."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"


def state_dir() -> Path:
    """Where the embedded stack keeps its data between runs (git-ignored)."""
    return Path(os.environ.get("VELLUM_LOCAL_STATE") or ROOT / ".local")


def stack_state_dir(api_port: int) -> Path:
    """The state directory a tool for the stack on `api_port` uses: VELLUM_LOCAL_STATE if set, else
    the running stack's (which `make run VELLUM_LOCAL_STATE=...` may have put elsewhere), else the
    default."""
    if os.environ.get("VELLUM_LOCAL_STATE"):
        return state_dir()
    return running_state(api_port) or state_dir()


def _running_file(api_port: int) -> Path:
    return ROOT / ".local" / "running" / f"{api_port}.json"


def note_running(api_port: int, state: Path) -> None:
    """Say which state directory the stack serving on `api_port` uses, for `make token` and `make job`."""
    path = _running_file(api_port)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"state": str(state), "pid": os.getpid()}))


def forget_running(api_port: int) -> None:
    _running_file(api_port).unlink(missing_ok=True)


def running_state(api_port: int) -> Path | None:
    """The state directory of the stack `make run` serves on `api_port`, if one runs."""
    try:
        running = json.loads(_running_file(api_port).read_text())
        os.kill(int(running["pid"]), 0)  # still alive (a crash leaves the file behind)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Path(running["state"])


def stage_variables(stage: str = "local") -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


def service_environment(aws_port: int, api_port: int, state: Path) -> dict[str, str]:
    from local.secret import load_or_create_local_secret

    env = {key: value for key, value in os.environ.items() if key not in ("AWS_PROFILE", "AWS_SESSION_TOKEN")}
    env.update(stage_variables())
    env.update(
        {
            "VELLUM_LOCAL_STATE": str(state),
            "VELLUM_LOCAL_TOKEN_SECRET": load_or_create_local_secret(state),
            "VELLUM_PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            # moto accepts any credentials; fixed ones keep a developer's real ones out of reach.
            "AWS_ACCESS_KEY_ID": "vellum-local",
            "AWS_SECRET_ACCESS_KEY": "vellum-local",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
            # The checkout first; a PYTHONPATH of the caller's after it (the fault tests' injections).
            "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
        }
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
