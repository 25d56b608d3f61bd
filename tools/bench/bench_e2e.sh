#!/usr/bin/env bash
# tools/bench/bench_e2e.sh: perceiverd against the KServe Python model server, end to end (issue 6, part 5).
#
# What a user would deploy instead of perceiverd: the KServe Python model server (PyPI `kserve`) wrapping
# transformers' PerceiverForMaskedLM (tools/bench/kserve_mlm.py). Both serve the same checkpoint under the same model
# name over KServe V2 REST, with THREADS compute threads each, and get the same requests from PerceiverLoad:
# the same body, URL path and headers, at the same concurrency levels.
#
# Steps: `swift build -c release`; .venv (make venv) and .venv-kserve (tools/bench/requirements-kserve.txt) when
# missing or out of date; the language-perceiver-sized checkpoint (tools/bench/make_language_model.py, 201 M
# parameters, random weights) when missing; one request body. Then for each server in turn, never both at once:
# start it on a free port, wait for /v2/health/ready, send the body once and keep the answer (after the second
# server, the two answers are compared: same output name, datatype and shape, argmax over the vocabulary equal
# at >= 99 % of positions, max abs difference printed; otherwise the script stops), run PerceiverLoad once per
# concurrency level, and stop the server with SIGTERM. perceiverd runs with a temporary config: the model at
# f32, every other key at its default (max_batch_size 8, max_queue_delay_us 0, log_level info); the KServe
# server with its defaults (1 uvicorn worker, synchronous predict on the event loop, per-request logging)
# and gRPC off.
#
# The report (stdout and report.md): one row per server and level (requests, req/s, p50/p99 ms, non-2xx,
# socket errors), then per level perceiverd/KServe req/s and both p99s, and whether the issue's target holds:
# perceiverd f32 throughput >= 2x KServe's with a p99 equal or better (and no perceiverd errors).
# Everything goes to OUT: body.json, perceiverd.config.json, both servers' logs and answers, agreement.json,
# results.jsonl (PerceiverLoad's --json line per level plus the settings) and report.md.
#
# Usage:
#   tools/bench/bench_e2e.sh                                  # 3 levels x 30 s per server: about 5 minutes on 2 cores
#   DURATION=10 CONCURRENCY="1 4" tools/bench/bench_e2e.sh    # a quick check, about 2 minutes
#
# Variables (environment; defaults in brackets):
#   SEQ                 tokens per request, [CLS] and [SEP] included [128]
#   MASKS               [MASK] tokens in the request, spread over the text [4]
#   THREADS             compute threads of each server (perceiverd `threads`, torch.set_num_threads) [nproc]
#   CONCURRENCY         concurrency levels, space-separated ["1 4 16"]
#   DURATION            measured seconds per level [30]
#   WARMUP, WARMUP_PER_CLIENT
#                       unmeasured seconds before each level: WARMUP + concurrency x WARMUP_PER_CLIENT, so that
#                       every client has had its first answer before measuring [5, 0.5]
#   TIMEOUT             PerceiverLoad --timeout, seconds one receive may wait [120]
#   MODEL_DIR           the checkpoint [.build/models/language-perceiver]
#   MODEL_NAME          the model's name in both servers' URLs [language-perceiver]
#   START_TIMEOUT       seconds to wait for /v2/health/ready [300]
#   OTHER_CPU_LIMIT     a level is marked * when other processes used more than this % of one CPU [10]
#   OUT                 output directory [.build/bench-e2e/YYYYmmdd-HHMMSS]
#   PERCEIVERD, PERCEIVERLOAD  binaries [.build/release/perceiverd, .build/release/PerceiverLoad]
#
# Exit status: 0 when both servers ran every level (whether or not the target is met); 1 when a build, venv or
# server fails, the answers disagree, or PerceiverLoad fails. Needs: bash 5, curl, jq, awk, python3; Linux /proc.

set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/daemon_lib.sh
source tools/daemon_lib.sh

SEQ=${SEQ:-128}
MASKS=${MASKS:-4}
THREADS=${THREADS:-$(nproc)}
CONCURRENCY=${CONCURRENCY:-"1 4 16"}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-5}
WARMUP_PER_CLIENT=${WARMUP_PER_CLIENT:-0.5}
TIMEOUT=${TIMEOUT:-120}
MODEL_DIR=${MODEL_DIR:-.build/models/language-perceiver}
MODEL_NAME=${MODEL_NAME:-language-perceiver}
START_TIMEOUT=${START_TIMEOUT:-300}
OTHER_CPU_LIMIT=${OTHER_CPU_LIMIT:-10}
OUT=${OUT:-.build/bench-e2e/$(date +%Y%m%d-%H%M%S)}
PERCEIVERD=${PERCEIVERD:-.build/release/perceiverd}
PERCEIVERLOAD=${PERCEIVERLOAD:-.build/release/PerceiverLoad}
KSERVE_VENV=.venv-kserve
KSERVE_REQUIREMENTS=tools/bench/requirements-kserve.txt

on_exit() { local status=$?; trap - EXIT; cleanup_processes; exit "$status"; }
trap on_exit EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# ensure_kserve_venv: .venv-kserve from tools/bench/requirements-kserve.txt, reinstalled when that file changes
# (the stamp is its sha256, as Tests/clients/run.sh keeps .venv-clients).
ensure_kserve_venv() {
  local stamp="$KSERVE_VENV/.requirements.sha256" wanted
  wanted=$(sha256sum "$KSERVE_REQUIREMENTS" | cut -d' ' -f1)
  [ -x "$KSERVE_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ] && return 0
  log "installing $KSERVE_REQUIREMENTS into $KSERVE_VENV"
  [ -x "$KSERVE_VENV/bin/python" ] || python3 -m venv "$KSERVE_VENV" || die "python3 -m venv failed"
  "$KSERVE_VENV/bin/pip" install -q -r "$KSERVE_REQUIREMENTS" >&2 || die "pip install -r $KSERVE_REQUIREMENTS failed"
  echo "$wanted" > "$stamp"
}

# start_server NAME LOG COMMAND...: runs COMMAND in the background (output to LOG) as DAEMON_PID, so that
# daemon_lib's stop_daemon and cleanup_processes stop it, and waits until /v2/health/ready on PORT answers 200.
start_server() {
  local name=$1 server_log=$2 deadline=$((SECONDS + START_TIMEOUT))
  shift 2
  "$@" > "$server_log" 2>&1 &
  DAEMON_PID=$!
  until curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/v2/health/ready"; do
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      DAEMON_PID=""
      tail -n 20 "$server_log" >&2
      die "$name exited before it was ready"
    fi
    [ "$SECONDS" -lt "$deadline" ] || { tail -n 20 "$server_log" >&2; die "$name not ready after $START_TIMEOUT s"; }
    sleep 0.2
  done
}

# compare_answers: the two saved answers' logits: same name, datatype and shape, argmax over the last
# dimension equal at >= 99 % of positions. Writes agreement.json; dies when they disagree.
compare_answers() {
  jq -n --slurpfile p "$OUT/perceiverd.response.json" --slurpfile k "$OUT/kserve.response.json" '
    ($p[0].outputs[] | select(.name == "logits")) as $a | ($k[0].outputs[] | select(.name == "logits")) as $b
    | {perceiverd: {shape: $a.shape, datatype: $a.datatype}, kserve: {shape: $b.shape, datatype: $b.datatype}}
    + if $a.shape != $b.shape or $a.datatype != $b.datatype or ($a.data | length) != ($b.data | length)
      then {agree: false}
      else $a.shape[-1] as $v | ($a.data | length / $v) as $rows
        | def argmax($row): $row | to_entries | max_by(.value).key;
        ([range(0; $rows) as $r | select(argmax($a.data[$r * $v:($r + 1) * $v])
                                         == argmax($b.data[$r * $v:($r + 1) * $v]))] | length / $rows) as $share
        | {positions: $rows, argmax_equal: $share, agree: ($share >= 0.99),
           max_abs_diff: ([$a.data, $b.data] | transpose | map(.[0] - .[1] | fabs) | max)}
      end' > "$OUT/agreement.json" || die "the answers are not V2 responses with logits (see $OUT/*.response.json)"
  jq -r '"answers: perceiverd \(.perceiverd.shape) \(.perceiverd.datatype), KServe \(.kserve.shape)"
    + " \(.kserve.datatype); argmax equal at \((.argmax_equal // 0) * 10000 | round / 100) % of"
    + " \(.positions // "-") positions; max abs diff \(.max_abs_diff // "-")"' "$OUT/agreement.json" >&2
  jq -e .agree "$OUT/agreement.json" >/dev/null || die "perceiverd and KServe disagree (see $OUT/agreement.json)"
}

# report: the markdown tables of results.jsonl.
report() {
  jq -r -s 'first | "perceiverd vs the KServe Python model server, \(.date), commit \(.commit), \(.cpus) CPUs"
    + " (\(.cpu), oneDNN isa \(.isa)); kserve \(.kserve), torch \(.torch). `\(.model_path)` at precision f32, one sequence of \(.seq) tokens"
    + " per request, full logits; \(.threads) compute threads per server; \(.duration_s) s measured per level;"
    + " PerceiverLoad on the same CPUs."' "$OUT/results.jsonl"
  echo
  echo "| server | concurrency | requests | req/s | p50 ms | p99 ms | non-2xx | socket errors |"
  echo "|---|---|---|---|---|---|---|---|"
  jq -r --argjson limit "$OTHER_CPU_LIMIT" '[.server,
      "\(.concurrency)\(if .other_cpu_pct > $limit then "*" else "" end)", .requests, .throughput_rps,
      .latency_ms.p50, .latency_ms.p99, ([.non_2xx[]] | add // 0), .socket_errors] | @tsv' "$OUT/results.jsonl" \
    | awk -F'\t' '{ printf "| %s | %s | %s | %.2f | %.0f | %.0f | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
  if jq -e -s --argjson limit "$OTHER_CPU_LIMIT" 'any(.[]; .other_cpu_pct > $limit)' "$OUT/results.jsonl" >/dev/null
  then
    echo
    echo "\* other processes used more than $OTHER_CPU_LIMIT % of a CPU during this level: its numbers are skewed."
  fi
  echo
  echo "| concurrency | perceiverd req/s | KServe req/s | perceiverd/KServe | p99 ms perceiverd | p99 ms KServe | target |"
  echo "|---|---|---|---|---|---|---|"
  jq -r -s '
    (map(select(.server == "perceiverd")) | INDEX(.concurrency | tostring)) as $p
    | (map(select(.server == "kserve")) | INDEX(.concurrency | tostring)) as $k
    | map(.concurrency) | unique | .[] | tostring as $c | $p[$c] as $a | $k[$c] as $b
    | select($a != null and $b != null)
    | ($a.throughput_rps / $b.throughput_rps) as $ratio
    | ($ratio >= 2 and $a.latency_ms.p99 <= $b.latency_ms.p99
       and ([$a.non_2xx[]] | add // 0) == 0 and $a.socket_errors == 0) as $met
    | [$c, $a.throughput_rps, $b.throughput_rps, $ratio, $a.latency_ms.p99, $b.latency_ms.p99,
       (if $met then "met" else "NOT met" end)] | @tsv' "$OUT/results.jsonl" \
    | awk -F'\t' '{ printf "| %s | %.2f | %.2f | %.2fx | %.0f | %.0f | %s |\n", $1, $2, $3, $4, $5, $6, $7
                    verdicts[NR] = sprintf("concurrency %s: target (>= 2x at equal or better p99): %s", $1, $7) }
                  END { print ""; for (i = 1; i <= NR; i++) print verdicts[i] }'
  echo
  echo "Results: $OUT"
}

# ---- Preparation ----
[ $# -eq 0 ] || die "usage: $0 (settings are environment variables; see the header)"
for tool in curl jq awk python3; do command -v "$tool" >/dev/null || die "$tool is required"; done
log "building release binaries (swift build -c release)"
swift build -c release >&2 || die "swift build -c release failed"
ensure_kserve_venv
if [ ! -f "$MODEL_DIR/model.safetensors" ]; then
  make venv >&2 || die "make venv failed"
  log "writing the language-perceiver-sized model to $MODEL_DIR (about 800 MB)"
  .venv/bin/python tools/bench/make_language_model.py "$MODEL_DIR" >&2 \
    || die "tools/bench/make_language_model.py failed"
fi
MODEL_DIR=$(cd "$MODEL_DIR" && pwd)
check_request "$MODEL_DIR" "$SEQ" "$MASKS"
mkdir -p "$OUT"
: > "$OUT/results.jsonl"

# The request: one sequence of SEQ tokens ([CLS], deterministic bytes with MASKS [MASK]s spread over them,
# [SEP]) and no output_positions, so both servers return the full logits [1, SEQ, 262]. That is the
# like-for-like fill-mask request: a generic V2 client takes the model's output tensor as it is, as
# transformers' fill-mask pipeline does before picking the masked rows. With output_positions perceiverd would
# decode only the rows asked for while transformers decodes all 2048 anyway, a perceiverd-only saving.
jq -nc --argjson L "$SEQ" --argjson K "$MASKS" '
  [range(0; $K) | 1 + ((. * ($L - 2) / $K) | floor)] as $masks
  | [range(0; $L) | if . == 0 then 4 elif . == $L - 1 then 5 else 6 + ((. * 7919) % 256) end] as $ids
  | {id: "bench-e2e", inputs: [{name: "input_ids", shape: [1, $L], datatype: "INT64",
                               data: (reduce $masks[] as $p ($ids; .[$p] = 3))}]}' > "$OUT/body.json"
# KServe reads a body without Content-Type: application/json as binary tensor data (and refuses it without
# Inference-Header-Content-Length); perceiverd needs no Content-Type. Both get this header.
HEADER="Content-Type: application/json"
jq -n --arg name "$MODEL_NAME" --arg path "$MODEL_DIR" --argjson threads "$THREADS" '
  {host: "127.0.0.1", port: 0, threads: $threads, models: [{name: $name, path: $path, precision: "f32"}]}' \
  > "$OUT/perceiverd.config.json"
RUN_INFO=$(jq -nc --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" \
  --arg commit "$(git describe --always --dirty 2>/dev/null || echo unknown)" --argjson cpus "$(nproc)" \
  --arg cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" --arg isa "$(host_isa)" \
  --arg kserve "$("$KSERVE_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("kserve"))')" \
  --arg torch "$("$KSERVE_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("torch"))')" \
  --arg path "$MODEL_DIR" --argjson seq "$SEQ" --argjson threads "$THREADS" --argjson duration "$DURATION" \
  '{date: $date, commit: $commit, cpus: $cpus, cpu: $cpu, isa: $isa, kserve: $kserve, torch: $torch, model_path: $path,
    seq: $seq, threads: $threads, duration_s: $duration}')
log "output: $OUT"

# ---- The runs: one server at a time ----
for server in perceiverd kserve; do
  PORT=$(free_port)
  if [ "$server" = perceiverd ]; then
    command=("$PERCEIVERD" serve --config "$OUT/perceiverd.config.json" --port "$PORT")
  else
    command=("$KSERVE_VENV/bin/python" tools/bench/kserve_mlm.py --model_dir "$MODEL_DIR" --model_name "$MODEL_NAME"
             --http_port "$PORT" --enable_grpc false --threads "$THREADS")
  fi
  url="http://127.0.0.1:$PORT/v2/models/$MODEL_NAME/infer"
  log "$server: starting on port $PORT"
  start_server "$server" "$OUT/$server.log" "${command[@]}"
  log "$server: ready (pid $DAEMON_PID)"
  curl -sf --max-time "$TIMEOUT" "$url" -H "$HEADER" --data-binary "@$OUT/body.json" \
    -o "$OUT/$server.response.json" || die "$server: the request failed (see $OUT/$server.log)"
  if [ "$server" = kserve ]; then compare_answers; fi

  for concurrency in $CONCURRENCY; do
    warmup=$(awk -v w="$WARMUP" -v p="$WARMUP_PER_CLIENT" -v c="$concurrency" 'BEGIN { printf "%g", w + c * p }')
    log "  concurrency $concurrency: ${warmup} s warm-up, ${DURATION} s measured"
    cpu_before=$(cpu_counters)
    "$PERCEIVERLOAD" --url "$url" --body "$OUT/body.json" --header "$HEADER" --concurrency "$concurrency" \
      --duration "$DURATION" --warmup "$warmup" --timeout "$TIMEOUT" --json > "$OUT/level.json" &
    LOAD_PID=$!
    wait "$LOAD_PID" || die "PerceiverLoad failed (status $?) at concurrency $concurrency"
    LOAD_PID=""
    other_cpu=$(other_cpu_pct "$cpu_before" "$(cpu_counters)")
    kill -0 "$DAEMON_PID" 2>/dev/null || die "$server died (see $OUT/$server.log)"
    jq -c --arg server "$server" --argjson warmup "$warmup" --argjson other "$other_cpu" --argjson info "$RUN_INFO" \
      '$info + {server: $server, warmup_s: $warmup, other_cpu_pct: $other} + .' "$OUT/level.json" \
      >> "$OUT/results.jsonl"
    tail -n 1 "$OUT/results.jsonl" | jq -r '"    \(.requests) requests, \(.throughput_rps) req/s, p50"
      + " \(.latency_ms.p50) ms, p99 \(.latency_ms.p99) ms, non-2xx \([.non_2xx[]] | add // 0), socket errors"
      + " \(.socket_errors), other processes \(.other_cpu_pct) % of a CPU"' >&2
  done
  rm -f "$OUT/level.json"

  log "$server: stopping (SIGTERM)"
  stop_daemon || log "warning: $server exited with status $? after SIGTERM"
done

# ---- The report ----
echo
report | tee "$OUT/report.md"
