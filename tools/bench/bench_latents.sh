#!/usr/bin/env bash
# tools/bench/bench_latents.sh: the latent cache (issue 20), end to end over HTTP against a release perceiverd.
#
# What it measures, each on its own daemon (one model, THREADS compute threads, nothing else running from here):
#   flow        optical flow at 368 x 496 (deepmind/optical-flow-perceiver's config, random weights): one request
#               is a frame pair `frames` (1, 2, 3, 368, 496) FP32 plus `output_positions` (1, 4096) INT64, both
#               binary tensor data. Uncached: new frames every run (each a cache miss); cached: the frame pair
#               of the warm-up request again, with new pixels (hits); by latents_id: only output_positions and
#               the warm-up's latents_id. Medians; target uncached / cached >= 20x.
#   language    language-perceiver (201M, tools/bench/make_language_model.py): 2048 bytes of input_ids, 16
#               output_positions; the same three kinds of request. Target uncached / cached >= 10x.
#   multimodal  deepmind/multimodal-perceiver's config (random weights): DeepMind's 128-chunk decoding loop over
#               one clip (16 x 224 x 224 video, 30,720 x 1 audio, a 700-label vector), every call sending the full
#               inputs plus that chunk's output_positions_image / _audio / _label, on two daemons at once: one
#               without the cache (latent_cache_mib 0), one with it. The loops alternate, one request at a time
#               (so the chunks both time share the machine's load): without the cache only the first
#               MM_UNCACHED_CHUNKS chunks are timed and the loop's total is extrapolated (the report says so);
#               with the cache the whole loop is timed. Then MM_BY_ID_CHUNKS chunks of another clip by latents_id
#               (the clip sent once). Target: total without / with the cache >= 8x.
#   memory      the language model with latent_cache_mib MEM_CACHE_MIB: MEM_CLIENTS concurrent clients sending
#               distinct random texts for MEM_DURATION s (requests still queued at the end are abandoned, which
#               the daemon drops); the daemon's VmRSS sampled every 0.1 s, its VmHWM, and
#               perceiverd_latent_cache_bytes every 0.5 s. Targets: peak RSS <= cache budget + weights
#               (parameters x 4 bytes) + memory_budget_mib; cache bytes never above the budget.
#   in-process  (IN_PROCESS=1) `PerceiverBench latents` on each model, no daemon: the encode and one decode of
#               the same requests timed apart, with the engine's matmul GFLOP of each: what a cache hit still
#               pays and the best ratio a hit can reach, (encode + decode) / decode.
#
# Steps: release build (perceiverd, PerceiverBench), `make venv`, the three checkpoints under .build/models when
# missing (seeded random weights, written by transformers: tools/bench/make_language_model.py and
# tools/bench/bench_reference.py checkpoint), then the scenarios in the order above (in-process last), then the
# report:
# the machine (lscpu model name, cores, oneDNN ISA, load average), one table per scenario, and each target with
# PASS or FAIL. Each record also says how much CPU other processes used meanwhile (% of one CPU): the machine is
# shared, and anything above a few % skews the times.
#
# Usage:
#   tools/bench/bench_latents.sh                # everything: about 15 minutes on 2 quiet cores
#   QUICK=1 tools/bench/bench_latents.sh        # smoke run: few runs and chunks, short memory run: about 6 minutes
#   SCENARIOS="language memory" tools/bench/bench_latents.sh
#
# Variables (environment; full defaults, QUICK=1 defaults in brackets):
#   SCENARIOS           which to run, space-separated ["flow language multimodal memory in-process"]
#   THREADS             the daemon's compute threads [nproc]
#   FLOW_RUNS, FLOW_CACHED_RUNS, FLOW_PIXELS                  [3, 5, 4096] [1, 2, 4096]
#   LANG_RUNS, LANG_CACHED_RUNS, LANG_TOKENS, LANG_POSITIONS  [5, 10, 2048, 16] [2, 3, 2048, 16]
#   MM_CHUNKS, MM_UNCACHED_CHUNKS, MM_CACHED_CHUNKS, MM_BY_ID_CHUNKS  [128, 16, 128, 16] [128, 2, 4, 3]
#   MEM_CLIENTS, MEM_DURATION, MEM_CACHE_MIB, MEM_BUDGET_MIB, MEM_TOKENS  [32, 60, 16, 2048, 2048] [8, 30, 4, 2048, 2048]
#   IN_PROCESS, IN_PROCESS_RUNS  [1, 3] [0, 1]
#   START_TIMEOUT       seconds to wait for /v2/health/ready (the flow model's warm-up is one full pass) [300]
#   OUT                 output directory [.build/bench-latents/YYYYmmdd-HHMMSS]
#   LANGUAGE_MODEL, FLOW_MODEL, MULTIMODAL_MODEL   checkpoints [.build/models/{language,optical-flow,multimodal}-perceiver]
#   PERCEIVERD, PERCEIVERBENCH  binaries [.build/release/perceiverd, .build/release/PerceiverBench]
#
# Output in OUT: results.jsonl (one JSON line per scenario, with the settings and other processes' CPU),
# report.md (the report, also printed), each daemon's config and log (<scenario>.config.json, <scenario>.log;
# multimodal-uncached and multimodal-cached for the two multimodal daemons).
# Exit status: 0 when every scenario ran (whether or not its target is met); 1 when a build, the venv, a
# checkpoint, a daemon or a client fails. Needs: bash 5, curl, jq, awk, python3, lscpu; Linux /proc.

set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/daemon_lib.sh
source tools/daemon_lib.sh

QUICK=${QUICK:-0}
quick() { if [ "$QUICK" = 1 ]; then echo "$2"; else echo "$1"; fi; }
SCENARIOS=${SCENARIOS:-"flow language multimodal memory in-process"}
THREADS=${THREADS:-$(nproc)}
FLOW_RUNS=${FLOW_RUNS:-$(quick 3 1)}
FLOW_CACHED_RUNS=${FLOW_CACHED_RUNS:-$(quick 5 2)}
FLOW_PIXELS=${FLOW_PIXELS:-4096}
LANG_RUNS=${LANG_RUNS:-$(quick 5 2)}
LANG_CACHED_RUNS=${LANG_CACHED_RUNS:-$(quick 10 3)}
LANG_TOKENS=${LANG_TOKENS:-2048}
LANG_POSITIONS=${LANG_POSITIONS:-16}
MM_CHUNKS=${MM_CHUNKS:-128}
MM_UNCACHED_CHUNKS=${MM_UNCACHED_CHUNKS:-$(quick 16 2)}
MM_CACHED_CHUNKS=${MM_CACHED_CHUNKS:-$(quick 128 4)}
MM_BY_ID_CHUNKS=${MM_BY_ID_CHUNKS:-$(quick 16 3)}
MEM_CLIENTS=${MEM_CLIENTS:-$(quick 32 8)}
MEM_DURATION=${MEM_DURATION:-$(quick 60 30)}
MEM_CACHE_MIB=${MEM_CACHE_MIB:-$(quick 16 4)}
MEM_BUDGET_MIB=${MEM_BUDGET_MIB:-2048}
MEM_TOKENS=${MEM_TOKENS:-2048}
IN_PROCESS=${IN_PROCESS:-$(quick 1 0)}
IN_PROCESS_RUNS=${IN_PROCESS_RUNS:-$(quick 3 1)}
START_TIMEOUT=${START_TIMEOUT:-300}
OUT=${OUT:-.build/bench-latents/$(date +%Y%m%d-%H%M%S)}
LANGUAGE_MODEL=${LANGUAGE_MODEL:-.build/models/language-perceiver}
FLOW_MODEL=${FLOW_MODEL:-.build/models/optical-flow-perceiver}
MULTIMODAL_MODEL=${MULTIMODAL_MODEL:-.build/models/multimodal-perceiver}
PERCEIVERD=${PERCEIVERD:-.build/release/perceiverd}
PERCEIVERBENCH=${PERCEIVERBENCH:-.build/release/PerceiverBench}
# daemon_lib's ensure_binaries and other_load look at PerceiverLoad; this script does not use it.
PERCEIVERLOAD=${PERCEIVERLOAD:-.build/release/PerceiverLoad}
PYTHON=.venv/bin/python
CLIENT=tools/bench/bench_latents.py

UNCACHED_PID=""

# stop_uncached: stops the multimodal scenario's daemon without the cache, if it runs.
stop_uncached() {
  [ -n "$UNCACHED_PID" ] || return 0
  local current=$DAEMON_PID
  DAEMON_PID=$UNCACHED_PID UNCACHED_PID="" OWN_PIDS=""
  stop_daemon || log "warning: perceiverd (no cache) exited with status $? after SIGTERM"
  DAEMON_PID=$current
}

on_exit() { local status=$?; trap - EXIT; stop_uncached; cleanup_processes; exit "$status"; }
trap on_exit EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

wants() { [[ " $SCENARIOS " == *" $1 "* ]]; }

# checkpoint DIR CONFIG: the random-weight checkpoint CONFIG (language | optical-flow | multimodal) into DIR
# unless it is there.
checkpoint() {
  local dir=$1 config=$2
  [ -f "$dir/model.safetensors" ] && [ -f "$dir/config.json" ] && return 0
  log "writing the $config checkpoint (seeded random weights) to $dir"
  if [ "$config" = language ]; then
    "$PYTHON" tools/bench/make_language_model.py "$dir" >&2 || die "tools/bench/make_language_model.py failed"
  else
    "$PYTHON" tools/bench/bench_reference.py checkpoint --config "$config" --out "$dir" >&2 \
      || die "tools/bench/bench_reference.py checkpoint --config $config failed"
  fi
}

# serve NAME MODEL_DIR MAX_BATCH EXTRA_JSON: a one-model daemon (config and log in OUT, named after the
# scenario in SCENARIO) on a free port; sets URL.
serve() {
  local name=$1 dir=$2 batch=$3 extra=$4
  write_config "$OUT/$SCENARIO.config.json" "$name" "$(cd "$dir" && pwd)" "$THREADS" info "$batch" 0 128 "$extra"
  log "$SCENARIO: starting perceiverd ($name, $(jq -c '.models[0] | {max_batch_size} + ('"$extra"')' \
    "$OUT/$SCENARIO.config.json"))"
  start_daemon "$OUT/$SCENARIO.config.json" "$OUT/$SCENARIO.log"
  URL="http://127.0.0.1:$PORT"
  log "$SCENARIO: ready on port $PORT (pid $DAEMON_PID)"
}

# measure ARGS...: runs the client (its JSON line appended to results.jsonl with the settings and the CPU
# other processes used meanwhile); dies when it fails or the daemon died.
measure() {
  local before line other
  before=$(cpu_counters)
  line=$("$PYTHON" "$CLIENT" "$@") || { [ -z "$DAEMON_PID" ] || daemon_alive "$OUT/$SCENARIO.log"; die "$CLIENT $1 failed"; }
  other=$(other_cpu_pct "$before" "$(cpu_counters)")
  [ -z "$DAEMON_PID" ] || daemon_alive "$OUT/$SCENARIO.log"
  jq -c --argjson other "$other" --argjson threads "$THREADS" '. + {other_cpu_pct: $other, threads: $threads}' \
    <<< "$line" >> "$OUT/results.jsonl"
  log "$SCENARIO: done (other processes used $other % of a CPU meanwhile)"
}

# ---- Preparation ----
[ $# -eq 0 ] || die "usage: $0 (settings are environment variables; see the header)"
for tool in curl jq awk python3 lscpu; do command -v "$tool" >/dev/null || die "$tool is required"; done
log "building release binaries (swift build -c release --product perceiverd / PerceiverBench)"
swift build -c release --product perceiverd >&2 || die "swift build -c release --product perceiverd failed"
swift build -c release --product PerceiverBench >&2 || die "swift build -c release --product PerceiverBench failed"
make venv >&2 || die "make venv failed"
[ "$IN_PROCESS" = 1 ] || SCENARIOS=${SCENARIOS//in-process/}
if wants flow || wants in-process; then checkpoint "$FLOW_MODEL" optical-flow; fi
if wants language || wants memory || wants in-process; then checkpoint "$LANGUAGE_MODEL" language; fi
if wants multimodal || wants in-process; then checkpoint "$MULTIMODAL_MODEL" multimodal; fi
mkdir -p "$OUT"
: > "$OUT/results.jsonl"
HOST="host: $(lscpu | awk -F': +' '/^Model name/ { print $2; exit }'), $(nproc) cores"
HOST+=" ($(lscpu | awk -F': +' '/^Thread\(s\) per core/ { print $2; exit }') thread(s) per core), oneDNN isa"
HOST+=" $(host_isa), $(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo) GiB; load average at the start"
HOST+=" $(cut -d' ' -f1-3 /proc/loadavg); $THREADS compute threads; commit"
HOST+=" $(git describe --always --dirty 2>/dev/null || echo unknown); $(date -u +%Y-%m-%dT%H:%MZ)"
[ "$QUICK" = 1 ] && HOST+="; QUICK=1 (smoke run: few runs, not a measurement)"
log "$HOST"
log "output: $OUT"
warn_other_load || true

# ---- The scenarios ----
if wants flow; then
  SCENARIO=flow
  serve flow "$FLOW_MODEL" 1 '{}'
  measure flow --url "$URL" --model flow --log "$OUT/flow.log" --runs "$FLOW_RUNS" \
    --cached-runs "$FLOW_CACHED_RUNS" --pixels "$FLOW_PIXELS"
  stop_daemon || log "warning: perceiverd exited with status $? after SIGTERM"
fi

if wants language; then
  SCENARIO=language
  serve language "$LANGUAGE_MODEL" 1 '{}'
  measure language --url "$URL" --model language --log "$OUT/language.log" --runs "$LANG_RUNS" \
    --cached-runs "$LANG_CACHED_RUNS" --tokens "$LANG_TOKENS" --positions "$LANG_POSITIONS"
  stop_daemon || log "warning: perceiverd exited with status $? after SIGTERM"
fi

if wants multimodal; then
  # Two daemons, one without the cache and one with it, so that the two loops can alternate (bench_latents.py
  # multimodal): the first is kept in UNCACHED_PID, the second in daemon_lib's DAEMON_PID.
  SCENARIO=multimodal-uncached
  serve multimodal "$MULTIMODAL_MODEL" 1 '{"latent_cache_mib": 0}'
  UNCACHED_URL=$URL UNCACHED_PID=$DAEMON_PID OWN_PIDS=$DAEMON_PID DAEMON_PID=""
  SCENARIO=multimodal-cached
  serve multimodal "$MULTIMODAL_MODEL" 1 '{}'
  measure multimodal --url "$URL" --log "$OUT/multimodal-cached.log" --uncached-url "$UNCACHED_URL" \
    --uncached-log "$OUT/multimodal-uncached.log" --model multimodal --chunks "$MM_CHUNKS" \
    --uncached-chunks "$MM_UNCACHED_CHUNKS" --cached-chunks "$MM_CACHED_CHUNKS" --by-id-chunks "$MM_BY_ID_CHUNKS"
  kill -0 "$UNCACHED_PID" 2>/dev/null || { tail -n 20 "$OUT/multimodal-uncached.log" >&2; die "perceiverd (no cache) died"; }
  stop_daemon || log "warning: perceiverd exited with status $? after SIGTERM"
  stop_uncached
fi

if wants memory; then
  SCENARIO=memory
  read -r _ weights_mib < <("$PYTHON" "$CLIENT" weights-mib "$LANGUAGE_MODEL") || die "cannot count the weights"
  serve language "$LANGUAGE_MODEL" 8 \
    "{\"latent_cache_mib\": $MEM_CACHE_MIB, \"memory_budget_mib\": $MEM_BUDGET_MIB}"
  measure memory --url "$URL" --model language --pid "$DAEMON_PID" --clients "$MEM_CLIENTS" \
    --duration "$MEM_DURATION" --tokens "$MEM_TOKENS" --cache-mib "$MEM_CACHE_MIB" --weights-mib "$weights_mib" \
    --budget-mib "$MEM_BUDGET_MIB"
  stop_daemon || log "warning: perceiverd exited with status $? after SIGTERM"
fi

if wants in-process; then
  SCENARIO=in-process
  for model in "$FLOW_MODEL" "$LANGUAGE_MODEL" "$MULTIMODAL_MODEL"; do
    log "in-process: encode and decode of $model apart (PerceiverBench latents)"
    before=$(cpu_counters)
    line=$("$PERCEIVERBENCH" latents --model "$model" --runs "$IN_PROCESS_RUNS" --threads "$THREADS" \
      --pixels "$FLOW_PIXELS" --tokens "$LANG_TOKENS" --positions "$LANG_POSITIONS" --chunks "$MM_CHUNKS") \
      || die "PerceiverBench latents --model $model failed"
    other=$(other_cpu_pct "$before" "$(cpu_counters)")
    jq -c --argjson other "$other" '{scenario: "in-process"} + . + {other_cpu_pct: $other}' <<< "$line" \
      >> "$OUT/results.jsonl"
  done
fi

# ---- The report ----
echo
"$PYTHON" "$CLIENT" report "$OUT/results.jsonl" --host-line "$HOST" | tee "$OUT/report.md"
echo
echo "Results: $OUT"
