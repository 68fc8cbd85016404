"""A child that reads two ranges of its file through its parent, and says what it got."""

import json
import sys

from chalicelib.ingest.sandbox import read_from_parent

got = [read_from_parent(2, 4).decode(), read_from_parent(0, 1).decode()]
sys.stdout.write(json.dumps({"got": got}) + "\n")
