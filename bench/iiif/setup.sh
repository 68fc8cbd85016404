#!/usr/bin/env bash
# What `python -m bench.iiif` needs beside Vellum's own .venv: Debian's IIPImage server (FastCGI),
# nginx in front of it, spawn-fcgi to start it, libvips-tools (`vips tiffsave` makes IIPImage's
# pyramids) and util-linux's taskset; and, from npm, the iiif-processor peer with sharp (which
# ships its own libvips) and OpenSeadragon (whose tile URL code checks the session walker).
# Idempotent and quick when everything is there. Nothing is started: the benchmark starts and
# stops its own servers on loopback ports.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

missing=""
[ -x /usr/lib/iipimage-server/iipsrv.fcgi ] || missing="$missing iipimage-server"
command -v nginx >/dev/null || missing="$missing nginx-light"
command -v spawn-fcgi >/dev/null || missing="$missing spawn-fcgi"
command -v vips >/dev/null || missing="$missing libvips-tools"
command -v taskset >/dev/null || missing="$missing util-linux"
command -v node >/dev/null || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    # --no-install-recommends: iipimage-server recommends Apache, which the benchmark does not use.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
    # Debian starts nginx on port 80 where an init system runs; the benchmark runs its own.
    if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
        $sudo systemctl disable --now nginx || true
    fi
fi

# npm ci installs exactly the lock file; redo it only when the lock changed.
modules="$here/node/node_modules"
if [ ! -d "$modules" ] || [ "$here/node/package-lock.json" -nt "$modules" ]; then
    npm ci --prefix "$here/node" --no-audit --no-fund --loglevel=error
    touch "$modules"
fi

if [ ! -x "$here/../../.venv/bin/python" ]; then
    echo "Vellum's .venv is missing: run 'make run' or 'make test' once to create it." >&2
    exit 1
fi
