#!/usr/bin/env bash
# tools/bench/bench_reference.sh: perceiverd against PyTorch and ONNX Runtime on the same models, inputs and threads,
# in one command.
#
# Builds release and the venv, writes the two random-weight checkpoints if missing (language-perceiver, 201M
# parameters; vision-perceiver-learned, 62M) and their ONNX exports per batch size if missing or stale
# (tools/bench/bench_reference.py export-onnx: torch.onnx.export's dynamo exporter into .build/onnx/, each checked
# against PyTorch's logits; a few minutes the first time), then measures, each in its own process so each peak
# RSS is its own:
#   - oneDNN's matmul peak (PerceiverBench peak), the yardstick for GFLOP/s, with the CPU model and ISA;
#   - per (model, batch) in language batch 1 and 8 (sequence 2048) and vision-learned batch 1: PyTorch f32,
#     bf16-weights and bf16-autocast (tools/bench/bench_reference.py run), ONNX Runtime f32
#     (tools/bench/bench_reference.py run-onnx), perceiverd f32 and bf16 (PerceiverBench reference): median of
#     RUNS timed runs after a warm-up; the bf16 rows only where the CPU multiplies bf16 natively (the peak
#     record's bf16_native). ONNX Runtime has no bf16 row (its CPU execution provider has no bf16 MatMul) and
#     no int8 row (quantizing changes the numerics, so it would not be the same computation);
#   - where perceiverd runs f32 linear layers as 1x1 convolutions (the peak record's f32_linear), perceiverd f32 once
#     more with them as matmuls (PerceiverBench reference --f32-linear matmul), in the same run;
#   - where perceiverd folds the encoder's cross-attention at load (its record's folded_gflop): into its constant
#     queries (vision-learned) or into tables of a text model's keys and values (language), perceiverd f32 once
#     more unfolded (PerceiverBench reference --unfolded);
#   - perceiverd end to end over HTTP, language batch 1 and 8 (f32): `perceiverd serve` with the language
#     checkpoint, then tools/bench/bench_http.py's V2 binary-tensor request, every position decoded, the client's
#     time from the request's first byte to the answer's last (median of RUNS after a warm-up);
#   - perceiverd serve's start-to-ready with the language checkpoint (f32): launch until /v2/health/ready answers
#     200, polled every 10 ms; one unmeasured start warms the page cache, then START_RUNS measured starts.
# Every result is a JSON line in $RESULTS (written afresh); tools/bench/bench_reference.py report prints the machine,
# the table and each target as PASS or FAIL.
#
# Usage: tools/bench/bench_reference.sh [RUNS (default 5)]
# Variables: THREADS (threads for every engine, default all cores), START_RUNS (default 3),
#            START_TIMEOUT (seconds a start may take, default 120).
# Exit status: 0 when every measurement ran; 1, naming the step, when a build or measurement fails.
# Needs: bash 5, curl, jq, make, swift, python3. The daemon is always stopped on exit (also on Ctrl-C).

set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/daemon_lib.sh
source tools/daemon_lib.sh

RUNS=${1:-5}
THREADS=${THREADS:-$(nproc)}
START_RUNS=${START_RUNS:-3}
START_TIMEOUT=${START_TIMEOUT:-120}
PERCEIVERD=.build/release/perceiverd
BENCH=.build/release/PerceiverBench
PYTHON=.venv/bin/python
LANGUAGE=.build/models/language-perceiver
VISION=.build/models/vision-perceiver-learned
OUT=.build/bench-reference
RESULTS=$OUT/results.jsonl

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer (found '$RUNS')"
[[ $START_RUNS =~ ^[1-9][0-9]*$ ]] || die "START_RUNS must be a positive integer (found '$START_RUNS')"

trap cleanup_processes EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# measure LABEL COMMAND...: runs COMMAND and appends its stdout, which must be JSON lines, to $RESULTS.
measure() {
  local label=$1 output status=0
  shift
  log "$label"
  output=$("$@") || status=$?
  [ "$status" -eq 0 ] || die "$label failed (exit $status): $*"
  jq -ce . <<< "$output" >> "$RESULTS" || die "$label: output is not JSON lines: $output"
}

# start_to_ready: starts perceiverd on the language checkpoint 1 + START_RUNS times, stopping it with SIGTERM
# after each, and appends the start-to-ready record (seconds from launch until /v2/health/ready answers 200).
start_to_ready() {
  local config=$OUT/serve-config.json daemon_log=$OUT/serve.log run start now status seconds=()
  write_config "$config" language "$PWD/$LANGUAGE" "$THREADS" warning 8 0 64 '{"precision": "f32"}'
  for run in $(seq 0 "$START_RUNS"); do
    PORT=$(free_port)
    start=${EPOCHREALTIME/[.,]/}
    "$PERCEIVERD" serve --config "$config" --port "$PORT" 2> "$daemon_log" &
    DAEMON_PID=$!
    until curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/v2/health/ready"; do
      if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
        status=0
        wait "$DAEMON_PID" || status=$?
        DAEMON_PID=""
        tail -n 20 "$daemon_log" >&2
        die "perceiverd exited with status $status before it was ready"
      fi
      now=${EPOCHREALTIME/[.,]/}
      [ $((now - start)) -lt $((START_TIMEOUT * 1000000)) ] || die "perceiverd not ready after $START_TIMEOUT s"
      sleep 0.01
    done
    now=${EPOCHREALTIME/[.,]/}
    stop_daemon || die "perceiverd exited with status $? after SIGTERM (log: $daemon_log)"
    if [ "$run" -eq 0 ]; then
      log "start-to-ready: first start (page cache), not counted: $(((now - start) / 1000)) ms"
    else
      seconds+=("$(awk -v us=$((now - start)) 'BEGIN { printf "%.3f", us / 1e6 }')")
      log "start-to-ready: ${seconds[-1]} s"
    fi
  done
  jq -nc --arg config "$(basename "$LANGUAGE")" --argjson runs "[$(IFS=,; echo "${seconds[*]}")]" \
    '{engine: "perceiverd", kind: "start-to-ready", config: $config,
      median_s: ($runs | sort | if length % 2 == 1 then .[length / 2 | floor]
                                   else (.[length / 2 - 1] + .[length / 2]) / 2 end),
      runs: $runs}' >> "$RESULTS"
}

# http_forward: perceiverd serve with the language checkpoint (f32, max_batch_size 8), then one masked-LM forward
# per request over HTTP at batch 1 and 8 (tools/bench/bench_http.py: V2 binary tensors, every position decoded,
# the client's time on one keep-alive connection), each record appended to $RESULTS.
http_forward() {
  local config=$OUT/http-config.json batch
  # The latent cache off: every request sends the same ids, and a cached encoding would time the decoder alone.
  write_config "$config" language "$PWD/$LANGUAGE" "$THREADS" warning 8 0 64 '{"precision": "f32", "latent_cache_mib": 0}'
  start_daemon "$config" "$OUT/http.log"
  for batch in 1 8; do
    measure "perceiverd over HTTP $(basename "$LANGUAGE") batch $batch f32" "$PYTHON" tools/bench/bench_http.py \
      --port "$PORT" --model language --config "$(basename "$LANGUAGE")" --batch "$batch" --runs "$RUNS"
  done
  stop_daemon || die "perceiverd exited with status $? after SIGTERM (log: $OUT/http.log)"
}

log "release build (swift build -c release)"
swift build -c release >&2 || die "swift build -c release failed"
make venv >&2 || die "make venv failed"
"$PYTHON" tools/bench/bench_reference.py checkpoint --config language --out "$LANGUAGE" >&2 \
  || die "writing $LANGUAGE failed"
"$PYTHON" tools/bench/bench_reference.py checkpoint --config vision-learned --out "$VISION" >&2 \
  || die "writing $VISION failed"
SPECS=("$LANGUAGE 1" "$LANGUAGE 8" "$VISION 1")
for spec in "${SPECS[@]}"; do
  read -r model batch <<< "$spec"
  log "ONNX export of $(basename "$model") batch $batch (reused when current)"
  "$PYTHON" tools/bench/bench_reference.py export-onnx --checkpoint "$model" --batch "$batch" --threads "$THREADS" >&2 \
    || die "exporting $model at batch $batch to ONNX failed"
done

mkdir -p "$OUT"
: > "$RESULTS"
warn_other_load || true
measure "oneDNN matmul peak, $THREADS threads" "$BENCH" peak --threads "$THREADS" --json
# bf16 rows only where the CPU multiplies bf16 natively: elsewhere perceiverd runs f32 for bf16 and PyTorch
# emulates it (about 12 s per language forward on an AVX2 EPYC), so there is nothing to compare.
TORCH_MODES="f32" PRECISIONS="f32"
if jq -s -e 'any(.[]; .kind == "matmul-peak" and .bf16_native == true)' "$RESULTS" > /dev/null; then
  TORCH_MODES="f32 bf16-weights bf16-autocast" PRECISIONS="f32 bf16"
else
  log "bf16 is not native here ($(jq -r 'select(.kind == "matmul-peak") | .bf16' "$RESULTS")): f32 rows only"
fi
log "ONNX Runtime: f32 only (no bf16 MatMul in its CPU execution provider; int8 would change the numerics)"
for spec in "${SPECS[@]}"; do
  read -r model batch <<< "$spec"
  for mode in $TORCH_MODES; do
    measure "PyTorch $(basename "$model") batch $batch $mode" "$PYTHON" tools/bench/bench_reference.py run \
      --checkpoint "$model" --batch "$batch" --mode "$mode" --threads "$THREADS" --runs "$RUNS"
  done
  measure "ONNX Runtime $(basename "$model") batch $batch f32" "$PYTHON" tools/bench/bench_reference.py run-onnx \
    --checkpoint "$model" --batch "$batch" --threads "$THREADS" --runs "$RUNS"
  for precision in $PRECISIONS; do
    measure "perceiverd $(basename "$model") batch $batch $precision" "$BENCH" reference --model "$model" \
      --batch "$batch" --precision "$precision" --runs "$RUNS" --threads "$THREADS" --json
  done
  # Where f32 linear layers run as 1x1 convolutions (ConvolutionLinear), the same pass with them as matmuls.
  # (jq -s: $RESULTS holds a line per record by now, and jq -e alone takes its status from the last line.)
  if jq -s -e 'any(.[]; .kind == "matmul-peak" and (.f32_linear // "" | startswith("convolution")))' "$RESULTS" \
    > /dev/null; then
    measure "perceiverd $(basename "$model") batch $batch f32, linear layers as matmuls" "$BENCH" reference \
      --model "$model" --batch "$batch" --precision f32 --f32-linear matmul --runs "$RUNS" --threads "$THREADS" --json
  fi
  # Where the cross-attention is folded at load (FoldedCrossAttention, TabulatedKeyValues), the same pass unfolded.
  if jq -s -e --arg config "$(basename "$model")" --argjson batch "$batch" \
    'any(.[]; .engine == "perceiverd" and .config == $config and .batch == $batch and (.folded_gflop // 0) > 0)' \
    "$RESULTS" > /dev/null; then
    measure "perceiverd $(basename "$model") batch $batch f32, cross-attention unfolded" "$BENCH" reference \
      --model "$model" --batch "$batch" --precision f32 --unfolded --runs "$RUNS" --threads "$THREADS" --json
  fi
done
log "end to end over HTTP, language batch 1 and 8"
http_forward
log "start-to-ready, $START_RUNS starts after a first unmeasured one"
start_to_ready

"$PYTHON" tools/bench/bench_reference.py report "$RESULTS"
echo
echo "raw results: $RESULTS"
