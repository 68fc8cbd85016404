#!/usr/bin/env bash
# What the tests need beside the Python packages: Debian's Chromium, libmagic, curl and jq, the two
# stock Uppy bundles and the stock IIIF viewers from npm. Idempotent, and quick when both are already there (the Makefile calls it before
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

# Mirador 4 and the Universal Viewer 4, as published on npm, for tests/browser/test_iiif_viewers.py.
# Only their self-contained bundles: `npm ci` would install each one's whole build-time dependency
# tree (hundreds of MB). Each tarball must match the integrity pinned here, as a lock file's would.
viewers="$here/viewers"
fetch_viewer() {  # name version integrity paths-in-the-tarball...
    local name="$1" version="$2" integrity="$3"
    shift 3
    local dir="$viewers/$name"
    if [ "$(cat "$dir/.integrity" 2>/dev/null)" = "$integrity" ]; then return; fi
    local work
    work="$(mktemp -d)"
    (cd "$work" && npm pack "$name@$version" --silent --loglevel=error >/dev/null)
    local got
    got="sha512-$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$work"/*.tgz)"
    if [ "$got" != "$integrity" ]; then
        echo "tests/setup.sh: $name@$version from npm is $got, not the pinned $integrity" >&2
        rm -rf "$work"
        exit 1
    fi
    rm -rf "$dir" && mkdir -p "$dir"
    tar -xzf "$work"/*.tgz -C "$dir" --strip-components=2 "$@"
    echo "$integrity" > "$dir/.integrity"
    rm -rf "$work"
}
fetch_viewer mirador 4.0.0 \
    sha512-uWsE9e2oqSc/lUu+vVwDGhTsycuhGsfZ2KfX6CLfXiT3wgGy6qT9+q5M3V9Zz72hkdIgsJugKesaowmRtYmvrA== \
    package/dist/mirador.min.js
fetch_viewer universalviewer 4.4.0 \
    sha512-9OVs6uCzeQYw50jg8k2vEGq6hQFu7kEv9OOAlmqVH9duhrpg1xlIqcMIb2rhNQnAxTQd3R13gxJze9UYkiwdzg== \
    package/dist/uv.html package/dist/uv.css package/dist/umd
