#!/usr/bin/env bash
# Configures and builds GrowthStudio into build/ (Release, Ninja, ccache when present).
# Extra arguments go to CMake, e.g. -DGS_CORE_ONLY=ON or -DCMAKE_PREFIX_PATH=/opt/libtorch.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build
