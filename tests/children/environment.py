"""A child that says the names of its environment variables."""

import json
import os
import sys

sys.stdout.write(json.dumps({"names": sorted(os.environ)}) + "\n")
