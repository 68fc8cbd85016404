#!/usr/bin/env bash
# What the tests need beside the Python packages: Debian's Chromium, libmagic, curl and jq, the two
# stock Uppy bundles, axe-core and the Universal Viewer from npm. Idempotent, and quick when both are already there (the Makefile calls it before
# every pytest run). Browsers come only from Debian: never `playwright install`, which downloads one.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/browser"

# libmagic1: the IIIF validator (python-magic) reads image types with it.
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
ldconfig -p 2>/dev/null | grep -q "libmagic.so.1 " || missing="$missing libmagic1"
# curl, jq: the README's curl recipe is run as written (tests/e2e/test_readme_recipes.py).
command -v curl >/dev/null || missing="$missing curl"
command -v jq >/dev/null || missing="$missing jq"
if [ -n "$missing" ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi

# npm ci wipes node_modules and installs exactly the lock file; redo it only when the lock changed.
modules="$here/node_modules"
if [ ! -d "$modules" ] || [ "$here/package-lock.json" -nt "$modules" ]; then
    npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
    touch "$modules"
fi

# The Universal Viewer 4, as published on npm, for tests/browser/test_iiif_viewers.py (Mirador
# comes with the app's own assets: web/build.sh). Only its self-contained bundle, checked against
# the integrity pinned here: see web/fetch-bundle.sh.
bash "$here/../../web/fetch-bundle.sh" universalviewer 4.4.0 \
    sha512-9OVs6uCzeQYw50jg8k2vEGq6hQFu7kEv9OOAlmqVH9duhrpg1xlIqcMIb2rhNQnAxTQd3R13gxJze9UYkiwdzg== \
    "$here/viewers/universalviewer" package/dist/uv.html package/dist/uv.css package/dist/umd
