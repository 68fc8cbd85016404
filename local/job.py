"""Run one of the app's scheduled handlers now, against the running `make run` stack.

    python -m local.job NAME      (make job NAME=housekeeping)

The handler runs in this process with the stack's environment, as the event pump would call it
at its rate, and the run is noted so the pump's schedule counts from it.
"""

from __future__ import annotations

import argparse
import os
import sys

from local.environment import service_environment, stack_state_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.job", description=__doc__.splitlines()[0])
    parser.add_argument("name", metavar="NAME", help="a scheduled handler of app.py, e.g. housekeeping")
    args = parser.parse_args(argv)
    api_port = int(os.environ.get("PORT", "8000"))
    aws_port = int(os.environ.get("VELLUM_AWS_PORT") or api_port + 1)
    state = stack_state_dir(api_port)
    os.environ.update(service_environment(aws_port, api_port, state))

    from chalice.app import ScheduledEventConfig

    from local.lambda_host import app_module, load_local_config
    from local.pump import ScheduleLog, run_scheduled

    config = load_local_config()
    scheduled = {
        source.name for source in config.chalice_app.event_sources if isinstance(source, ScheduledEventConfig)
    }
    if args.name not in scheduled:
        print(
            f"no scheduled handler {args.name!r}; there are: {', '.join(sorted(scheduled))}", file=sys.stderr
        )
        return 2
    module = app_module()
    run_scheduled(args.name, getattr(module, args.name), module.settings.region, ScheduleLog(state))
    print(f"ran {args.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
