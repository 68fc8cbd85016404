"""A child that, under the sandbox's limits, asks for more memory than they allow."""

import json
import sys

from chalicelib.ingest.sandbox import limit_self

limit_self()
try:
    hoard = bytearray(8 * 1024**3)
except MemoryError:
    sys.exit(3)
sys.stdout.write(json.dumps({"allocated": len(hoard)}) + "\n")
