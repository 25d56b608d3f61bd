#!/usr/bin/env bash
# tools/bench/bench_cores.sh: cores follow the work (issue 23 part 5): one model's fill alone, beside an idle
# second model, and two busy models sharing the cores against the old static split.
#
# Four daemons in turn, each from a temporary config on a free port (.build/release/perceiverd serve), stopped
# with SIGTERM after its phase:
#   alone        MODEL only (served as "lang"): WARMUP_FILLS unmeasured, then FILLS sequential fills with curl,
#                each timed by the daemon log's duration.ms; the table gives the median and the fastest, and the
#                batch.threads the passes got.
#   beside-idle  MODEL and IDLE (never sent a request): the same fills. Expected: equal to alone within noise
#                (the old static split gave MODEL half the cores here).
#   busy-shared  MODEL as "lang" and SECOND as "lang2", each loaded by its own PerceiverLoad (CLIENTS clients,
#                BUSY_WARMUP unmeasured then BUSY_DURATION measured seconds) at the same time; throughput of each
#                and in total, and the mean batch.threads.mean.
#   busy-split   the same with threads_per_instance = threads / 2 on both (at least 1): the old static split,
#                as a cap. Expected: busy-shared's total throughput no lower than this.
# Every request is the KServe V2 JSON body of tools/daemon_lib.sh write_body: input_ids [1, TOKENS] with
# POSITIONS masks, output_positions the same (MODEL and SECOND must be masked LMs taking TOKENS tokens).
#
# Usage:
#   tools/bench/bench_cores.sh                   # the language-perceiver-sized model: about 5 minutes on 2 cores
#   MODEL=models/words SECOND=models/words TOKENS=24 FILLS=20 BUSY_DURATION=5 tools/bench/bench_cores.sh
#                                                # a quick check on the shipped models
#
# Variables (environment; defaults in brackets):
#   MODEL                the model measured [.build/models/language-perceiver; written by
#                        tools/bench/make_language_model.py with PYTHON when missing]
#   IDLE                 the idle model beside it [models/digits]
#   SECOND               the second busy model [MODEL]
#   TOKENS, POSITIONS    request length ([CLS] and [SEP] included) and masked positions [512, 4]
#   THREADS              the daemon's `threads` (0 = every core the process may use) [0]
#   FILLS, WARMUP_FILLS  measured and unmeasured sequential fills per phase [10, 2]
#   CLIENTS              concurrent clients per model in the busy phases [1]
#   BUSY_DURATION, BUSY_WARMUP   measured and unmeasured seconds of the busy phases [30, 5]
#   TIMEOUT              PerceiverLoad --timeout and curl --max-time, seconds [180]
#   START_TIMEOUT        seconds to wait for /v2/health/ready [300]
#   PERCEIVERD, PERCEIVERLOAD    binaries [.build/release/perceiverd, .build/release/PerceiverLoad]
#   PYTHON               Python with transformers, to write MODEL if missing [.venv/bin/python]
#   OUT                  where the configs, logs and results go [.build/bench/cores-YYYYmmdd-HHMMSS]
#
# Exit status: 0 when every phase completed; 1 when a daemon does not start or dies, a fill fails, or
# PerceiverLoad fails. Needs: bash 5, curl, jq, awk; Linux /proc. The daemons are always stopped on exit.

set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/daemon_lib.sh
source tools/daemon_lib.sh

MODEL=${MODEL:-.build/models/language-perceiver}
IDLE=${IDLE:-models/digits}
SECOND=${SECOND:-$MODEL}
TOKENS=${TOKENS:-512}
POSITIONS=${POSITIONS:-4}
THREADS=${THREADS:-0}
FILLS=${FILLS:-10}
WARMUP_FILLS=${WARMUP_FILLS:-2}
CLIENTS=${CLIENTS:-1}
BUSY_DURATION=${BUSY_DURATION:-30}
BUSY_WARMUP=${BUSY_WARMUP:-5}
TIMEOUT=${TIMEOUT:-180}
START_TIMEOUT=${START_TIMEOUT:-300}
PERCEIVERD=${PERCEIVERD:-.build/release/perceiverd}
PERCEIVERLOAD=${PERCEIVERLOAD:-.build/release/PerceiverLoad}
PYTHON=${PYTHON:-.venv/bin/python}
OUT=${OUT:-.build/bench/cores-$(date +%Y%m%d-%H%M%S)}

trap cleanup_processes EXIT
trap 'exit 130' INT TERM

# config FILE MODELS_JSON: a daemon configuration serving MODELS_JSON (a JSON array of model entries).
config() {
  jq -n --argjson threads "$THREADS" --argjson models "$2" '
    {host: "127.0.0.1", port: 0, threads: $threads, log_level: "info", drain_timeout_ms: 30000,
     models: $models}' > "$1"
}

# entry NAME PATH CAP: one model entry, threads_per_instance CAP (0 = no cap); PATH made absolute (a relative one
# would resolve against the config's directory). The latent cache is off: every request is the same body, and a
# cached encoding would time the decoder alone.
entry() {
  jq -nc --arg name "$1" --arg path "$(realpath "$2")" --argjson cap "$3" \
    '{name: $name, path: $path, max_batch_size: 8, max_queue_size: 0, threads_per_instance: $cap,
      latent_cache_mib: 0}'
}

# fills PHASE: WARMUP_FILLS then FILLS sequential fills on "lang"; prints "PHASE median_ms fastest_ms threads".
fills() {
  local phase=$1 daemon_log=$OUT/$1.log i
  for i in $(seq "$WARMUP_FILLS"); do
    curl -sf --max-time "$TIMEOUT" -o /dev/null -H "X-Request-ID: warm-$i" --data-binary "@$OUT/body.json" \
      "http://127.0.0.1:$PORT/v2/models/lang/infer" || die "$phase: warm-up fill failed"
  done
  for i in $(seq "$FILLS"); do
    curl -sf --max-time "$TIMEOUT" -o /dev/null -H "X-Request-ID: fill-$i" --data-binary "@$OUT/body.json" \
      "http://127.0.0.1:$PORT/v2/models/lang/infer" || die "$phase: fill $i failed"
  done
  sleep 0.5   # the last request line follows its answer
  local lines ms threads
  lines=$(grep -o 'batch.threads=[0-9]* .*duration.ms=[0-9.]* .*request.id=fill-[0-9]*' "$daemon_log")
  ms=$(grep -o 'duration.ms=[0-9.]*' <<< "$lines" | cut -d= -f2 | sort -n \
    | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f", m, v[1] }')
  threads=$(grep -o 'batch.threads=[0-9]*' <<< "$lines" | cut -d= -f2 | sort -n | uniq -c \
    | awk '{ printf "%s%sx%s", (NR > 1 ? "," : ""), $2, $1 }')
  echo "$phase $ms $threads"
}

# busy PHASE CAP: both models under load at once; prints "PHASE lang_rps lang2_rps total_rps mean_threads".
busy() {
  local phase=$1 cap=$2 pids=() name
  config "$OUT/$phase.json" "[$(entry lang "$MODEL" "$cap"), $(entry lang2 "$SECOND" "$cap")]"
  start_daemon "$OUT/$phase.json" "$OUT/$phase.log"
  for name in lang lang2; do
    "$PERCEIVERLOAD" --url "http://127.0.0.1:$PORT/v2/models/$name/infer" --body "$OUT/body.json" \
      --concurrency "$CLIENTS" --duration "$BUSY_DURATION" --warmup "$BUSY_WARMUP" --timeout "$TIMEOUT" --json \
      > "$OUT/$phase-$name.json" &
    pids+=($!)
  done
  for LOAD_PID in "${pids[@]}"; do wait "$LOAD_PID" || die "$phase: PerceiverLoad failed"; done
  LOAD_PID=""
  daemon_alive "$OUT/$phase.log"
  stop_daemon || true
  local a b mean
  a=$(jq -r .throughput_rps "$OUT/$phase-lang.json")
  b=$(jq -r .throughput_rps "$OUT/$phase-lang2.json")
  mean=$(grep -o 'batch.threads.mean=[0-9.]*' "$OUT/$phase.log" | awk -F= '{ s += $2; n++ } END { printf "%.2f", n ? s / n : 0 }')
  awk -v p="$phase" -v a="$a" -v b="$b" -v m="$mean" 'BEGIN { printf "%s %.3f %.3f %.3f %s\n", p, a, b, a + b, m }'
}

mkdir -p "$OUT"
if [ ! -d "$MODEL" ]; then
  log "writing $MODEL"
  "$PYTHON" tools/bench/make_language_model.py "$MODEL" >&2 || die "cannot write $MODEL (make venv first)"
fi
ensure_binaries
check_request "$MODEL" "$TOKENS" "$POSITIONS"
check_request "$SECOND" "$TOKENS" "$POSITIONS"
write_body "$TOKENS" "$POSITIONS" "$OUT/body.json"
warn_other_load || true

log "alone: $MODEL"
config "$OUT/alone.json" "[$(entry lang "$MODEL" 0)]"
start_daemon "$OUT/alone.json" "$OUT/alone.log"
cores=$(grep -o ' threads=[0-9]*' "$OUT/alone.log" | head -1 | cut -d= -f2)
alone=$(fills alone)
stop_daemon || true

log "beside-idle: $MODEL beside $IDLE"
config "$OUT/beside-idle.json" "[$(entry lang "$MODEL" 0), $(entry idle "$IDLE" 0)]"
start_daemon "$OUT/beside-idle.json" "$OUT/beside-idle.log"
beside=$(fills beside-idle)
stop_daemon || true

log "busy-shared and busy-split: $MODEL and $SECOND, $CLIENTS client(s) each"
shared=$(busy busy-shared 0)
split=$(busy busy-split $((cores / 2 > 0 ? cores / 2 : 1)))

{
  echo "perceiverd cores ($cores threads), $(host_isa), MODEL=$MODEL SECOND=$SECOND TOKENS=$TOKENS"
  echo
  echo "| phase | fill median ms | fastest ms | pass threads (count) |"
  echo "|---|---|---|---|"
  for row in "$alone" "$beside"; do awk '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' <<< "$row"; done
  echo
  echo "| phase | lang req/s | lang2 req/s | total req/s | mean threads per pass |"
  echo "|---|---|---|---|---|"
  for row in "$shared" "$split"; do awk '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' <<< "$row"; done
  echo
  awk -v a="$alone" -v b="$beside" -v s="$shared" -v t="$split" 'BEGIN {
    split(a, x, " "); split(b, y, " "); split(s, u, " "); split(t, v, " ")
    printf "beside-idle / alone (median): %.2f; busy-shared / busy-split (total req/s): %.2f\n", y[2] / x[2], u[4] / v[4] }'
} | tee "$OUT/report.md"
