#!/usr/bin/env bash
# tools/bench/bench_batching.sh: throughput and latency of perceiverd with and without dynamic batching.
#
# For each model (small: the `mlm` test fixture, 101,446 parameters in 1 self-attention layer; deep: a model of
# about the same size but the language perceiver's 26 layers at a tiny width, written by
# tools/bench/make_bench_model.py; large: the deepmind/language-perceiver-sized model that
# tools/bench/make_language_model.py writes) and each mode (batching: max_batch_size N; unbatched: max_batch_size 1),
# the script writes a temporary config, starts `.build/release/perceiverd serve` on a free port, waits for
# /v2/health/ready, runs PerceiverLoad once per concurrency level, and stops the daemon with SIGTERM. Every request
# is the same KServe V2 JSON body: input_ids (INT64, shape [1, TOKENS]) and OUTPUT_POSITIONS output_positions,
# so each answer is OUTPUT_POSITIONS x 262 logits. The forward passes and rows the daemon counted during each
# level (/metrics, warm-up included) give the mean rows per pass, which shows whether batching happened.
# The latent cache is off (latent_cache_mib 0) unless LATENT_CACHE_MIB says otherwise: every request has the same
# input_ids, so with the cache on every request after the first would skip the encoder.
#
# At the end it prints markdown for docs/benchmarks.md "Batching": one row per model, mode and level (req/s,
# p50/p95/p99 ms, non-2xx, socket errors, rows per pass), then per model the ratio batching/unbatched req/s and
# p99/p50 per level. Raw results, one JSON object per level (PerceiverLoad's --json line plus the settings), go to
# $RESULTS.
#
# Usage:
#   tools/bench/bench_batching.sh                                  # all three models: about 15 minutes on 2 cores
#   MODELS=small SMALL_DURATION=3 tools/bench/bench_batching.sh    # a quick check
#   EXTRA_MODEL_KEYS='{"instances": 2}' tools/bench/bench_batching.sh   # keys the daemon gains later
#   tools/bench/bench_batching.sh --report .build/bench/batching-X.jsonl    # the tables again, from saved results
#
# Variables (environment; defaults in brackets, for small; deep; large). M is SMALL, DEEP or LARGE:
#   MODELS                   models to run, in order ["small deep large"]
#   LEVELS                   concurrency levels, comma list [1,8,32,128]
#   M_MODEL                  model directory [Tests/PerceiverEngineTests/Fixtures/models/mlm;
#                            .build/models/small-deep-mlm; .build/models/language-perceiver]
#   M_TOKENS                 request length in tokens, [CLS] and [SEP] included [24; 32; 512]
#   M_BATCH                  max_batch_size in batching mode [32; 32; 8]
#   M_QUEUE_DELAY_US         max_queue_delay_us in batching mode (unbatched: 0) [0; 0; 0]
#   M_THREADS                the daemon's `threads` (cores for compute, 0 = all cores) [1; 1; 0]
#   M_DURATION               measured seconds per level [10; 10; 45]
#   M_WARMUP, M_WARMUP_PER_CLIENT
#                            unmeasured seconds before each level: M_WARMUP + concurrency x M_WARMUP_PER_CLIENT,
#                            so that at high concurrency every client has had its first answer and the queue
#                            is in steady state before measuring [2, 0; 2, 0; 5, 0.35]
#   M_TIMEOUT                PerceiverLoad --timeout: seconds one receive may wait [30; 30; 180]
#   OUTPUT_POSITIONS         positions asked for per request [4]
#   MAX_QUEUE_SIZE           max_queue_size in both modes (0 = unbounded, so no level is refused) [0]
#   LATENT_CACHE_MIB         latent_cache_mib in both modes (0 = off, so every request runs the encoder) [0]
#   EXTRA_MODEL_KEYS         JSON object merged into the model's config entry in both modes [{}]
#   LOG_LEVEL                daemon log_level; info logs every request, which costs CPU [warning]
#   START_TIMEOUT            seconds to wait for /v2/health/ready [300]
#   OTHER_CPU_LIMIT          a level is marked skewed when other processes used more than this % of one CPU
#                            (/proc/stat minus the daemon's and this script's CPU time) [10]
#   RESULTS                  JSON lines file [.build/bench/batching-YYYYmmdd-HHMMSS.jsonl]
#   PERCEIVERD, PERCEIVERLOAD  binaries [.build/release/perceiverd, .build/release/PerceiverLoad]
#   PYTHON                   Python with transformers, to write the large model if missing [.venv/bin/python]
#
# Exit status: 0 when every run completed; 1 when a daemon does not start or dies, or PerceiverLoad fails.
# Non-2xx answers and socket errors are reported in the table, not treated as failures.
# Needs: bash 5, curl, jq, awk, pgrep; Linux /proc. The daemon is always stopped on exit (also on Ctrl-C).

set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/daemon_lib.sh
source tools/daemon_lib.sh

MODELS=${MODELS:-small deep large}
LEVELS=${LEVELS:-1,8,32,128}
SMALL_MODEL=${SMALL_MODEL:-Tests/PerceiverEngineTests/Fixtures/models/mlm}
SMALL_TOKENS=${SMALL_TOKENS:-24}
SMALL_BATCH=${SMALL_BATCH:-32}
SMALL_QUEUE_DELAY_US=${SMALL_QUEUE_DELAY_US:-0}
SMALL_THREADS=${SMALL_THREADS:-1}
SMALL_DURATION=${SMALL_DURATION:-10}
SMALL_WARMUP=${SMALL_WARMUP:-2}
SMALL_WARMUP_PER_CLIENT=${SMALL_WARMUP_PER_CLIENT:-0}
SMALL_TIMEOUT=${SMALL_TIMEOUT:-30}
DEEP_MODEL=${DEEP_MODEL:-.build/models/small-deep-mlm}
DEEP_TOKENS=${DEEP_TOKENS:-32}
DEEP_BATCH=${DEEP_BATCH:-32}
DEEP_QUEUE_DELAY_US=${DEEP_QUEUE_DELAY_US:-0}
DEEP_THREADS=${DEEP_THREADS:-1}
DEEP_DURATION=${DEEP_DURATION:-10}
DEEP_WARMUP=${DEEP_WARMUP:-2}
DEEP_WARMUP_PER_CLIENT=${DEEP_WARMUP_PER_CLIENT:-0}
DEEP_TIMEOUT=${DEEP_TIMEOUT:-30}
LARGE_MODEL=${LARGE_MODEL:-.build/models/language-perceiver}
LARGE_TOKENS=${LARGE_TOKENS:-512}
LARGE_BATCH=${LARGE_BATCH:-8}
LARGE_QUEUE_DELAY_US=${LARGE_QUEUE_DELAY_US:-0}
LARGE_THREADS=${LARGE_THREADS:-0}
LARGE_DURATION=${LARGE_DURATION:-45}
LARGE_WARMUP=${LARGE_WARMUP:-5}
LARGE_WARMUP_PER_CLIENT=${LARGE_WARMUP_PER_CLIENT:-0.35}
LARGE_TIMEOUT=${LARGE_TIMEOUT:-180}
OUTPUT_POSITIONS=${OUTPUT_POSITIONS:-4}
MAX_QUEUE_SIZE=${MAX_QUEUE_SIZE:-0}
LATENT_CACHE_MIB=${LATENT_CACHE_MIB:-0}
EXTRA_MODEL_KEYS=${EXTRA_MODEL_KEYS:-"{}"}
LOG_LEVEL=${LOG_LEVEL:-warning}
START_TIMEOUT=${START_TIMEOUT:-300}
OTHER_CPU_LIMIT=${OTHER_CPU_LIMIT:-10}
RESULTS=${RESULTS:-.build/bench/batching-$(date +%Y%m%d-%H%M%S).jsonl}
PERCEIVERD=${PERCEIVERD:-.build/release/perceiverd}
PERCEIVERLOAD=${PERCEIVERLOAD:-.build/release/PerceiverLoad}
PYTHON=${PYTHON:-.venv/bin/python}

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/bench_batching.XXXXXX")
on_exit() { local status=$?; trap - EXIT; cleanup_processes; rm -rf "$SCRATCH"; exit "$status"; }
trap on_exit EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# setting MODEL NAME: the value of MODEL_NAME, e.g. `setting small TOKENS` is $SMALL_TOKENS.
setting() { local name="${1^^}_$2"; printf '%s' "${!name}"; }

# passes_and_rows MODEL: "FORWARD_PASSES ROWS" the daemon has counted for MODEL so far.
passes_and_rows() {
  echo "$(metrics_value perceiverd_inference_executions_total "model=\"$1\"")" \
       "$(metrics_value perceiverd_inference_rows_total "model=\"$1\"")"
}

# report RESULTS: the markdown summary of a results file (settings, one row per level, ratios per model).
report() {
  local results=$1
  jq -r -s 'first | "perceiverd dynamic batching benchmark, \(.date), commit \(.commit); \(.cpus) CPUs"
    + " (\(.cpu), oneDNN isa \(.isa // "?")), precision f32, PerceiverLoad on the same CPUs."' "$results"
  jq -r -s '
    group_by(.model) | sort_by({"small": 0, "deep": 1, "large": 2}[.[0].model] // 3) | .[]
    | (map(select(.mode == "batching")) | first) as $b
    | (map(.warmup_s) | unique | map(tostring) | join("/")) as $warmups
    | "- \(.[0].model): `\(.[0].model_path)`, \(.[0].tokens) tokens per request, \(.[0].output_positions)"
      + " output positions, threads \(.[0].threads); batching = max_batch_size \($b.max_batch_size // "-")"
      + " with max_queue_delay_us \($b.max_queue_delay_us // "-"), unbatched = max_batch_size 1;"
      + " \(.[0].duration_s) s measured per level after \($warmups) s of warm-up; latent cache"
      + " \(.[0].latent_cache_mib | if . == 0 then "off" elif . == null then "not recorded" else "\(.) MiB" end)."' "$results"
  echo
  echo "| model | mode | max batch | concurrency | req/s | p50 ms | p95 ms | p99 ms | non-2xx | socket errors | rows/pass |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  jq -r --argjson limit "$OTHER_CPU_LIMIT" '[.model, .mode, .max_batch_size,
          "\(.concurrency)\(if (.other_load_pids // []) != [] or (.other_cpu_pct // 0) > $limit then "*" else "" end)",
          .throughput_rps, .latency_ms.p50, .latency_ms.p95,
          .latency_ms.p99, ([.non_2xx[]] | add // 0), .socket_errors,
          (if .forward_passes > 0 then .rows / .forward_passes else null end)] | @tsv' "$results" \
    | awk -F'\t' '
        function num(x, f) { return x == "" ? "-" : sprintf(f, x) }
        { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, num($5, "%.1f"),
                 num($6, "%.2f"), num($7, "%.2f"), num($8, "%.2f"), $9, $10, num($11, "%.2f") }'
  if jq -e -s --argjson limit "$OTHER_CPU_LIMIT" \
       'any(.[]; (.other_load_pids // []) != [] or (.other_cpu_pct // 0) > $limit)' "$results" >/dev/null; then
    echo
    echo "\* other processes shared the CPUs during this level (more than $OTHER_CPU_LIMIT % of a CPU, or another"
    echo "perceiverd/PerceiverLoad): its numbers are skewed. Other processes' CPU per level, in % of one CPU:"
    jq -r -s '"\(map("\(.model)/\(.mode)/\(.concurrency): \(.other_cpu_pct // "?")") | join(", "))."' "$results"
  fi
  echo
  echo "Batching over unbatched (req/s ratio) and tail over median latency (p99/p50), per model and concurrency:"
  echo
  echo "| model | concurrency | req/s batching | req/s unbatched | batching/unbatched | p99/p50 batching | p99/p50 unbatched |"
  echo "|---|---|---|---|---|---|---|"
  jq -r -s '
    def ratio($a; $b): if $a == null or $b == null or $b == 0 then null else $a / $b end;
    group_by(.model) | sort_by({"small": 0, "deep": 1, "large": 2}[.[0].model] // 3) | .[]
    | (map(select(.mode == "batching")) | INDEX(.concurrency | tostring)) as $on
    | (map(select(.mode == "unbatched")) | INDEX(.concurrency | tostring)) as $off
    | (map(.concurrency) | unique | .[]) as $c
    | $on[$c | tostring] as $b | $off[$c | tostring] as $u
    | [.[0].model, $c, $b.throughput_rps, $u.throughput_rps, ratio($b.throughput_rps; $u.throughput_rps),
       ratio($b.latency_ms.p99; $b.latency_ms.p50), ratio($u.latency_ms.p99; $u.latency_ms.p50)] | @tsv' "$results" \
    | awk -F'\t' '
        function num(x, f) { return x == "" ? "-" : sprintf(f, x) }
        { printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, num($3, "%.1f"), num($4, "%.1f"),
                 num($5, "%.2f"), num($6, "%.2f"), num($7, "%.2f") }'
  echo
  echo "Raw results: $results"
}

# ---- Checks and preparation ----
if [ "${1:-}" = "--report" ]; then
  [ -f "${2:-}" ] || die "usage: $0 --report RESULTS.jsonl"
  report "$2"
  exit 0
fi
[ $# -eq 0 ] || die "usage: $0 [--report RESULTS.jsonl] (settings are environment variables; see the header)"
for tool in curl jq awk; do command -v "$tool" >/dev/null || die "$tool is required"; done
jq -e 'type == "object"' <<< "$EXTRA_MODEL_KEYS" >/dev/null 2>&1 || die "EXTRA_MODEL_KEYS must be a JSON object"
[[ $LATENT_CACHE_MIB =~ ^[0-9]+$ ]] || die "LATENT_CACHE_MIB must be a whole number of MiB (0 = off)"
for model in $MODELS; do
  case $model in small|deep|large) ;; *) die "MODELS: unknown model '$model' (small, deep, large)";; esac
done
ensure_binaries
if [[ " $MODELS " == *" deep "* ]] && [ ! -f "$DEEP_MODEL/model.safetensors" ]; then
  [ -x "$PYTHON" ] || { log "no $PYTHON: make venv"; make venv >&2; }
  log "writing the small deep model to $DEEP_MODEL"
  "$PYTHON" tools/bench/make_bench_model.py "$DEEP_MODEL" >&2
fi
if [[ " $MODELS " == *" large "* ]] && [ ! -f "$LARGE_MODEL/model.safetensors" ]; then
  [ -x "$PYTHON" ] || { log "no $PYTHON: make venv"; make venv >&2; }
  log "writing the language-perceiver-sized model to $LARGE_MODEL (about 800 MB)"
  "$PYTHON" tools/bench/make_language_model.py "$LARGE_MODEL" >&2
fi
declare -A MODEL_DIR
for model in $MODELS; do
  MODEL_DIR[$model]=$(cd "$(setting "$model" MODEL)" 2>/dev/null && pwd) \
    || die "no model directory $(setting "$model" MODEL) (${model^^}_MODEL)"
  check_request "${MODEL_DIR[$model]}" "$(setting "$model" TOKENS)" "$OUTPUT_POSITIONS"
done
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
IFS=, read -r -a LEVEL_LIST <<< "$LEVELS"
RUN_INFO=$(jq -nc --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" \
  --arg commit "$(git describe --always --dirty 2>/dev/null || echo unknown)" --argjson cpus "$(nproc)" \
  --arg cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" --arg isa "$(host_isa)" \
  '{date: $date, commit: $commit, cpus: $cpus, cpu: $cpu, isa: $isa}')

log "results: $RESULTS"
BENCH_START=$SECONDS

# ---- The runs ----
for model in $MODELS; do
  model_dir=${MODEL_DIR[$model]}
  tokens=$(setting "$model" TOKENS)
  body="$SCRATCH/$model.json"
  write_body "$tokens" "$OUTPUT_POSITIONS" "$body"
  threads=$(setting "$model" THREADS)
  duration=$(setting "$model" DURATION)
  timeout=$(setting "$model" TIMEOUT)

  for mode in batching unbatched; do
    if [ "$mode" = batching ]; then
      batch=$(setting "$model" BATCH); delay=$(setting "$model" QUEUE_DELAY_US)
    else
      batch=1; delay=0
    fi
    config="$SCRATCH/$model-$mode.config.json"
    daemon_log="$SCRATCH/$model-$mode.log"
    write_config "$config" "$model" "$model_dir" "$threads" "$LOG_LEVEL" "$batch" "$delay" "$MAX_QUEUE_SIZE" \
      "$(jq -c --argjson mib "$LATENT_CACHE_MIB" '{latent_cache_mib: $mib} + .' <<< "$EXTRA_MODEL_KEYS")"
    log "$model ($tokens tokens), $mode (max_batch_size $batch, max_queue_delay_us $delay): starting perceiverd"
    start_daemon "$config" "$daemon_log"
    log "ready on port $PORT (pid $DAEMON_PID)"

    for concurrency in "${LEVEL_LIST[@]}"; do
      warmup=$(awk -v w="$(setting "$model" WARMUP)" -v p="$(setting "$model" WARMUP_PER_CLIENT)" \
        -v c="$concurrency" 'BEGIN { printf "%g", w + c * p }')
      log "  concurrency $concurrency: ${warmup} s warm-up, ${duration} s measured"
      others=$(other_load)
      counts_before=$(passes_and_rows "$model")
      cpu_before=$(cpu_counters)
      "$PERCEIVERLOAD" --url "http://127.0.0.1:$PORT/v2/models/$model/infer" --body "$body" \
        --header "Content-Type: application/json" --concurrency "$concurrency" \
        --duration "$duration" --warmup "$warmup" --timeout "$timeout" --json > "$SCRATCH/level.json" &
      LOAD_PID=$!
      wait "$LOAD_PID" || die "PerceiverLoad failed (status $?) at concurrency $concurrency"
      LOAD_PID=""
      cpu_after=$(cpu_counters)
      daemon_alive "$daemon_log"
      other_cpu=$(other_cpu_pct "$cpu_before" "$cpu_after")
      counts_after=$(passes_and_rows "$model")
      others="$others $(other_load)"
      others=$(tr ' ' '\n' <<< "$others" | sed '/^$/d' | sort -un | tr '\n' ' ' | sed 's/ $//')
      [ -z "$others" ] || log "    warning: other perceiverd/PerceiverLoad processes ran during this level: $others"
      if awk -v p="$other_cpu" -v limit="$OTHER_CPU_LIMIT" 'BEGIN { exit !(p > limit) }'; then
        log "    warning: other processes used ${other_cpu} % of a CPU during this level"
      fi
      passes=$((${counts_after% *} - ${counts_before% *})) rows=$((${counts_after#* } - ${counts_before#* }))
      jq -c --arg model "$model" --arg path "$(setting "$model" MODEL)" --arg mode "$mode" \
        --argjson batch "$batch" --argjson delay "$delay" --argjson tokens "$tokens" \
        --argjson positions "$OUTPUT_POSITIONS" --argjson threads "$threads" --argjson warmup "$warmup" \
        --argjson passes "$passes" --argjson rows "$rows" --argjson info "$RUN_INFO" \
        --arg others "$others" --argjson other_cpu "$other_cpu" --argjson cache "$LATENT_CACHE_MIB" '
        $info + {model: $model, model_path: $path, mode: $mode, max_batch_size: $batch,
                 max_queue_delay_us: $delay, tokens: $tokens, output_positions: $positions, threads: $threads,
                 warmup_s: $warmup, forward_passes: $passes, rows: $rows,
                 other_load_pids: ($others | split(" ") | map(select(. != "") | tonumber)),
                 other_cpu_pct: $other_cpu, latent_cache_mib: $cache} + .' "$SCRATCH/level.json" >> "$RESULTS"
      tail -n 1 "$RESULTS" | jq -r '"    \(.requests) requests, \(.throughput_rps) req/s, p50 \(.latency_ms.p50) ms,"
        + " p99 \(.latency_ms.p99) ms, non-2xx \([.non_2xx[]] | add // 0), socket errors \(.socket_errors),"
        + " \(.rows / ([.forward_passes, 1] | max) * 100 | round / 100) rows/pass"' >&2
    done

    log "stopping perceiverd (SIGTERM)"
    stop_status=0
    stop_daemon || stop_status=$?
    [ "$stop_status" -eq 0 ] || log "warning: perceiverd exited with status $stop_status after SIGTERM"
  done
done

# ---- The report ----
log "done in $((SECONDS - BENCH_START)) s"
echo
report "$RESULTS"
