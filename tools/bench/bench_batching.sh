#!/usr/bin/env bash
# tools/bench/bench_batching.sh: throughput and latency of perceiverd with and without dynamic batching.
#
# For each model (small: the `mlm` test fixture, 101,446 parameters in 1 self-attention layer; deep: a model of
# about the same size but the language perceiver's 26 layers at a tiny width, written by
# tools/bench/make_bench_model.py; mid: a mid-size model where compute dominates a request, 64 latents x 256, 4
# self-attention layers, 2.6 M parameters, written by `make_bench_model.py --shape mid`; large: the
# deepmind/language-perceiver-sized model that tools/bench/make_language_model.py writes) and each mode (batching:
# max_batch_size N; unbatched: max_batch_size 1),
# the script writes a temporary config, starts `.build/release/perceiverd serve` on a free port, waits for
# /v2/health/ready, runs PerceiverLoad once per concurrency level, and stops the daemon with SIGTERM. Every request
# is the same KServe V2 JSON body: input_ids (INT64, shape [1, TOKENS]) and OUTPUT_POSITIONS output_positions,
# so each answer is OUTPUT_POSITIONS x 262 logits. The forward passes and rows the daemon counted during each
# level (/metrics, warm-up included) give the mean rows per pass, which shows whether batching happened.
# The latent cache is off (latent_cache_mib 0) unless LATENT_CACHE_MIB says otherwise: every request has the same
# input_ids, so with the cache on every request after the first would skip the encoder.
#
# Where the time goes per request: the script samples the model's statistics (GET /v2/models/NAME/stats) and the
# CPU time of the daemon and of PerceiverLoad (/proc/PID/stat) when the warm-up ends and when the measured window
# ends, and records per request over that window (`window` in the results): the server's phases from the
# statistics (queue, compute_input, compute_infer, compute_output, measured), the handler's time before queueing
# (parse: `success` minus those four, inferred), the client's mean latency (concurrency / req/s, Little's law for
# a closed loop) and what lies outside the handler (that mean minus `success`: reading and parsing the HTTP request,
# waiting for a work-pool thread, serializing and writing the answer, loopback, the client; inferred), and the CPU
# seconds per request of the daemon and of the load generator. docs/benchmarks.md "Batching" says what each phase
# covers in the code.
#
# At the end it prints markdown for docs/benchmarks.md "Batching": one row per model, mode and level (req/s,
# p50/p95/p99 ms, non-2xx, socket errors, rows per pass), then per model the ratio batching/unbatched req/s and
# p99/p50 per level, then the per-request phases and CPU of each level. Raw results, one JSON object per level
# (PerceiverLoad's --json line plus the settings and the window), go to $RESULTS.
#
# Usage:
#   tools/bench/bench_batching.sh                                  # all four models: about 16 minutes on 2 cores
#   MODELS=small SMALL_DURATION=3 tools/bench/bench_batching.sh    # a quick check
#   MODELS=mid tools/bench/bench_batching.sh                       # issue 23 part 4: 32 clients, about 1 minute
#   EXTRA_MODEL_KEYS='{"instances": 2}' tools/bench/bench_batching.sh   # keys the daemon gains later
#   tools/bench/bench_batching.sh --report .build/bench/batching-X.jsonl    # the tables again, from saved results
#
# Variables (environment; defaults in brackets, for small; deep; mid; large). M is SMALL, DEEP, MID or LARGE:
#   MODELS                   models to run, in order ["small deep mid large"]
#   LEVELS                   concurrency levels, comma list: the default of SMALL_, DEEP_ and LARGE_LEVELS
#                            [1,8,32,128]
#   M_LEVELS                 the model's concurrency levels [$LEVELS; $LEVELS; 32; $LEVELS]
#   M_MODEL                  model directory [Tests/PerceiverEngineTests/Fixtures/models/mlm;
#                            .build/models/small-deep-mlm; .build/models/mid-mlm; .build/models/language-perceiver]
#   M_TOKENS                 request length in tokens, [CLS] and [SEP] included [24; 32; 64; 512]
#   M_BATCH                  max_batch_size in batching mode [32; 32; 16; 8]
#   M_QUEUE_DELAY_US         max_queue_delay_us in batching mode (unbatched: 0) [0; 0; 0; 0]
#   M_THREADS                the daemon's `threads` (cores for compute, 0 = all cores) [1; 1; 0; 0]
#   M_DURATION               measured seconds per level [10; 10; 15; 45]
#   M_WARMUP, M_WARMUP_PER_CLIENT
#                            unmeasured seconds before each level: M_WARMUP + concurrency x M_WARMUP_PER_CLIENT,
#                            so that at high concurrency every client has had its first answer and the queue
#                            is in steady state before measuring [2, 0; 2, 0; 5, 0; 5, 0.35]
#   M_TIMEOUT                PerceiverLoad --timeout: seconds one receive may wait [30; 30; 30; 180]
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
#   PYTHON                   Python with transformers, to write the deep, mid and large models if missing
#                            [.venv/bin/python]
#
# Exit status: 0 when every run completed; 1 when a daemon does not start or dies, or PerceiverLoad fails.
# Non-2xx answers and socket errors are reported in the table, not treated as failures.
# Needs: bash 5, curl, jq, awk, pgrep; Linux /proc. The daemon is always stopped on exit (also on Ctrl-C).

set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/daemon_lib.sh
source tools/daemon_lib.sh

MODELS=${MODELS:-small deep mid large}
LEVELS=${LEVELS:-1,8,32,128}
SMALL_LEVELS=${SMALL_LEVELS:-$LEVELS}
SMALL_MODEL=${SMALL_MODEL:-Tests/PerceiverEngineTests/Fixtures/models/mlm}
SMALL_TOKENS=${SMALL_TOKENS:-24}
SMALL_BATCH=${SMALL_BATCH:-32}
SMALL_QUEUE_DELAY_US=${SMALL_QUEUE_DELAY_US:-0}
SMALL_THREADS=${SMALL_THREADS:-1}
SMALL_DURATION=${SMALL_DURATION:-10}
SMALL_WARMUP=${SMALL_WARMUP:-2}
SMALL_WARMUP_PER_CLIENT=${SMALL_WARMUP_PER_CLIENT:-0}
SMALL_TIMEOUT=${SMALL_TIMEOUT:-30}
DEEP_LEVELS=${DEEP_LEVELS:-$LEVELS}
DEEP_MODEL=${DEEP_MODEL:-.build/models/small-deep-mlm}
DEEP_TOKENS=${DEEP_TOKENS:-32}
DEEP_BATCH=${DEEP_BATCH:-32}
DEEP_QUEUE_DELAY_US=${DEEP_QUEUE_DELAY_US:-0}
DEEP_THREADS=${DEEP_THREADS:-1}
DEEP_DURATION=${DEEP_DURATION:-10}
DEEP_WARMUP=${DEEP_WARMUP:-2}
DEEP_WARMUP_PER_CLIENT=${DEEP_WARMUP_PER_CLIENT:-0}
DEEP_TIMEOUT=${DEEP_TIMEOUT:-30}
MID_LEVELS=${MID_LEVELS:-32}
MID_MODEL=${MID_MODEL:-.build/models/mid-mlm}
MID_TOKENS=${MID_TOKENS:-64}
MID_BATCH=${MID_BATCH:-16}
MID_QUEUE_DELAY_US=${MID_QUEUE_DELAY_US:-0}
MID_THREADS=${MID_THREADS:-0}
MID_DURATION=${MID_DURATION:-15}
MID_WARMUP=${MID_WARMUP:-5}
MID_WARMUP_PER_CLIENT=${MID_WARMUP_PER_CLIENT:-0}
MID_TIMEOUT=${MID_TIMEOUT:-30}
LARGE_LEVELS=${LARGE_LEVELS:-$LEVELS}
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

# process_jiffies PID: the CPU time (utime + stime, clock ticks) process PID has used, or null when it has gone.
process_jiffies() {
  local stat fields
  if [ -n "$1" ] && stat=$(cat "/proc/$1/stat" 2>/dev/null); then
    stat=${stat##*) }                  # after "pid (comm) ": field 3 (state) onwards
    read -r -a fields <<< "$stat"
    echo $((fields[11] + fields[12]))
  else
    echo null
  fi
}

# window_sample MODEL: one JSON line: the time (microseconds), MODEL's statistics (/v2/models/MODEL/stats, null if
# unreadable) and the CPU ticks of the daemon and of PerceiverLoad so far.
window_sample() {
  local t=$EPOCHREALTIME load daemon stats
  load=$(process_jiffies "$LOAD_PID")
  daemon=$(process_jiffies "$DAEMON_PID")
  stats=$(curl -sf --max-time 10 "http://127.0.0.1:$PORT/v2/models/$1/stats") || stats=null
  jq -c --argjson t "${t/[.,]/}" --argjson daemon "$daemon" --argjson load "$load" \
    '{t_us: $t, stats: (.model_stats[0]? // null), daemon_jiffies: $daemon, load_jiffies: $load}' <<< "$stats"
}

# sleep_until EPOCHREALTIME: sleeps until then (at once when it has passed).
sleep_until() {
  local left
  left=$(awk -v until="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.3f", until - now }')
  if awk -v s="$left" 'BEGIN { exit !(s > 0) }'; then sleep "$left"; fi
}

# WINDOW_JQ: jq definitions: window($before; $after; $hz; $concurrency; $rps), the per-request phases and CPU of a
# measured window from two window_sample lines (null when a sample lacks the statistics). All times are means per
# successful request, in ms; parse and outside are inferred by subtraction, the rest measured.
WINDOW_JQ='
def delta($b; $a; f): ($a | f) - ($b | f);
def window($b; $a; $hz; $concurrency; $rps):
  if $b.stats == null or $a.stats == null then null else
  delta($b; $a; .stats.inference_stats.success.count) as $n
  | delta($b; $a; .stats.execution_count) as $passes
  | (if $n > 0 then $n else null end) as $per
  | [$b, $a | [.stats.inference_stats | .success, .queue, .compute_input, .compute_infer, .compute_output | .ns]]
    as [$x, $y]
  | [range(0; 5) | if $per then ($y[.] - $x[.]) / $per / 1e6 else null end] as [$success, $q, $in, $inf, $out]
  | delta($b; $a; [.stats.batch_stats[].compute_infer.ns] | add // 0) as $pass_ns
  | (if $rps > 0 then $concurrency / $rps * 1000 else null end) as $client
  | (if $a.daemon_jiffies != null and $b.daemon_jiffies != null
     then ($a.daemon_jiffies - $b.daemon_jiffies) / $hz else null end) as $daemon_s
  | (if $a.load_jiffies != null and $b.load_jiffies != null
     then ($a.load_jiffies - $b.load_jiffies) / $hz else null end) as $load_s
  | (($a.t_us - $b.t_us) / 1e6) as $seconds
  | {seconds: $seconds, requests: $n, failed: delta($b; $a; .stats.inference_stats.fail.count),
     rows: delta($b; $a; .stats.inference_count), passes: $passes,
     rows_per_pass: (if $passes > 0 then delta($b; $a; .stats.inference_count) / $passes else null end),
     cache_hits: delta($b; $a; .stats.inference_stats.cache_hit.count),
     ms_per_request: {client_mean: $client, success: $success,
                      outside: (if $client and $success then $client - $success else null end),
                      parse: (if $success then $success - $q - $in - $inf - $out else null end),
                      queue: $q, compute_input: $in, compute_infer: $inf, compute_output: $out},
     infer_ms_per_pass: (if $passes > 0 then $pass_ns / $passes / 1e6 else null end),
     cpu: {daemon_s: $daemon_s, load_s: $load_s,
           daemon_ms_per_request: (if $daemon_s and $per then $daemon_s / $per * 1000 else null end),
           load_ms_per_request: (if $load_s and $per then $load_s / $per * 1000 else null end),
           load_share: (if $daemon_s and $load_s then $load_s / ($daemon_s + $load_s) else null end),
           daemon_cores: (if $daemon_s and $seconds > 0 then $daemon_s / $seconds else null end),
           load_cores: (if $load_s and $seconds > 0 then $load_s / $seconds else null end)}}
  end;'

# report RESULTS: the markdown summary of a results file (settings, one row per level, ratios per model).
report() {
  local results=$1
  jq -r -s 'first | "perceiverd dynamic batching benchmark, \(.date), commit \(.commit); \(.cpus) CPUs"
    + " (\(.cpu), oneDNN isa \(.isa // "?")), precision f32, PerceiverLoad on the same CPUs."
    + (.binary | if . == null then "" else " Daemon: \(.path), version \(.version), built \(.modified)"
       + " (the commit above is that of the script)." end)' "$results"
  jq -r -s '
    group_by(.model) | sort_by({"small": 0, "deep": 1, "mid": 2, "large": 3}[.[0].model] // 4) | .[]
    | (map(select(.mode == "batching")) | first) as $b
    | (map(.warmup_s) | unique | map(tostring) | join("/")) as $warmups
    | "- \(.[0].model): `\(.[0].model_path)`, \(.[0].tokens) tokens per request, \(.[0].output_positions)"
      + " output positions, threads \(.[0].threads); batching = max_batch_size \($b.max_batch_size // "-")"
      + " with max_queue_delay_us \($b.max_queue_delay_us // "-"), unbatched = max_batch_size 1;"
      + " \(.[0].duration_s) s measured per level after \($warmups) s of warm-up; latent cache"
      + " \(.[0].latent_cache_mib | if . == 0 then "off" elif . == null then "not recorded" else "\(.) MiB" end)."' \
    "$results"
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
    group_by(.model) | sort_by({"small": 0, "deep": 1, "mid": 2, "large": 3}[.[0].model] // 4) | .[]
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
  if jq -e -s 'any(.[]; .window != null)' "$results" >/dev/null; then
    echo
    echo "Where the time goes per request, in ms, means over each level's measured window. Measured: p50 (the"
    echo "load generator), queue to compute_output (the model's statistics), CPU (/proc). Inferred: client mean ="
    echo "clients / req/s; parse = the statistics' success minus its four phases; outside = client mean minus"
    echo "success."
    echo
    echo "| model | mode | concurrency | client p50 | client mean | outside | parse | queue | compute_input |" \
      "compute_infer | compute_output | infer ms/pass | rows/pass | daemon CPU ms/req | load CPU ms/req |" \
      "load share of CPU |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    jq -r 'select(.window != null) | .window as $w | $w.ms_per_request as $m
      | [.model, .mode, .concurrency, .latency_ms.p50, $m.client_mean, $m.outside, $m.parse, $m.queue,
         $m.compute_input, $m.compute_infer, $m.compute_output, $w.infer_ms_per_pass, $w.rows_per_pass,
         $w.cpu.daemon_ms_per_request, $w.cpu.load_ms_per_request,
         (if $w.cpu.load_share == null then null else $w.cpu.load_share * 100 end)] | @tsv' "$results" \
      | awk -F'\t' '
          function num(x, f) { return x == "" ? "-" : sprintf(f, x) }
          { printf "| %s | %s | %s", $1, $2, $3
            for (i = 4; i <= 12; i++) printf " | %s", num($i, i == 9 ? "%.3f" : "%.2f")
            printf " | %s | %s | %s | %s |\n", num($13, "%.2f"), num($14, "%.3f"), num($15, "%.3f"),
                   num($16, "%.1f %%") }'
    if jq -e -s 'any(.[]; (.window.cache_hits // 0) > 0)' "$results" >/dev/null; then
      echo
      echo "Latent-cache hits in a window (those requests skipped the encoder): $(jq -r -s \
        'map(select((.window.cache_hits // 0) > 0) | "\(.model)/\(.mode)/\(.concurrency): \(.window.cache_hits)")
         | join(", ")' "$results")."
    fi
  fi
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
  case $model in small|deep|mid|large) ;; *) die "MODELS: unknown model '$model' (small, deep, mid, large)";; esac
done
ensure_binaries
if [[ " $MODELS " == *" deep "* ]] && [ ! -f "$DEEP_MODEL/model.safetensors" ]; then
  [ -x "$PYTHON" ] || { log "no $PYTHON: make venv"; make venv >&2; }
  log "writing the small deep model to $DEEP_MODEL"
  "$PYTHON" tools/bench/make_bench_model.py "$DEEP_MODEL" >&2
fi
if [[ " $MODELS " == *" mid "* ]] && [ ! -f "$MID_MODEL/model.safetensors" ]; then
  [ -x "$PYTHON" ] || { log "no $PYTHON: make venv"; make venv >&2; }
  log "writing the mid-size model to $MID_MODEL"
  "$PYTHON" tools/bench/make_bench_model.py --shape mid "$MID_MODEL" >&2
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
RUN_INFO=$(jq -nc --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" \
  --arg commit "$(git describe --always --dirty 2>/dev/null || echo unknown)" --argjson cpus "$(nproc)" \
  --arg cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" --arg isa "$(host_isa)" \
  --arg binary "$PERCEIVERD" --arg version "$("$PERCEIVERD" --version 2>/dev/null || echo unknown)" \
  --arg built "$(date -u -r "$PERCEIVERD" +%Y-%m-%dT%H:%MZ)" \
  '{date: $date, commit: $commit, cpus: $cpus, cpu: $cpu, isa: $isa,
    binary: {path: $binary, version: $version, modified: $built}}')

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
  IFS=, read -r -a LEVEL_LIST <<< "$(setting "$model" LEVELS)"

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
      launched=$EPOCHREALTIME
      "$PERCEIVERLOAD" --url "http://127.0.0.1:$PORT/v2/models/$model/infer" --body "$body" \
        --header "Content-Type: application/json" --concurrency "$concurrency" \
        --duration "$duration" --warmup "$warmup" --timeout "$timeout" --json > "$SCRATCH/level.json" &
      LOAD_PID=$!
      # Inside PerceiverLoad's measured window (which starts once its clients have connected) by a margin of
      # min(0.25 s, a quarter of it) at each end, so that PerceiverLoad is still running at the second sample.
      # Per-request means in a steady state do not depend on the window's exact edges.
      sleep_until "$(awk -v t="$launched" -v w="$warmup" -v d="$duration" \
        'BEGIN { m = d / 4 < 0.25 ? d / 4 : 0.25; printf "%.6f", t + w + m }')"
      window_before=$(window_sample "$model")
      sleep_until "$(awk -v t="$launched" -v w="$warmup" -v d="$duration" \
        'BEGIN { m = d / 4 < 0.25 ? d / 4 : 0.25; printf "%.6f", t + w + d - m }')"
      window_after=$(window_sample "$model")
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
        --arg others "$others" --argjson other_cpu "$other_cpu" --argjson before "$window_before" \
        --argjson after "$window_after" --argjson hz "$(getconf CLK_TCK)" \
        --argjson cache "$LATENT_CACHE_MIB" "$WINDOW_JQ"'
        $info + {model: $model, model_path: $path, mode: $mode, max_batch_size: $batch,
                 max_queue_delay_us: $delay, tokens: $tokens, output_positions: $positions, threads: $threads,
                 warmup_s: $warmup, forward_passes: $passes, rows: $rows,
                 other_load_pids: ($others | split(" ") | map(select(. != "") | tonumber)),
                 other_cpu_pct: $other_cpu, latent_cache_mib: $cache} + .
        | .window = window($before; $after; $hz; .concurrency; .throughput_rps)' "$SCRATCH/level.json" >> "$RESULTS"
      tail -n 1 "$RESULTS" | jq -r '"    \(.requests) requests, \(.throughput_rps) req/s, p50 \(.latency_ms.p50) ms,"
        + " p99 \(.latency_ms.p99) ms, non-2xx \([.non_2xx[]] | add // 0), socket errors \(.socket_errors),"
        + " \(.rows / ([.forward_passes, 1] | max) * 100 | round / 100) rows/pass"
        + (.window | if . == null then "" else ", window: queue \((.ms_per_request.queue // 0) * 100 | round / 100)"
           + " ms, compute_infer \((.ms_per_request.compute_infer // 0) * 100 | round / 100) ms, load generator"
           + " \(.cpu.load_share | if . == null then "?" else . * 1000 | round / 10 end) % of the CPU" end)' >&2
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
