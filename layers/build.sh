#!/usr/bin/env bash
# Build the native-dependencies layer for Lambda: layers/build.sh [arm64|x86_64] -> layers/dist/native-<arch>.zip
# Only prebuilt manylinux wheels for the Lambda runtime's Python and architecture: no compiler involved,
# so the layer built here is the one Lambda loads.
set -euo pipefail
cd "$(dirname "$0")"
arch="${1:-arm64}"
case "$arch" in
  arm64) machine=aarch64 ;;
  x86_64) machine=x86_64 ;;
  *) echo "usage: $0 [arm64|x86_64]" >&2; exit 2 ;;
esac
python="$(realpath "${PYTHON:-../.venv/bin/python}")"
runtime_version=3.11  # the runtime Chalice packages the app for (the local Python's)
out="dist/native-$arch"
rm -rf "$out" "dist/native-$arch.zip"
mkdir -p "$out/python"
"$python" -m pip install --quiet --no-compile --only-binary=:all: \
  --platform "manylinux2014_$machine" --implementation cp --python-version "$runtime_version" \
  --target "$out/python" -r requirements.txt
(cd "$out" && "$python" -m zipfile -c "../native-$arch.zip" python)
echo "layers/dist/native-$arch.zip"
