#!/usr/bin/env bash
# Installs what is missing, builds, and starts the GrowthStudio window on the bundled default
# experiment (S_a_B at CPU scale: Run trains it on the bundled Korean corpus in minutes).
# Arguments replace the default: an experiment file, --db FILE, --threads N.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
if [[ $# -eq 0 ]]; then
  set -- experiments/cpu/03_S_a_B.json
fi
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  echo "No display found: starting GrowthStudio in a virtual X server (xvfb-run)." >&2
  exec xvfb-run -a -s "-screen 0 1600x1000x24" build/app/gui/growthstudio "$@"
fi
exec build/app/gui/growthstudio "$@"
