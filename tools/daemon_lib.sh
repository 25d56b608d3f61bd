# shellcheck shell=bash
# tools/daemon_lib.sh: shell functions tools/bench/bench_batching.sh, tools/bench/bench_cores.sh and
# tools/qa/soak.sh share (sourced, not run).
#
# Starting and stopping one perceiverd in the background, a free port, the test config and request body.
# State is in globals: DAEMON_PID and PORT (set by start_daemon), LOAD_PID (the caller's PerceiverLoad, if any),
# and the caller's PERCEIVERD, PERCEIVERLOAD and START_TIMEOUT. The caller calls cleanup_processes from its
# EXIT trap and turns INT and TERM into exits (trap 'exit 130' INT), so that the daemon and PerceiverLoad are
# stopped however the script ends.

DAEMON_PID=""
LOAD_PID=""
PORT=""

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# stop_daemon: SIGTERM to the daemon, SIGKILL if it has not exited 60 s later; returns its exit status.
stop_daemon() {
  local pid=$DAEMON_PID status=0
  [ -n "$pid" ] || return 0
  DAEMON_PID=""
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "perceiverd $pid did not stop within 60 s of SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || status=$?
  return "$status"
}

# cleanup_processes: for the EXIT trap: stops PerceiverLoad and the daemon if they are running.
cleanup_processes() {
  if [ -n "$LOAD_PID" ]; then
    kill -TERM "$LOAD_PID" 2>/dev/null || true
    wait "$LOAD_PID" 2>/dev/null || true
    LOAD_PID=""
  fi
  stop_daemon || true
}

# ensure_binaries: release build when perceiverd or PerceiverLoad is missing.
ensure_binaries() {
  if [ ! -x "$PERCEIVERD" ] || [ ! -x "$PERCEIVERLOAD" ]; then
    log "building release binaries (swift build -c release)"
    swift build -c release >&2 || die "swift build -c release failed"
  fi
}

# other_load: the pids of perceiverd and PerceiverLoad processes that are not this script's, space-separated.
other_load() {
  # One pgrep per name: pgrep refuses a pattern longer than 15 characters (a process name's limit), and
  # 'perceiverd|PerceiverLoad' is one, so a single alternation never matched anything.
  { pgrep -x perceiverd; pgrep -x PerceiverLoad; } | grep -vxF -e "${DAEMON_PID:-none}" -e "${LOAD_PID:-none}" \
    | tr '\n' ' ' | sed 's/ $//' || true
}

# warn_other_load: a warning when other perceiverd or PerceiverLoad processes share the CPUs (their load skews
# every number); returns 1 then.
warn_other_load() {
  local others
  others=$(other_load)
  [ -z "$others" ] && return 0
  log "warning: other perceiverd/PerceiverLoad processes are running (pids $others): measurements are skewed"
  return 1
}

# cpu_counters: "WALL_US BUSY OURS": the time in microseconds, the jiffies every CPU has spent busy since boot
# (user, nice, system, irq, softirq), and the jiffies of the daemon, this script and its waited-for children
# (PerceiverLoad, curl, ...), and of the processes in OWN_PIDS (space-separated, e.g. a second daemon). Two
# of them give the CPU other processes used in between: other_cpu_pct.
# host_isa: the instruction set oneDNN dispatches to here (what `$PERCEIVERD inspect` prints), e.g. avx2.
host_isa() {
  "${PERCEIVERD:-.build/release/perceiverd}" inspect --model models/digits --threads 1 2>/dev/null | awk '/^onednn:/ { print $NF }'
}

cpu_counters() {
  local t=$EPOCHREALTIME busy ours=0 pid stat fields
  busy=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat)
  for pid in $$ $DAEMON_PID ${OWN_PIDS:-}; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }                  # after "pid (comm) ": field 3 (state) onwards
    read -r -a fields <<< "$stat"
    ours=$((ours + fields[11] + fields[12] + fields[13] + fields[14]))   # utime stime cutime cstime
  done
  echo "${t/[.,]/} $busy $ours"
}

# other_cpu_pct BEFORE AFTER: from two cpu_counters, the CPU others used in between, in % of one CPU.
other_cpu_pct() {
  local -a a b
  read -r -a a <<< "$1"
  read -r -a b <<< "$2"
  awk -v us=$((b[0] - a[0])) -v j=$((b[1] - a[1] - b[2] + a[2])) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { p = us > 0 ? j / hz / (us / 1e6) * 100 : 0; printf "%.1f\n", (p < 0 ? 0 : p) }'
}

# free_port: a random port on 127.0.0.1 that nothing answers on (start_daemon retries if it is taken meanwhile).
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  die "no free port found"
}

# start_daemon CONFIG LOG: starts perceiverd on a free port (stderr to LOG), sets DAEMON_PID and PORT, and
# waits until /v2/health/ready answers 200. Dies, showing the end of LOG, if the daemon exits first or is not
# ready within START_TIMEOUT seconds; retries on another port when the chosen one was taken.
start_daemon() {
  local config=$1 daemon_log=$2 attempt polls status
  for attempt in 1 2 3; do
    PORT=$(free_port)
    "$PERCEIVERD" serve --config "$config" --port "$PORT" 2> "$daemon_log" &
    DAEMON_PID=$!
    polls=0
    while ! curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/v2/health/ready"; do
      if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
        status=0
        wait "$DAEMON_PID" || status=$?
        DAEMON_PID=""
        if [ "$attempt" -lt 3 ] && grep -qi "address already in use" "$daemon_log"; then
          log "port $PORT was taken; retrying on another"
          continue 2
        fi
        tail -n 20 "$daemon_log" >&2
        die "perceiverd exited with status $status before it was ready (config: $(jq -c . "$config"))"
      fi
      if [ "$polls" -ge $((START_TIMEOUT * 5)) ]; then
        tail -n 20 "$daemon_log" >&2
        die "perceiverd not ready after $START_TIMEOUT s"
      fi
      sleep 0.2
      polls=$((polls + 1))
    done
    return 0
  done
}

# daemon_alive LOG: dies, showing the end of LOG, when the daemon has exited.
daemon_alive() {
  kill -0 "$DAEMON_PID" 2>/dev/null && return 0
  tail -n 20 "$1" >&2
  die "perceiverd (pid $DAEMON_PID) died"
}

# write_config FILE NAME MODEL_DIR THREADS LOG_LEVEL MAX_BATCH QUEUE_DELAY_US MAX_QUEUE_SIZE EXTRA_JSON:
# a one-model configuration on port 0 (start_daemon passes --port); EXTRA_JSON is merged into the model entry.
write_config() {
  jq -n --arg name "$2" --arg path "$3" --argjson threads "$4" --arg log "$5" --argjson batch "$6" \
    --argjson delay "$7" --argjson queue "$8" --argjson extra "$9" '
    {host: "127.0.0.1", port: 0, threads: $threads, log_level: $log, drain_timeout_ms: 30000,
     models: [{name: $name, path: $path, max_batch_size: $batch, max_queue_delay_us: $delay,
               max_queue_size: $queue, default_timeout_us: 0} + $extra]}' > "$1"
}

# write_body TOKENS POSITIONS FILE: a KServe V2 request: input_ids (INT64, [1, TOKENS]) = [CLS], deterministic
# bytes, [SEP], with [MASK] (id 3) at POSITIONS positions spread over the text, and output_positions = those.
write_body() {
  jq -nc --argjson L "$1" --argjson K "$2" '
    [range(0; $K) | 1 + ((. * ($L - 2) / $K) | floor)] as $positions
    | [range(0; $L) | if . == 0 then 4 elif . == $L - 1 then 5 else 6 + ((. * 7919) % 256) end] as $ids
    | (reduce $positions[] as $p ($ids; .[$p] = 3)) as $masked
    | {id: "bench", inputs: [
        {name: "input_ids", shape: [1, $L], datatype: "INT64", data: $masked},
        {name: "output_positions", shape: [1, $K], datatype: "INT64", data: $positions}]}' > "$3"
}

# check_request MODEL_DIR TOKENS POSITIONS: dies when the request does not fit the model.
check_request() {
  local max_positions
  max_positions=$(jq '.max_position_embeddings' "$1/config.json") || die "$1/config.json: not readable"
  [ "$2" -le "$max_positions" ] || die "$2 tokens: over the model's $max_positions positions ($1)"
  if [ "$3" -lt 1 ] || [ "$3" -gt $(($2 - 2)) ]; then die "$3 output positions do not fit $2 tokens"; fi
}

# metrics_value NAME LABELS: a sample's value on the daemon's /metrics, e.g.
# `metrics_value perceiverd_inference_rows_total 'model="small"'`; 0 when absent.
metrics_value() {
  local metrics
  metrics=$(curl -sf --max-time 10 "http://127.0.0.1:$PORT/metrics") || die "cannot read /metrics"
  awk -v series="$1{$2}" '$1 == series { value = $2 } END { printf "%d\n", value }' <<< "$metrics"
}
