#!/usr/bin/env bash
# Builds the engine, the CLI and the core tests against Debian 13's LibTorch 2.6 in a chroot and
# runs the core tests there. The code keeps to the C++ API that LibTorch 1.13 and 2.x share; this
# checks the 2.x half on a Debian 12 machine, whose own LibTorch is 1.13. Needs root.
#   scripts/check-libtorch2.sh [--cuda] [--gui] [ROOT]
# --cuda  the CUDA 12 build of LibTorch 2.6, with NCCL (about 12 GiB instead of 4). With no GPU
#         the tests check that such a build works on a machine without one (a login node).
#         cuDNN is NVIDIA's download, not a Debian package: a stub library stands in for it,
#         and nothing on the CPU calls it.
# --gui   the GUI and its tests too (Debian 13's Qt 6.8), run offscreen.
# ROOT    the chroot, /var/tmp/growthstudio-libtorch2[-cuda] unless given; later runs reuse it
#         and its ccache. GS_SHARED_DATA_DIR, when set, is mounted there for the data tests.
set -euo pipefail
cd "$(dirname "$0")/.."

cuda=false
gui=false
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --cuda) cuda=true ;;
    --gui) gui=true ;;
    *) echo "check-libtorch2.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
root="${1:-/var/tmp/growthstudio-libtorch2$($cuda && echo -cuda || true)}"

if [[ $(id -u) -ne 0 ]]; then
  echo "check-libtorch2.sh: needs root (debootstrap, mount and chroot)" >&2
  exit 1
fi

mounted=()
unmount_all() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" || true; done
}
trap unmount_all EXIT

mount_in_root() {  # mount_in_root TARGET MOUNT-ARGUMENTS...
  local target="$root$1"
  shift
  mkdir -p "$target"
  mount "$@" "$target"
  mounted+=("$target")
}

in_root() { chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive "$@"; }

make_root() {
  if [[ -x "$root/bin/bash" ]]; then return; fi
  command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap; }
  debootstrap --variant=minbase --components=main,contrib,non-free trixie "$root"
}

copy_working_tree() {
  rm -rf "$root/src"
  mkdir -p "$root/src"
  git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$root/src"
}

# The CUDA build of LibTorch, installed before install-deps.sh so that it stands in for the CPU one.
install_cuda_libtorch() {
  in_root apt-get update -qq
  if ! in_root dpkg-query -W nvidia-cudnn >/dev/null 2>&1; then
    # nvidia-cudnn downloads cuDNN from NVIDIA when installed; an empty package takes its place.
    in_root apt-get install -y -qq --no-install-recommends equivs
    printf '%s\n' "Package: nvidia-cudnn" "Version: 9.0.0.312~cuda12" \
      "Description: placeholder: cuDNN is not downloaded here" > "$root/tmp/nvidia-cudnn.ctl"
    in_root sh -c 'cd /tmp && equivs-build nvidia-cudnn.ctl >/dev/null && dpkg -i nvidia-cudnn_*.deb'
  fi
  in_root apt-get install -y -qq --no-install-recommends \
    libtorch-cuda-dev libgloo-cuda-dev libnccl-dev nvidia-cuda-toolkit nvidia-cuda-dev
}

# Every cuDNN function LibTorch links to, each returning an error status, under cuDNN's
# soname and symbol version: enough for the loader, and for a CPU run that never calls them.
install_cudnn_stub() {
  in_root sh -c '
    nm -D --undefined-only /usr/lib/x86_64-linux-gnu/libtorch*.so.* 2>/dev/null |
      awk "/@libcudnn/ { sub(/@.*/, \"\", \$2); print \"int \" \$2 \"(void) { return 1; }\" }" |
      sort -u > /tmp/cudnn_stub.c
    echo "libcudnn.so.9 { global: *; };" > /tmp/cudnn_stub.map
    gcc -shared -fPIC -Wl,-soname,libcudnn.so.9 -Wl,--version-script=/tmp/cudnn_stub.map \
      -o /usr/local/lib/libcudnn.so.9 /tmp/cudnn_stub.c
    ldconfig'
}

build_and_test() {
  local build=/build core_only=ON
  if $gui; then build=/build-gui core_only=OFF; fi
  in_root cmake -S /src -B $build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGS_CORE_ONLY=$core_only
  in_root cmake --build $build
  in_root $build/app/cli/growthstudio-cli info
  local data=()
  if [[ -n "${GS_SHARED_DATA_DIR:-}" ]]; then
    mount_in_root /shared-data --bind "$GS_SHARED_DATA_DIR"
    data=(GS_SHARED_DATA_DIR=/shared-data)
  fi
  in_root QT_QPA_PLATFORM=offscreen "${data[@]}" sh -c "cd $build && ctest -j$(nproc) --output-on-failure"
}

make_root
mount_in_root /proc -t proc proc
mount_in_root /dev --bind /dev
copy_working_tree
$cuda && install_cuda_libtorch
in_root bash /src/scripts/install-deps.sh $($gui || echo --core)
$cuda && install_cudnn_stub
build_and_test
