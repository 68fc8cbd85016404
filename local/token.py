"""Print a bearer token for the local stack.

    python -m local.token [USER] [--admin] [--ttl SECONDS]     (make token USER=... [ADMIN=1])

The token is signed with the secret of the stack running on PORT (default 8000), wherever its
state directory is, else of VELLUM_LOCAL_STATE (default .local/). It is the last line of stdout,
alone, so scripts can take it with ``tail -n1``; the hint for humans goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys

from chalicelib.auth.tokens import issue_local_token
from local.environment import stack_state_dir
from local.secret import SECRET_FILE_NAME, load_or_create_local_secret

ADMIN_ROLE = "admin"  # the default of VELLUM_ADMIN_ROLE, which the local stage keeps
DEFAULT_TTL_SECONDS = 12 * 3600
DEFAULT_USER = "demo"  # the user of the token `make run` prints
DESCRIPTION = "Print a bearer token for the local stack."


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.token", description=DESCRIPTION)
    parser.add_argument(
        "user", metavar="USER", nargs="?", default=DEFAULT_USER, help=f"the token's subject ({DEFAULT_USER})"
    )
    parser.add_argument("--admin", action="store_true", help=f'give the token the "{ADMIN_ROLE}" role')
    parser.add_argument("--ttl", type=_positive_int, default=DEFAULT_TTL_SECONDS, metavar="SECONDS")
    args = parser.parse_args(argv)

    roles = [ADMIN_ROLE] if args.admin else []
    state = stack_state_dir(int(os.environ.get("PORT", "8000")))
    if not (state / SECRET_FILE_NAME).exists():
        print(f"No stack has used {state} yet: this token is for the next `make run` there.", file=sys.stderr)
    token = issue_local_token(load_or_create_local_secret(state), args.user, roles, ttl_seconds=args.ttl)
    who = f"{args.user} (admin)" if args.admin else args.user
    print(
        f"Token for {who}, valid {args.ttl} s; send it as 'Authorization: Bearer <token>'.",
        file=sys.stderr,
    )
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
