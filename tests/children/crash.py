"""A child that says one thing and crashes, as a native library would on a hostile file."""

import json
import os
import sys

sys.stdout.write(json.dumps({"page": 1}) + "\n")
sys.stdout.flush()
os.abort()
