#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through CTest.
# Tests that read the real Korean task data find it through GS_SHARED_DATA_DIR (default:
# ../shared/data beside the checkout) and skip, saying so, when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
scripts/build.sh
if [[ -z "${GS_SHARED_DATA_DIR:-}" && -d ../shared/data ]]; then
  export GS_SHARED_DATA_DIR="$(cd ../shared/data && pwd)"
fi
export QT_QPA_PLATFORM=offscreen
ctest --test-dir build --output-on-failure -j 2
