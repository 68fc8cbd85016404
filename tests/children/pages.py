"""A child that says three pages, each once the parent has read the one before."""

import json
import sys

from chalicelib.ingest.sandbox import wait_for_reader

for page in (1, 2, 3):
    sys.stdout.write(json.dumps({"page": page}) + "\n")
    sys.stdout.flush()
    if not wait_for_reader():
        break
