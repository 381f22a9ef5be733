#!/usr/bin/env bash
# The layering rule, checked on what the compiler read: no translation unit of ui/ or app/gui
# reaches a LibTorch header (ATen, c10, torch, caffe2), directly or through a core header.
# Reads the header dependencies Ninja recorded for every object of the build folder $1 ($2: the
# ninja program). A core file known to include torch must show torch headers, so a build whose
# dependencies were not recorded cannot pass.
set -euo pipefail
build="$1"
ninja="${2:-ninja}"
"$ninja" -C "$build" -t deps | awk '
  /^[^ \t]/ {
    target = $1; sub(/:$/, "", target)
    front = target ~ /^(ui|app\/gui)\//
    probe = target ~ /core\/CMakeFiles\/gs_core\.dir\/model\/t5_model\.cpp\.o$/
    if (front) fronts++
    reported = 0
    next
  }
  /\/(ATen|c10|torch|caffe2)\// {
    if (probe) probe_seen = 1
    if (front && !reported) { print target " reaches " $1; bad++; reported = 1 }
  }
  END {
    if (fronts == 0) { print "no object of ui/ or app/gui is recorded: build first"; exit 2 }
    if (!probe_seen) { print "core/model/t5_model.cpp shows no torch header: the recorded dependencies are incomplete"; exit 2 }
    if (bad) { print bad " object(s) of ui/ or app/gui reach LibTorch headers"; exit 1 }
    print fronts " objects of ui/ and app/gui, none reaches a LibTorch header"
  }'
