#!/usr/bin/env bash
# tools/qa/fuzz.sh: builds the libFuzzer targets (issue 7) and runs each in turn on a copy of its seed corpus, then
# prints one summary row per target. Exits non-zero when any target crashed (or broke an invariant, hung, or ran
# out of memory).
#
#   tools/qa/fuzz.sh [--asan] [--seconds N] [TARGET...]       (make fuzz [SECONDS=N] [ASAN=1])
#
# TARGET: httpParser chunked v2Request safetensorsHeader inflate imageDecode jsonKit multipart (default: all, one
# after another; never run two fuzzers at once on this machine). N defaults to 60 per target;
# `SECONDS=N tools/qa/fuzz.sh` works too (bash starts its own SECONDS counter from an inherited value). --asan (or
# ASAN=1) adds AddressSanitizer.
#
# - Build: `swift build -c release --sanitize=fuzzer -Xswiftc -DFUZZING --product Fuzz<T>` into .build/fuzz, one
#   product at a time: the whole package cannot link with libFuzzer, whose main clashes with the @main of
#   perceiverd and the benchmarks. ASan adds `-Xswiftc -sanitize=fuzzer,address` (into .build/fuzz-asan), not
#   `--sanitize=address`: SwiftPM passes two separate -sanitize flags, in an order that changes from one run to
#   the next, and swiftc keeps only the last, so each build had either coverage or ASan, never both (and rebuilt
#   everything). -DFUZZING leaves only the
#   LLVMFuzzerTestOneInput entry point in Sources/Fuzz/<T>; a normal build makes the same files a reproducer
#   (`swift run --scratch-path .build Fuzz<T> FILE|DIR...`).
# - Run: SWIFT_BACKTRACE=enable=no, or Swift's backtracer catches the crash first and libFuzzer writes no crash
#   file. The work corpus is .build/fuzz-corpus/<target> (kept between runs, never committed), seeded from
#   Tests/FuzzingTests/Corpus/<target> and Regressions/<target>. Crash files go to fuzz-artifacts/<target>/,
#   the full log to .build/fuzz-logs/<target>[-asan].log.
# - A crash: minimize it (`<binary> -minimize_crash=1 -runs=100000 crash-...`), fix the bug, and commit the
#   reproducer to Tests/FuzzingTests/Regressions/<target>/ so that `swift test` replays it from then on.
set -uo pipefail

inherited_seconds=$SECONDS
cd "$(dirname "$0")/../.."

seconds=60
((inherited_seconds > 1)) && seconds=$inherited_seconds
asan=${ASAN:-}
targets=()
while (($#)); do
    case "$1" in
        --asan) asan=1 ;;
        --seconds) seconds=$2; shift ;;
        -h|--help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) targets+=("$1") ;;
    esac
    shift
done
((${#targets[@]})) || targets=(httpParser chunked v2Request safetensorsHeader inflate imageDecode jsonKit multipart)

# product and -max_len of each target: requests and chunked bodies a little over the 4 KiB limits the targets
# set, whole safetensors fixture files, gzip bombs of a few KiB, multipart bodies past the target's 256-byte
# part headers and 8 parts.
product() {
    case "$1" in
        httpParser) echo FuzzHTTPParser ;; chunked) echo FuzzChunked ;; v2Request) echo FuzzV2Request ;;
        safetensorsHeader) echo FuzzSafeTensorsHeader ;; inflate) echo FuzzInflate ;;
        imageDecode) echo FuzzImageDecode ;; jsonKit) echo FuzzJSONKit ;; multipart) echo FuzzMultipart ;;
        *) echo "unknown target '$1'" >&2; return 1 ;;
    esac
}
max_len() {
    case "$1" in
        safetensorsHeader|inflate|imageDecode) echo 16384 ;;
        *) echo 8192 ;;
    esac
}

scratch=.build/fuzz
sanitizers=(--sanitize=fuzzer)
suffix=""
if [[ -n "$asan" ]]; then
    scratch=.build/fuzz-asan
    sanitizers+=(-Xswiftc -sanitize=fuzzer,address)
    suffix="-asan"
fi

for target in "${targets[@]}"; do
    name=$(product "$target") || exit 64
    echo "building $name${suffix}" >&2
    swift build -c release "${sanitizers[@]}" -Xswiftc -DFUZZING --scratch-path "$scratch" --product "$name" \
        2>&1 | grep -E "error|warning: .*\.swift" >&2
    [[ -x "$scratch/release/$name" ]] || { echo "build of $name failed" >&2; exit 1; }
done

mkdir -p .build/fuzz-logs
rows=()
failed=0
for target in "${targets[@]}"; do
    name=$(product "$target")
    corpus=.build/fuzz-corpus/$target
    artifacts=fuzz-artifacts/$target
    log=.build/fuzz-logs/$target$suffix.log
    mkdir -p "$corpus" "$artifacts"
    for folder in Tests/FuzzingTests/Corpus/$target Tests/FuzzingTests/Regressions/$target; do
        [[ -d "$folder" ]] && cp -n "$folder"/* "$corpus"/ 2>/dev/null
    done
    before=$(ls "$artifacts" | wc -l)
    echo "fuzzing $target$suffix for ${seconds}s (log: $log)" >&2
    SWIFT_BACKTRACE=enable=no "$scratch/release/$name" "$corpus" -max_total_time="$seconds" \
        -max_len="$(max_len "$target")" -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" \
        >"$log" 2>&1
    rc=$?
    crashes=$(($(ls "$artifacts" | wc -l) - before))
    ((rc != 0 && crashes == 0)) && crashes=1  # A failure that wrote no file still counts.
    ((crashes)) && failed=1
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$last")
    rows+=("$(printf '%-18s %6s %12s %9s %6s %7s %12s %8s' "$target$suffix" "$seconds" "${execs:--}" "${rate:--}" \
        "${cov:--}" "${ft:--}" "${corp:--}" "$crashes")")
    if ((rc != 0)); then
        echo "$target$suffix: libFuzzer exited $rc; new files in $artifacts/:" >&2
        ls -t "$artifacts" | head -n "$((crashes > 0 ? crashes : 1))" >&2
        grep -E "fuzz invariant broken|Fatal error|ERROR: (AddressSanitizer|libFuzzer)" "$log" | head -3 >&2
    fi
done

printf '%-18s %6s %12s %9s %6s %7s %12s %8s\n' target seconds executions exec/s cov ft corpus crashes
printf '%s\n' "${rows[@]}"
exit "$failed"
