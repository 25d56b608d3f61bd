#!/usr/bin/env bash
# Command-line tests: runs the built perceiverd on the fixture models and checks what it prints and
# how it exits. Run by `make test` after `swift test`.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${PERCEIVERD:-.build/debug/perceiverd}
M=Tests/PerceiverEngineTests/Fixtures/models
passed=0
failed=0

check() { # check NAME EXPECTED_RC PATTERN -- COMMAND...
  local name=$1 rc=$2 pattern=$3; shift 4
  local out
  out=$("$@" 2>&1); local got=$?
  if [ "$got" -eq "$rc" ] && grep -qE -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name: exit $got (want $rc), output:"; echo "$out" | head -20
  fi
}

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/request.json" <<'JSON'
{"id": "r1",
 "inputs": [{"name": "input_ids", "shape": [1, 6], "datatype": "INT64", "data": [4, 109, 3, 3, 106, 5]},
            {"name": "output_positions", "shape": [1, 2], "datatype": "INT64", "data": [2, 3]}]}
JSON
echo '{"inputs": [{"name": "pixel_values", "shape": [1, 3, 8, 8], "datatype": "FP32", "data": [1]}]}' > "$tmp/bad.json"
zeros() { python3 -c "print(','.join(['0.5'] * $1))"; }
cat > "$tmp/flow.json" <<JSON
{"inputs": [{"name": "frames", "shape": [1, 2, 3, 6, 8], "datatype": "FP32", "data": [$(zeros 288)]},
            {"name": "output_positions", "shape": [1, 2], "datatype": "INT64", "data": [0, 47]}]}
JSON
cat > "$tmp/multimodal.json" <<JSON
{"inputs": [{"name": "image", "shape": [1, 2, 3, 4, 4], "datatype": "FP32", "data": [$(zeros 96)]},
            {"name": "audio", "shape": [1, 8, 1], "datatype": "FP32", "data": [$(zeros 8)]},
            {"name": "output_positions_image", "shape": [1, 2], "datatype": "INT64", "data": [0, 511]},
            {"name": "output_positions_audio", "shape": [1, 1], "datatype": "INT64", "data": [3]}]}
JSON

check inspect-mlm 0 'architecture: PerceiverForMaskedLM' -- $BIN inspect --model $M/mlm
check inspect-params 0 'parameters: +101446' -- $BIN inspect --model $M/mlm
check inspect-queries 0 'queries +FP32 \(-1, -1, 32\) optional' -- $BIN inspect --model $M/mlm
check inspect-f16 0 'file dtype: +F16' -- $BIN inspect --model $M/mlm_f16
check inspect-sharded 0 'PerceiverForSequenceClassification' -- $BIN inspect --model $M/seqcls
check inspect-flow 0 'frames +FP32 \(-1, 2, 3, -1, -1\) optional' -- $BIN inspect --model $M/flow
check inspect-flow-output 0 'logits +FP32 \(-1, 6, 8, 2\)' -- $BIN inspect --model $M/flow
check inspect-multimodal 0 'output_positions_image INT64\|INT32 \(-1, -1\) optional' -- $BIN inspect --model $M/multimodal
check inspect-multimodal-video 0 'video: +2 frames, image_size 4, output 2 x 16 x 16' -- $BIN inspect --model $M/multimodal
check flow-request 0 '"outputs":\[\{"name":"logits","datatype":"FP32","shape":\[1,2,2\]' -- \
  $BIN predict --model $M/flow --input "$tmp/flow.json"
check multimodal-request 0 '"name":"audio","datatype":"FP32","shape":\[1,4\].*"name":"image","datatype":"FP32","shape":\[1,2,3\].*"name":"label","datatype":"FP32","shape":\[1,5\]' -- \
  $BIN predict --model $M/multimodal --input "$tmp/multimodal.json"
check inspect-conv 0 'pixel_values +FP32 \(-1, 3, -1, -1\)' -- $BIN inspect --model $M/conv
check fill-mask 0 "position 7: '.+' 0\.[0-9]{4}, '.+' 0\.[0-9]{4}, '.+' 0\.[0-9]{4}" -- \
  $BIN predict --model $M/mlm --text "a cat [MASK][MASK] mat" --top-k 3
check fill-mask-text 0 '^a cat .. mat$' -- $BIN predict --model $M/mlm --text "a cat [MASK][MASK] mat"
check classify-text 0 '^(zero|one|two)	0\.[0-9]{4}$' -- $BIN predict --model $M/seqcls --text "hello" --top-k 1
# Precision: bf16 runs where this CPU multiplies bf16 natively (inspect's `bf16:` line says whether, from oneDNN's
# probe); elsewhere an explicit bf16 runs f32 after one warning and auto runs f32 silently.
if $BIN inspect --model $M/mlm --threads 1 | grep -qE '^bf16: +native'; then
  check inspect-bf16 0 'precision: +bf16, threads 1' -- $BIN inspect --model $M/mlm --precision bf16 --threads 1
  check inspect-auto 0 'precision: +bf16 \(auto requested\), threads 1' -- \
    $BIN inspect --model $M/mlm --precision auto --threads 1
else
  check inspect-bf16 0 'precision: +f32 \(bf16 requested\), threads 1' -- \
    $BIN inspect --model $M/mlm --precision bf16 --threads 1
  check bf16-warns 0 'warning: bf16 requested, running in f32: this CPU has no native bf16 matmul' -- \
    $BIN inspect --model $M/mlm --precision bf16 --threads 1
  check inspect-auto 0 'precision: +f32 \(auto requested\), threads 1' -- \
    $BIN inspect --model $M/mlm --precision auto --threads 1
  out=$($BIN inspect --model $M/mlm --precision auto --threads 1 2>&1 >/dev/null)
  if [ -z "$out" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL auto-is-silent: $out"; fi
fi
check v2-request-bf16 0 '"id":"r1","outputs":\[\{"name":"logits","datatype":"FP32","shape":\[1,2,262\]' -- \
  $BIN predict --model $M/mlm --input "$tmp/request.json" --precision bf16
check bad-precision 64 'precision must be f32, bf16 or auto' -- $BIN predict --model $M/mlm --text "a" --precision f16
# The Swift code is built for baseline x86-64 (never -target-cpu): no AVX/AVX-512 instruction in the binary.
check baseline-x86-64 0 '^0$' -- sh -c "objdump -d --no-show-raw-insn $BIN | grep -cE '%[yz]mm[0-9]' || true"
# The floor: oneDNN capped at its lowest JIT level (SSE4.1) still serves the same answer.
check sse41-floor 0 '^a cat .. mat$' -- env ONEDNN_MAX_CPU_ISA=SSE41 $BIN predict --model $M/mlm --text "a cat [MASK][MASK] mat"
check sse41-isa 0 'onednn: +[0-9.]+, isa sse41' -- env ONEDNN_MAX_CPU_ISA=SSE41 $BIN inspect --model $M/mlm --threads 1
check v2-request 0 '"id":"r1","outputs":\[\{"name":"logits","datatype":"FP32","shape":\[1,2,262\]' -- \
  $BIN predict --model $M/mlm --input "$tmp/request.json"
check v2-bad-shape 1 "input 'pixel_values': shape \[1, 3, 8, 8\] needs 192 values, data has 1" -- \
  $BIN predict --model $M/learned --input "$tmp/bad.json"
check text-on-image-model 1 'needs a text model' -- $BIN predict --model $M/learned --text hi
I=Tests/PerceiverEngineTests/Fixtures/images
check classify-image 0 '^(zero|one|two|three|four)	0\.[0-9]{4}$' -- \
  $BIN predict --model $M/learned --image $I/baseline_300x200.jpg --top-k 1
check image-on-text-model 1 "model 'mlm' \(PerceiverForMaskedLM\) does not take images" -- \
  $BIN predict --model $M/mlm --image $I/rgb_37x23.png
check image-not-png-or-jpeg 1 'neither PNG nor JPEG' -- $BIN predict --model $M/learned --image "$tmp/bad.json"
check image-too-large 1 'image is 100000x100000 pixels' -- \
  $BIN predict --model $M/learned --image $I/bad/huge_100000x100000.png
check missing-model 1 "cannot load model '/nonexistent': model file not found: /nonexistent/config.json" -- \
  $BIN inspect --model /nonexistent
check no-mask 1 "contains no \[MASK\]" -- $BIN predict --model $M/mlm --text "plain"
F=docs/images/flow-sample
check frames-json 0 '^\{"shape":\[1,48,64,2\],"data":\[\[\[\[' -- \
  $BIN predict --model $M/flow_tiles --frames $F/frame1.png $F/frame2.png
check frames-png 0 'flow of 48 x 64 pixels, as a picture' -- \
  $BIN predict --model $M/flow_tiles --frames $F/frame1.png $F/frame2.png --output "$tmp/flow.png"
check frames-png-written 0 '^64 48 2$' -- python3 -c "import struct, sys; d = open(sys.argv[1], 'rb').read(26); \
assert d[:8] == b'\\x89PNG\\r\\n\\x1a\\n'; print(*struct.unpack('>II', d[16:24]), d[25])" "$tmp/flow.png"
check frames-f32 0 'float32 \(48, 64, 2\)' -- \
  $BIN predict --model $M/flow_tiles --frames $F/frame1.png $F/frame2.png --output "$tmp/flow.f32"
check frames-f32-size 0 '^24576$' -- stat -c %s "$tmp/flow.f32"
check frames-one-file 64 '--frames takes two files' -- $BIN predict --model $M/flow_tiles --frames $F/frame1.png
check frames-not-flow 1 '--frames needs an optical-flow model' -- \
  $BIN predict --model $M/learned --frames $F/frame1.png $F/frame2.png
check frames-two-sizes 1 'frame1 is 64 x 48 and frame2 is 37 x 23' -- \
  $BIN predict --model $M/flow_tiles --frames $F/frame1.png $I/rgb_37x23.png
check frames-too-small 1 'with H >= 24 and W >= 32' -- \
  $BIN predict --model $M/flow_tiles --frames $I/rgb_23x37.png $I/rgb_23x37.png
check output-without-frames 64 '--output goes with --frames' -- $BIN predict --model $M/mlm --text a --output x.png
check both-inputs 64 'give exactly one of --text, --image, --frames or --input' -- \
  $BIN predict --model $M/mlm --text x --input "$tmp/request.json"
check bad-threads 64 '--threads must be at least 1' -- $BIN inspect --model $M/mlm --threads 0
check help 0 '^  predict +Run a model once' -- $BIN --help
# Every option of every subcommand has a description (text in the help column, on its line or the next), and
# each subcommand's help has its discussion.
undocumented() { # the option entries of `perceiverd ARGS --help` with no description
  "$BIN" "$@" --help | awk '
    /^OPTIONS:/ { on = 1; next }
    on && /^  -/ { if (entry != "" && !described) print entry; entry = $1; described = (length($0) > 26 && substr($0, 27) ~ /[^ ]/); next }
    on && entry != "" && /^ {26}[^ ]/ { described = 1 }
    END { if (entry != "" && !described) print entry }'
}
for sub in serve inspect predict; do
  check "help-$sub-options" 0 '^$' -- undocumented $sub
done
check help-serve 0 'Exit status: 0 after a drain' -- $BIN serve --help
check help-serve-env 0 'PERCEIVERD_TOKENS' -- $BIN serve --help
check help-inspect 0 'Example: perceiverd inspect --model models/digits' -- $BIN inspect --help
check help-predict 0 '--image' -- $BIN predict --help
check help-predict-frames 0 '--frames A.png B.png' -- $BIN predict --help
check help-top 0 'serves the shipped models' -- $BIN --help

# PerceiverLoad against the daemon serving the fixture: two clean levels, then 404s counted as non-2xx.
LOAD=${PERCEIVERLOAD:-.build/debug/PerceiverLoad}
$BIN serve --model mlm=$M/mlm --port 0 --threads 1 2>"$tmp/serve.log" &
daemon=$!
port=""
for _ in $(seq 100); do # the port from the `listening` line; requests wait for `ready` (model loaded)
  port=$(grep -oE 'http\.port=[0-9]+' "$tmp/serve.log" | head -1 | cut -d= -f2)
  [ -n "$port" ] && grep -qE ' ready$' "$tmp/serve.log" && break
  sleep 0.1
done
load_rows() { # load_rows ARGS...: runs PerceiverLoad; prints how many table rows it printed and how many are
  # clean (requests > 0, non-2xx 0, socket errors 0).
  "$LOAD" "$@" | awk -F' *\\| *' '/^\| [0-9]/ { rows++; if ($3 > 0 && $4 == "0" && $5 == "0") clean++ }
    END { printf "rows=%d clean=%d\n", rows, clean }'
}
check load-levels 0 '^rows=2 clean=2$' -- load_rows --url "http://127.0.0.1:$port/v2/models/mlm/infer" \
  --body "$tmp/request.json" --concurrency 1,4 --duration 1 --warmup 0.2
check load-404 0 '^\| 2 \| [1-9][0-9]* \| 404:[1-9][0-9]* \| 0 \|' -- $LOAD \
  --url "http://127.0.0.1:$port/v2/models/nope/infer" --body "$tmp/request.json" --concurrency 2 --duration 1 --warmup 0
kill -TERM $daemon
wait $daemon; daemon_rc=$?
check load-daemon-stops 0 '' -- test "$daemon_rc" -eq 0

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
