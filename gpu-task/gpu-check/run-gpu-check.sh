#!/bin/sh
# The GPU check, from its unpacked bundle: the carried Node binary runs gpu-check.cjs, which
# runs each execution provider in a child with the carried Vulkan loader on the library path.
#   tar -xJf hotpath-gpu-check.tar.xz && ./hotpath-gpu-check/run-gpu-check.sh --out result.json
# Without xz: python3 -c "import tarfile; tarfile.open('hotpath-gpu-check.tar.xz').extractall()"
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/node/bin/node" "$here/gpu-check.cjs" --bundle-dir "$here" "$@"
