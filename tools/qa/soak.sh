#!/usr/bin/env bash
# tools/qa/soak.sh: a long steady load on perceiverd, watching its memory and file descriptors for leaks.
#
# Starts `.build/release/perceiverd serve` with models/demo-mlm in batching mode on a free port, then runs
# PerceiverLoad at one concurrency for DURATION seconds (one level, --warmup 0, so every request counts),
# while sampling the daemon's VmRSS and Threads (/proc/PID/status) and open fd count (/proc/PID/fd) every
# INTERVAL seconds into a CSV. The first WARMUP seconds of the load are the warm-up: sampled, marked
# `warmup` in the CSV, and the baseline for RSS growth. Samples: one `before` the load, `warmup` and `load`
# during it, and `after` it, SETTLE seconds after PerceiverLoad has closed its connections.
#
# At the end it prints: requests, non-2xx, socket errors (PerceiverLoad, whole run), the daemon's own count of
# non-2xx answers, RSS after the warm-up vs at the end and the growth in %, peak RSS (sampled, and the kernel's
# VmHWM), and the fd count before the load, after the warm-up, at the end, and after the load.
#
# With HOSTILE=1, tools/qa/hostile_load.py runs beside the normal clients for the whole load, from 127.0.0.2 (so the
# per-client limits fall on it): huge declared bodies, gzip bombs, slow headers, huge shapes, bad framing,
# pipelined floods, connection floods. The normal clients must still see no error, and memory stay flat; the
# daemon's own non-2xx count then includes the hostile refusals, so it is reported but not a failure.
#
# Exit status: 1 when there was any non-2xx answer or socket error, RSS grew by RSS_GROWTH_LIMIT % or more
# (end vs after warm-up), the fd count after the load is above the count before it, the daemon failed to
# start, died, or did not exit 0 on SIGTERM; else 0.
#
# Usage:
#   tools/qa/soak.sh                                # 600 s at concurrency 64 (about 11 minutes)
#   DURATION=30 WARMUP=10 tools/qa/soak.sh          # a quick check
#
# Variables (environment; defaults in brackets):
#   MODEL              model directory [models/demo-mlm]
#   TOKENS             request length in tokens, [CLS] and [SEP] included [96]
#   OUTPUT_POSITIONS   positions asked for per request [4]
#   BATCH              max_batch_size [32]
#   QUEUE_DELAY_US     max_queue_delay_us [0]
#   MAX_QUEUE_SIZE     max_queue_size (0 = unbounded) [0]
#   THREADS            the daemon's `threads` (0 = all cores) [1]
#   EXTRA_MODEL_KEYS   JSON object merged into the model's config entry [{}]
#   CONCURRENCY        PerceiverLoad clients [64]
#   DURATION           seconds of load, warm-up included [600]
#   WARMUP             the first seconds of the load that are warm-up [30]
#   INTERVAL           seconds between samples [5]
#   SETTLE             seconds after the load before the `after` sample [2]
#   TIMEOUT            PerceiverLoad --timeout [30]
#   RSS_GROWTH_LIMIT   fail at this RSS growth in % or more [10]
#   LOG_LEVEL          daemon log_level [warning]
#   HOSTILE            1 runs tools/qa/hostile_load.py beside the normal clients [0]
#   START_TIMEOUT      seconds to wait for /v2/health/ready [120]
#   CSV                the samples [.build/bench/soak-YYYYmmdd-HHMMSS.csv]
#   PERCEIVERD, PERCEIVERLOAD  binaries [.build/release/perceiverd, .build/release/PerceiverLoad]
# Needs: bash, curl, jq, awk, pgrep; Linux /proc.

set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/daemon_lib.sh
source tools/daemon_lib.sh

MODEL=${MODEL:-models/demo-mlm}
TOKENS=${TOKENS:-96}
OUTPUT_POSITIONS=${OUTPUT_POSITIONS:-4}
BATCH=${BATCH:-32}
QUEUE_DELAY_US=${QUEUE_DELAY_US:-0}
MAX_QUEUE_SIZE=${MAX_QUEUE_SIZE:-0}
THREADS=${THREADS:-1}
EXTRA_MODEL_KEYS=${EXTRA_MODEL_KEYS:-"{}"}
CONCURRENCY=${CONCURRENCY:-64}
DURATION=${DURATION:-600}
WARMUP=${WARMUP:-30}
INTERVAL=${INTERVAL:-5}
SETTLE=${SETTLE:-2}
TIMEOUT=${TIMEOUT:-30}
RSS_GROWTH_LIMIT=${RSS_GROWTH_LIMIT:-10}
LOG_LEVEL=${LOG_LEVEL:-warning}
HOSTILE=${HOSTILE:-0}
START_TIMEOUT=${START_TIMEOUT:-120}
CSV=${CSV:-.build/bench/soak-$(date +%Y%m%d-%H%M%S).csv}
PERCEIVERD=${PERCEIVERD:-.build/release/perceiverd}
PERCEIVERLOAD=${PERCEIVERLOAD:-.build/release/PerceiverLoad}

SAMPLER_PID=""
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX")
on_exit() {
  local status=$?
  trap - EXIT
  if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; fi
  cleanup_processes
  rm -rf "$SCRATCH"
  exit "$status"
}
trap on_exit EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# sample PHASE ELAPSED: one CSV row for the daemon: elapsed_s,phase,rss_kb,fds,threads.
sample() {
  local rss threads fds
  read -r rss threads < <(awk '/^VmRSS:/ { r = $2 } /^Threads:/ { t = $2 } END { print r, t }' \
    "/proc/$DAEMON_PID/status" 2>/dev/null) || return 0
  fds=$(find "/proc/$DAEMON_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  [ -n "$rss" ] && echo "$2,$1,$rss,$fds,$threads" >> "$CSV"
}

# server_non_2xx: the daemon's count of non-2xx HTTP answers so far (perceiverd_http_requests_total).
server_non_2xx() {
  local metrics
  metrics=$(curl -sf --max-time 10 "http://127.0.0.1:$PORT/metrics") || die "cannot read /metrics"
  awk -F'[{}" ]+' '$1 == "perceiverd_http_requests_total" && $3 !~ /^2/ { n += $NF } END { print n + 0 }' \
    <<< "$metrics"
}

# now_us: the time in microseconds since the epoch.
now_us() { local t=$EPOCHREALTIME; echo "${t/[.,]/}"; }

# seconds MICROSECONDS: as seconds with one decimal.
seconds() { printf '%d.%d' $(($1 / 1000000)) $(($1 % 1000000 / 100000)); }

# sampler START_US: samples every INTERVAL s after START_US (on a fixed schedule, so no drift), phase `warmup`
# before WARMUP s and `load` after, the last one at least half a second before the load's end (so that
# PerceiverLoad closing its connections is not sampled as load); then waits to be killed.
sampler() {
  local start=$1 k=0 wait_us elapsed
  trap 'kill $! 2>/dev/null; exit 0' TERM    # $!: the sleep below, so that it does not outlive the sampler
  while [ $((k * INTERVAL_US)) -le $((DURATION * 1000000 - 500000)) ]; do
    wait_us=$((start + k * INTERVAL_US - $(now_us)))
    if [ "$wait_us" -gt 0 ]; then
      sleep "$(printf '%d.%06d' $((wait_us / 1000000)) $((wait_us % 1000000)))" &
      wait $!
    fi
    elapsed=$(($(now_us) - start))
    if [ "$elapsed" -lt "$WARMUP_US" ]; then sample warmup "$(seconds "$elapsed")"
    else sample load "$(seconds "$elapsed")"; fi
    k=$((k + 1))
  done
  sleep infinity &
  wait $!
}

# ---- Checks and preparation ----
[ $# -eq 0 ] || die "usage: $0 (settings are environment variables; see the header)"
for tool in curl jq awk pgrep; do command -v "$tool" >/dev/null || die "$tool is required"; done
jq -e 'type == "object"' <<< "$EXTRA_MODEL_KEYS" >/dev/null 2>&1 || die "EXTRA_MODEL_KEYS must be a JSON object"
for name in DURATION WARMUP INTERVAL SETTLE; do
  [[ ${!name} =~ ^[0-9]+$ ]] || die "$name must be a whole number of seconds (found '${!name}')"
done
if [ "$DURATION" -le "$WARMUP" ] || [ "$INTERVAL" -lt 1 ]; then die "need DURATION > WARMUP and INTERVAL >= 1"; fi
INTERVAL_US=$((INTERVAL * 1000000)) WARMUP_US=$((WARMUP * 1000000))
ensure_binaries
model_dir=$(cd "$MODEL" 2>/dev/null && pwd) || die "no model directory $MODEL"
check_request "$model_dir" "$TOKENS" "$OUTPUT_POSITIONS"
write_body "$TOKENS" "$OUTPUT_POSITIONS" "$SCRATCH/request.json"
write_config "$SCRATCH/config.json" soak "$model_dir" "$THREADS" "$LOG_LEVEL" "$BATCH" "$QUEUE_DELAY_US" \
  "$MAX_QUEUE_SIZE" "$EXTRA_MODEL_KEYS"
mkdir -p "$(dirname "$CSV")"
echo "elapsed_s,phase,rss_kb,fds,threads" > "$CSV"

# ---- The run ----
log "starting perceiverd: $MODEL, max_batch_size $BATCH, max_queue_delay_us $QUEUE_DELAY_US, threads $THREADS"
start_daemon "$SCRATCH/config.json" "$SCRATCH/daemon.log"
log "ready on port $PORT (pid $DAEMON_PID); samples: $CSV"
warn_other_load || true
sleep "$SETTLE"      # the readiness checks' connections close, as the load's will before the `after` sample
sample before 0
non_2xx_before=$(server_non_2xx)

log "load: $CONCURRENCY clients for $DURATION s ($WARMUP s of it warm-up), $TOKENS tokens per request"
load_start=$(now_us)
cpu_before=$(cpu_counters)
sampler "$load_start" &
SAMPLER_PID=$!
"$PERCEIVERLOAD" --url "http://127.0.0.1:$PORT/v2/models/soak/infer" --body "$SCRATCH/request.json" \
  --header "Content-Type: application/json" --concurrency "$CONCURRENCY" --duration "$DURATION" --warmup 0 \
  --timeout "$TIMEOUT" --json > "$SCRATCH/load.json" 2> "$SCRATCH/load.err" &
LOAD_PID=$!
HOSTILE_PID=""
if [ "$HOSTILE" = 1 ]; then
  log "hostile load beside it: tools/qa/hostile_load.py from 127.0.0.2"
  python3 tools/qa/hostile_load.py --port "$PORT" --model soak --duration "$DURATION" > "$SCRATCH/hostile.json" &
  HOSTILE_PID=$!
fi
load_status=0
wait "$LOAD_PID" || load_status=$?
LOAD_PID=""
if [ -n "$HOSTILE_PID" ]; then wait "$HOSTILE_PID" || die "tools/qa/hostile_load.py failed"; fi
cpu_after=$(cpu_counters)
kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
cat "$SCRATCH/load.err" >&2
[ "$load_status" -eq 0 ] || die "PerceiverLoad failed (status $load_status)"
daemon_alive "$SCRATCH/daemon.log"
sleep "$SETTLE"
sample after "$(seconds $(($(now_us) - load_start)))"
others=$(other_load)

# The daemon's own view: its non-2xx answers during the run, and the kernel's high-water mark of its RSS.
non_2xx_after=$(server_non_2xx)
daemon_non_2xx=$((non_2xx_after - non_2xx_before))
hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON_PID/status")
log "stopping perceiverd (SIGTERM)"
stop_status=0
stop_daemon || stop_status=$?

# ---- The summary ----
requests=$(jq '.requests' "$SCRATCH/load.json")
non_2xx=$(jq '[.non_2xx[]] | add // 0' "$SCRATCH/load.json")
socket_errors=$(jq '.socket_errors' "$SCRATCH/load.json")
# The CSV's figures: before the load, after the warm-up (the first `load` row), at the end (the last `load`
# row), after the load, and peaks; `-` for a time that has no sample.
read -r samples rss_before rss_warm rss_end rss_after growth growth_failed peak t_peak \
  fd_before fd_warm fd_end fd_after fd_peak t_warm t_end < <(awk -F, -v limit="$RSS_GROWTH_LIMIT" '
  NR == 1 { next }
  { samples++ }
  $2 == "before" { fd_before = $4; rss_before = $3 }
  $2 == "load" && t_warm == "" { rss_warm = $3; fd_warm = $4; t_warm = $1 }
  $2 == "load" { rss_end = $3; fd_end = $4; t_end = $1 }
  $2 == "after" { fd_after = $4; rss_after = $3 }
  $3 + 0 > peak { peak = $3; t_peak = $1 }
  $4 + 0 > fd_peak { fd_peak = $4 }
  END {
    growth = rss_warm > 0 ? (rss_end - rss_warm) * 100 / rss_warm : 0
    printf "%d %d %d %d %d %.2f %d %d %s ", samples, rss_before, rss_warm, rss_end, rss_after, growth,
      (t_warm != "" && growth >= limit), peak, (t_peak == "" ? "-" : t_peak)
    printf "%d %d %d %d %d %s %s\n", fd_before, fd_warm, fd_end, fd_after, fd_peak,
      (t_warm == "" ? "-" : t_warm), (t_end == "" ? "-" : t_end)
  }' "$CSV")
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

echo
echo "Soak: $MODEL, $TOKENS tokens, max_batch_size $BATCH, threads $THREADS; $CONCURRENCY clients for" \
  "$DURATION s (first $WARMUP s warm-up); $samples samples every $INTERVAL s in $CSV"
echo "requests:              $requests ($(jq '.throughput_rps' "$SCRATCH/load.json") req/s)"
echo "non-2xx:               $non_2xx $(jq -c '.non_2xx' "$SCRATCH/load.json") (the daemon counted $daemon_non_2xx)"
echo "socket errors:         $socket_errors $(jq -c '.socket_error_kinds' "$SCRATCH/load.json")"
echo "latency ms:            $(jq -r '.latency_ms | "p50 \(.p50), p95 \(.p95), p99 \(.p99), max \(.max)"' "$SCRATCH/load.json")"
echo "RSS before load:       $(mib "$rss_before")"
echo "RSS after warm-up:     $(mib "$rss_warm") (at ${t_warm} s)"
echo "RSS at end:            $(mib "$rss_end") (at ${t_end} s); growth ${growth} % (limit ${RSS_GROWTH_LIMIT} %)"
echo "RSS peak:              $(mib "$peak") sampled (at ${t_peak} s); VmHWM $(mib "${hwm_kb:-0}")"
echo "RSS after load:        $(mib "$rss_after")"
echo "open fds:              before load $fd_before, after warm-up $fd_warm, at end $fd_end, after load $fd_after (peak $fd_peak)"
[ "$stop_status" -eq 0 ] || echo "perceiverd exited with status $stop_status after SIGTERM"
echo "other processes' CPU:  $(other_cpu_pct "$cpu_before" "$cpu_after") % of one CPU during the load (not a failure)"
[ -z "$others" ] || echo "warning: other perceiverd/PerceiverLoad processes were running (pids $others)"
[ "$HOSTILE" != 1 ] || echo "hostile load:          $(cat "$SCRATCH/hostile.json")"

failures=()
[ "$t_end" != "-" ] || failures+=("no samples under load")
# Under a hostile load the daemon's non-2xx are the hostile refusals: only the normal clients' count.
[ "$HOSTILE" = 1 ] && daemon_counted=0 || daemon_counted=$daemon_non_2xx
[ $((non_2xx + socket_errors + daemon_counted)) -eq 0 ] \
  || failures+=("$non_2xx non-2xx, $socket_errors socket errors (daemon: $daemon_non_2xx non-2xx)")
[ "$growth_failed" -eq 0 ] || failures+=("RSS growth ${growth} % >= limit ${RSS_GROWTH_LIMIT} %")
[ "$fd_after" -le "$fd_before" ] || failures+=("fds after load $fd_after > before $fd_before")
[ "$stop_status" -eq 0 ] || failures+=("exit status $stop_status")
if [ ${#failures[@]} -gt 0 ]; then
  joined=$(printf '%s; ' "${failures[@]}")
  echo "FAIL: ${joined%; }"
  exit 1
fi
echo "PASS"
