#!/usr/bin/env bash
# Optical flow at the published geometry (optical-flow-perceiver config, random weights), in process
# (PerceiverBench flow). Each mode runs in its own process, so its peak resident memory (VmHWM) is its own.
#
#   tools/bench/bench_flow.sh [PIXELS (default 4096)] [RUNS (default 3)]
#       one 368 x 496 frame pair: the full field against PIXELS chosen pixels; both tables and the ratio of the
#       median times.
#   tools/bench/bench_flow.sh tiles [FRAME (default 720x1280)] [RUNS (default 1)] [BUDGET_MIB (default 1024)]
#       a larger frame pair, tiled as DeepMind's colab does: the tiles in passes of as many as BUDGET_MIB of
#       estimated pass memory allows, against the same tiles one a pass; both tables (tiles, passes, time per
#       tile, peak RSS) and the ratio of the median times.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product PerceiverBench >/dev/null
bench=.build/release/PerceiverBench
median() { echo "$1" | tail -1 | awk -F'|' '{gsub(/ /, "", $7); print $7}'; }
if [ "${1:-}" = tiles ]; then
  frame=${2:-720x1280}
  runs=${3:-1}
  budget=${4:-1024}
  batched=$("$bench" flow --frame "$frame" --runs "$runs" --budget-mib "$budget")
  alone=$("$bench" flow --frame "$frame" --runs "$runs" --budget-mib 0)
  echo "$batched"
  echo "$alone" | grep '^tiles:'
  echo "$alone" | tail -1
  awk -v a="$(median "$alone")" -v b="$(median "$batched")" -v m="$budget" \
      'BEGIN { printf "one tile a pass / tiles batched within %d MiB: %.2fx (median %d ms vs %d ms)\n", m, a / b, a, b }'
  exit 0
fi
pixels=${1:-4096}
runs=${2:-3}
full=$("$bench" flow --pixels 0 --runs "$runs")
some=$("$bench" flow --pixels "$pixels" --runs "$runs")
echo "$full"
echo "$some" | tail -1
awk -v f="$(median "$full")" -v s="$(median "$some")" -v p="$pixels" \
    'BEGIN { printf "full field / %d pixels: %.2fx (median %d ms vs %d ms)\n", p, f / s, f, s }'
