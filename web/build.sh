#!/usr/bin/env bash
# The front-end libraries preview pages load, from npm (pinned by web/package-lock.json), copied
# into chalicelib/previews/static/vendor so the Lambda package carries them: only the files the
# pages use; and the console, built from web/console. Idempotent; quick when neither the lock file
# nor the console's sources changed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
vendor="$here/../chalicelib/previews/static/vendor"
stamp="$vendor/.lock"
if [ -f "$stamp" ] && cmp -s "$stamp" "$here/package-lock.json" && [ "$stamp" -nt "$0" ] \
    && [ "$stamp" -nt "$here/fetch-bundle.sh" ] \
    && [ -z "$(find "$here/console" -newer "$stamp" -print -quit)" ]; then
    exit 0
fi
npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
modules="$here/node_modules"
pdfjs="$(node -p "require('$modules/pdfjs-dist/package.json').version")"
osd="$(node -p "require('$modules/openseadragon/package.json').version")"
rm -rf "$vendor"
mkdir -p "$vendor/pdfjs-$pdfjs" "$vendor/openseadragon-$osd"
cp "$modules/pdfjs-dist/build/pdf.min.mjs" "$modules/pdfjs-dist/build/pdf.worker.min.mjs" "$vendor/pdfjs-$pdfjs/"
cp -r "$modules/pdfjs-dist/standard_fonts" "$modules/pdfjs-dist/cmaps" "$vendor/pdfjs-$pdfjs/"
# JPEG 2000 and JBIG2 decoders (scans use both), which pdf.js's worker loads on demand.
mkdir -p "$vendor/pdfjs-$pdfjs/wasm"
cp "$modules"/pdfjs-dist/wasm/{openjpeg.wasm,openjpeg_nowasm_fallback.js,jbig2.wasm,jbig2_nowasm_fallback.js} \
   "$modules"/pdfjs-dist/wasm/LICENSE_*OPENJPEG "$modules"/pdfjs-dist/wasm/LICENSE_*JBIG2 "$vendor/pdfjs-$pdfjs/wasm/"
cp "$modules/pdfjs-dist/LICENSE" "$vendor/pdfjs-$pdfjs/"
cp "$modules/openseadragon/build/openseadragon/openseadragon.min.js" "$vendor/openseadragon-$osd/"
cp -r "$modules/openseadragon/build/openseadragon/images" "$vendor/openseadragon-$osd/"
cp "$modules/openseadragon/LICENSE.txt" "$vendor/openseadragon-$osd/" 2>/dev/null || true
# Mirador 4, for the console's viewer page: its published self-contained bundle (web/fetch-bundle.sh).
bash "$here/fetch-bundle.sh" mirador 4.0.0 \
    sha512-uWsE9e2oqSc/lUu+vVwDGhTsycuhGsfZ2KfX6CLfXiT3wgGy6qT9+q5M3V9Zz72hkdIgsJugKesaowmRtYmvrA== \
    "$vendor/mirador-4.0.0" package/dist/mirador.min.js package/LICENSE
# The console (web/console): one ES module and one stylesheet, minified, with React,
# react-jsonschema-form and Uppy inside. esbuild, because it bundles JSX with no configuration and is one
# pinned binary; the output lands beside the vendored libraries and is served from /static/console.
# @rjsf/core's test helper imports Ajv, which needs 'unsafe-eval': the alias keeps it out.
console="$here/../chalicelib/previews/static/console"
mkdir -p "$console"
"$modules/.bin/esbuild" "$here/console/main.jsx" --bundle --minify --format=esm --target=es2020 \
    --jsx=automatic --define:process.env.NODE_ENV='"production"' --legal-comments=linked \
    --alias:@rjsf/validator-ajv8="$here/console/validator.js" \
    --outfile="$console/console.js" --log-level=warning
cp "$here/console/viewer.js" "$here/console/viewer.css" "$console/"  # the Mirador page's own
cp "$here/package-lock.json" "$stamp"
