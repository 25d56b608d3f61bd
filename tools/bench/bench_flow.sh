#!/usr/bin/env bash
# One optical-flow frame pair at the published geometry (368 x 496, optical-flow-perceiver config, random
# weights): the full field against a few thousand chosen pixels. Each mode runs in its own process, so its
# peak resident memory (VmHWM) is its own. Prints both tables and the ratio of the median times.
#
# Usage: tools/bench/bench_flow.sh [PIXELS (default 4096)] [RUNS (default 3)]
set -euo pipefail
cd "$(dirname "$0")/../.."
pixels=${1:-4096}
runs=${2:-3}
swift build -c release --product PerceiverBench >/dev/null
bench=.build/release/PerceiverBench
full=$("$bench" flow --pixels 0 --runs "$runs")
some=$("$bench" flow --pixels "$pixels" --runs "$runs")
echo "$full"
echo "$some" | tail -1
median() { echo "$1" | tail -1 | awk -F'|' '{gsub(/ /, "", $4); print $4}'; }
awk -v f="$(median "$full")" -v s="$(median "$some")" -v p="$pixels" \
    'BEGIN { printf "full field / %d pixels: %.2fx (median %d ms vs %d ms)\n", p, f / s, f, s }'
