#!/usr/bin/env bash
# tools/qa/tsan.sh: the whole Swift test suite under ThreadSanitizer (`swift test --sanitize=thread`).
#
# Builds into its own scratch path (.build/tsan), so the normal debug build in .build is left alone; the
# lifecycle tests start the normal debug `perceiverd` (.build/debug/perceiverd), so that is built first.
# TSan runs with halt_on_error=0: every report is printed, not just the first. If Tests/tsan.supp exists it is
# passed as the suppressions file (there is none today: the suite is clean without one).
#
# Prints the number of ThreadSanitizer warnings. Exit status: 1 when there was any warning or any test
# failed, else 0. The full output is kept in .build/tsan/tsan-test.log.
#
# Usage:
#   tools/qa/tsan.sh                 # or: make tsan
#   SWIFT=/path/to/swift tools/qa/tsan.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

SWIFT=${SWIFT:-swift}
SCRATCH=.build/tsan
LOG=$SCRATCH/tsan-test.log

options="halt_on_error=0"
if [ -f Tests/tsan.supp ]; then options="$options suppressions=$PWD/Tests/tsan.supp"; fi
# The caller's own TSAN_OPTIONS come last, so they can override ours.
export TSAN_OPTIONS="$options${TSAN_OPTIONS:+ $TSAN_OPTIONS}"

"$SWIFT" build --product perceiverd
"$SWIFT" build --build-tests --sanitize=thread --scratch-path "$SCRATCH"
mkdir -p "$SCRATCH"
echo "TSAN_OPTIONS=$TSAN_OPTIONS"
status=0
"$SWIFT" test --sanitize=thread --scratch-path "$SCRATCH" 2>&1 | tee "$LOG" || status=$?

warnings=$(grep -c "WARNING: ThreadSanitizer" "$LOG" || true)
echo "ThreadSanitizer warnings: $warnings (log: $LOG)"
if [ "$warnings" -gt 0 ]; then
    grep "SUMMARY: ThreadSanitizer" "$LOG" | sort | uniq -c | sort -rn
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "swift test failed (exit status $status)"
    exit 1
fi
