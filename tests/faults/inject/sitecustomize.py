"""Faults the fault tests inject into the stack's own processes, at a chosen point of Vellum's code.

Python imports `sitecustomize` at start from its path, so a process started with this folder on
`PYTHONPATH` and these variables set dies where a Lambda function would (a timeout, a deploy):

- `VELLUM_FAULT_ROLE`: the module the process runs (`local.api`, `local.pump`); others are spared.
- `VELLUM_FAULT_EXIT_AFTER`: `module:function[:n]`; the process exits at once (os._exit, as a kill
  would) when the n-th call (default 1) of that function returns, and writes
- `VELLUM_FAULT_MARKER`: a file that says the fault fired, so the restarted process runs on.
- `VELLUM_FAULT_LATER_SECONDS`: once the marker exists, a process started afterwards sees its clock
  this much later: the time a retry or a recovery job would have waited.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from datetime import timedelta
from pathlib import Path


def _inject() -> None:
    role = os.environ.get("VELLUM_FAULT_ROLE", "")
    marker = Path(os.environ.get("VELLUM_FAULT_MARKER", "/nonexistent/marker"))
    fired = marker.exists()
    if fired and (later := float(os.environ.get("VELLUM_FAULT_LATER_SECONDS", "0"))):
        from chalicelib import clock

        now = clock.now
        clock.now = lambda: now() + timedelta(seconds=later)  # type: ignore[assignment]
    target = os.environ.get("VELLUM_FAULT_EXIT_AFTER")
    if fired or not target or role not in sys.orig_argv:  # sys.argv is not set yet
        return
    module_name, function_name, *count = target.split(":")
    module = importlib.import_module(module_name)
    original = getattr(module, function_name)
    calls = [0]

    @functools.wraps(original)
    def dies_after(*args: object, **kwargs: object) -> object:
        answer = original(*args, **kwargs)
        calls[0] += 1
        if calls[0] >= int(count[0] if count else 1):
            marker.write_text(target)
            os._exit(137)
        return answer

    setattr(module, function_name, dies_after)


_inject()
