"""`local.embedded_aws` as `make run` starts it, less its snapshot to disk every 10 s.

The snapshot is the local stack's own persistence (Lambda has nothing like it): after a 300 MP
ingest it lists and HEADs some 2,000 objects every 10 s on the same core as the servers, which
would make the benchmark measure the snapshotter. ``--autosave`` keeps it, as `make run` has it.

    python -m bench.iiif.embedded_aws --port P --state DIR [--autosave]
"""

from __future__ import annotations

import sys

from local import embedded_aws

if __name__ == "__main__":
    if "--autosave" in sys.argv:
        sys.argv.remove("--autosave")
    else:
        embedded_aws.AUTOSAVE_SECONDS = 10**9  # type: ignore[misc]
    embedded_aws.main()
