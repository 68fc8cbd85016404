#!/usr/bin/env bash
# Fetch a published npm package's self-contained bundle, without its dependency tree:
#   web/fetch-bundle.sh NAME VERSION INTEGRITY DEST PATH-IN-TARBALL...
# The tarball must match INTEGRITY (its sha512, as a lock file pins it). Only the named paths are
# kept, under DEST, without the tarball's leading package/. Quick when DEST already holds that integrity.
# Why not npm ci: Mirador 4 alone would install 238 packages (375 MB) to use one 2.3 MB file.
set -euo pipefail
name="$1" version="$2" integrity="$3" dest="$4"
shift 4
if [ "$(cat "$dest/.integrity" 2>/dev/null)" = "$integrity" ]; then exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "$name@$version" --silent --loglevel=error >/dev/null)
got="sha512-$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$work"/*.tgz)"
if [ "$got" != "$integrity" ]; then
    echo "web/fetch-bundle.sh: $name@$version from npm is $got, not the pinned $integrity" >&2
    exit 1
fi
rm -rf "$dest" && mkdir -p "$dest"
tar -xzf "$work"/*.tgz -C "$dest" --strip-components=1 "$@"
echo "$integrity" > "$dest/.integrity"
