#!/usr/bin/env bash
# Installs the Debian 12 packages GrowthStudio needs to build, test and run.
# Does nothing when every package is already present.
#   scripts/install-deps.sh          the GUI, the engine and the CLI
#   scripts/install-deps.sh --core   only what the engine and the CLI need (no Qt)
#   scripts/install-deps.sh --tests  everything, and a single-node Slurm for the cluster tests
set -euo pipefail

core_packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libgloo-dev libopenblas0-openmp
  libsentencepiece-dev sentencepiece
  libsqlite3-dev nlohmann-json3-dev zlib1g-dev libgtest-dev
  libsnappy-dev libzstd-dev libicu-dev
)
gui_packages=(
  qt6-base-dev qt6-svg-dev libqcustomplot-dev libgl-dev
  xvfb xauth
)
# scripts/test.sh starts a single-node Slurm with these (scripts/slurm-localhost.sh) for the cluster tests.
test_packages=(slurm-wlm munge)

packages=("${core_packages[@]}")
if [[ "${1:-}" != "--core" ]]; then
  packages+=("${gui_packages[@]}")
fi
if [[ "${1:-}" == "--tests" ]]; then
  packages+=("${test_packages[@]}")
fi

# Debian 13's CUDA builds conflict with the CPU ones they stand in for.
declare -A stand_ins=([libtorch-dev]=libtorch-cuda-dev [libgloo-dev]=libgloo-cuda-dev)

installed() {
  [[ -n "$1" ]] && dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for package in "${packages[@]}"; do
  if ! installed "$package" && ! installed "${stand_ins[$package]:-}"; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "Installing: ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
