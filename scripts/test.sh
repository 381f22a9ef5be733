#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through CTest.
# Tests that read the real Korean task data find it through GS_SHARED_DATA_DIR (default:
# ../shared/data beside the checkout) and skip, saying so, when it is absent.
# The cluster tests run against a single-node Slurm on this machine, started here and stopped
# on the way out, whether the tests pass or not. The numerical engine tests run once more under
# two other OpenBLAS kernels, so that a bound that holds only for one machine's summation order
# fails here too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
scripts/build.sh
if [[ -z "${GS_SHARED_DATA_DIR:-}" && -d ../shared/data ]]; then
  export GS_SHARED_DATA_DIR="$(cd ../shared/data && pwd)"
fi
export QT_QPA_PLATFORM=offscreen

as_root=()
if [[ $(id -u) -ne 0 ]]; then as_root=(sudo); fi
slurm_dir="$PWD/build/slurm-localhost"
"${as_root[@]}" scripts/slurm-localhost.sh start "$slurm_dir"
trap '"${as_root[@]}" scripts/slurm-localhost.sh stop "$slurm_dir"' EXIT
export SLURM_CONF="$slurm_dir/slurm.conf" GS_REQUIRE_SLURM=1

ctest --test-dir build --output-on-failure -j 2

# The suites whose assertions compare floating-point results of LibTorch's arithmetic.
numerical='(^|/)(T5Reference|T5Model|Growth|Generation|Optimizer|Distributed|Cli|Trainer|Cluster|ClusterSlurm|Study|Finetune)\.'
for kernel in $(scripts/openblas-kernels.sh); do
  echo "Numerical engine tests with OPENBLAS_CORETYPE=$kernel"
  OPENBLAS_CORETYPE=$kernel ctest --test-dir build --output-on-failure -j 2 -R "$numerical"
done
