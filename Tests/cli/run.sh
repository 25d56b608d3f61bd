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

check inspect-mlm 0 'architecture: PerceiverForMaskedLM' -- $BIN inspect --model $M/mlm
check inspect-params 0 'parameters: +101446' -- $BIN inspect --model $M/mlm
check inspect-queries 0 'queries +FP32 \(-1, -1, 32\) optional' -- $BIN inspect --model $M/mlm
check inspect-f16 0 'file dtype: +F16' -- $BIN inspect --model $M/mlm_f16
check inspect-sharded 0 'PerceiverForSequenceClassification' -- $BIN inspect --model $M/seqcls
check inspect-conv 0 'pixel_values +FP32 \(-1, 3, -1, -1\)' -- $BIN inspect --model $M/conv
check fill-mask 0 "position 7: '.+' 0\.[0-9]{4}, '.+' 0\.[0-9]{4}, '.+' 0\.[0-9]{4}" -- \
  $BIN predict --model $M/mlm --text "a cat [MASK][MASK] mat" --top-k 3
check fill-mask-text 0 '^a cat .. mat$' -- $BIN predict --model $M/mlm --text "a cat [MASK][MASK] mat"
check classify-text 0 '^(zero|one|two)	0\.[0-9]{4}$' -- $BIN predict --model $M/seqcls --text "hello" --top-k 1
check v2-request 0 '"id":"r1","outputs":\[\{"name":"logits","datatype":"FP32","shape":\[1,2,262\]' -- \
  $BIN predict --model $M/mlm --input "$tmp/request.json"
check v2-bad-shape 1 "input 'pixel_values': shape \[1, 3, 8, 8\] needs 192 values, data has 1" -- \
  $BIN predict --model $M/learned --input "$tmp/bad.json"
check text-on-image-model 1 'needs a text model' -- $BIN predict --model $M/learned --text hi
check missing-model 1 "cannot load model '/nonexistent': model file not found: /nonexistent/config.json" -- \
  $BIN inspect --model /nonexistent
check no-mask 1 "contains no \[MASK\]" -- $BIN predict --model $M/mlm --text "plain"
check both-inputs 64 'give exactly one of --text or --input' -- \
  $BIN predict --model $M/mlm --text x --input "$tmp/request.json"
check bad-threads 64 '--threads must be at least 1' -- $BIN inspect --model $M/mlm --threads 0
check help 0 '^  predict +Run a model once' -- $BIN --help

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
