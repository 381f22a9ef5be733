#!/usr/bin/env bash
# Prints two OpenBLAS kernels (OPENBLAS_CORETYPE values) this processor can run, other than the
# newest it has: Haswell (AVX2 and FMA) and Sandybridge (AVX), or older ones where those are
# missing. Their summation orders differ from each other and from the AVX-512 kernels.
set -euo pipefail
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " $flags " == *" $1 "* ]]; }
if has avx2 && has fma; then echo Haswell; else echo Nehalem; fi
if has avx; then echo Sandybridge; else echo Prescott; fi
