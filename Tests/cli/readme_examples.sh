#!/usr/bin/env bash
# Docs examples: starts perceiverd the way docs/api.md's "The examples' daemon" block does, on a free port (with
# docs/security.md's TLS example switched on), then runs every ```sh block of README.md and of docs/**/*.md, in a
# fixed order (README.md, then the pages in path order), in one scratch directory, command by command (`\`
# continuations and multi-line quotes joined):
#   - `localhost:8000` and `localhost:8443` become the daemon's HTTP and HTTPS ports; `.build/release/perceiverd`
#     becomes the binary under test; `models/`, `Tests/` and `docs/` are the repository's;
#   - a command without curl (making a request file, decoding an answer, the command line) must exit 0;
#   - a curl must answer 2xx, or the status its trailing `# -> NNN` comment names (then the body must hold an
#     "error"); its output (stdout, or the `-o` file) must be non-empty, and a JSON answer printed as is must
#     parse.
# A block is marked for this script by an HTML comment on the line just before its fence:
#   <!-- readme-test: serve -->      the lines before the serve command, then the serve command itself (exactly
#                                    one such block in all the pages)
#   <!-- readme-test: tls-setup -->  makes cert.pem and key.pem; runs first, and the daemon gets a tls listener
# Examples that cannot run here (systemd, Docker, kubectl, benchmarks, make) belong in ```text or ```console
# blocks, which this script does not run.
# Also checks that the curls cover every endpoint, and that SIGTERM stops the daemon with exit 0. The examples'
# commands run in this shell, so this script's globals are UPPERCASE or start with _ (the examples' are lowercase).
# VERBOSE=1 lists every command that passed; DOCS="a.md b.md" runs those files instead (to test this script).
# Run by `make test` after Tests/cli/run.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
# The pages, in the order their examples run: README.md, then docs/ in path order (byte order, any locale).
if [ -n "${DOCS:-}" ]; then
  read -r -a PAGES <<<"$DOCS"
else
  PAGES=(README.md)
  while IFS= read -r _page; do PAGES+=("$_page"); done < <(find docs -name '*.md' -type f | LC_ALL=C sort)
fi
BIN=${PERCEIVERD:-.build/debug/perceiverd}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v jq >/dev/null; then
  as_root apt-get update -q && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q jq
fi
[ -x "$BIN" ] || { echo "docs examples: $BIN is not built (swift build)" >&2; exit 1; }

SCRATCH=$(mktemp -d)
WORKDIR=$SCRATCH/work
mkdir -p "$WORKDIR"
# The examples run from the repository root: `@models/digits/samples/3.png` and `$M/mlm` must resolve there too.
ln -s "$ROOT/models" "$WORKDIR/models"
ln -s "$ROOT/Tests" "$WORKDIR/Tests"
ln -s "$ROOT/docs" "$WORKDIR/docs"
DAEMON_PID=
cleanup() {
  if [ -n "$DAEMON_PID" ]; then kill "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null; fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

CURL_PASSED=0
SETUP_PASSED=0
FAILED=0
fail() { # MESSAGE [FILE...]: report a failure with the start of each file
  FAILED=$((FAILED + 1))
  echo "FAIL $1" >&2
  shift
  local file
  for file in "$@"; do [ -s "$file" ] && head -c 1500 "$file" | sed 's/^/    /' >&2; done
  return 0
}

MARKER_RE='^<!-- readme-test: ([a-z-]+) -->$'
HEREDOC_RE="<<-?[[:space:]]*['\"]?[A-Za-z_]"
CURL_RE='(^|[[:space:];&|(])curl[[:space:]]'
STATUS_RE='#[[:space:]]*->[[:space:]]*([0-9]{3})'

# --- The pages' ```sh blocks: block.N holds the text, KINDS[N] the marker, FILES[N] the page, STARTS[N] the
# fence's line.
KINDS=()
FILES=()
STARTS=()
BLOCKS=0
for _page in "${PAGES[@]}"; do
  [ -f "$_page" ] || { echo "docs examples: no such page: $_page" >&2; exit 1; }
  in_block=0 number=0 previous=""
  while IFS= read -r line || [ -n "$line" ]; do
    number=$((number + 1))
    if [ $in_block = 0 ] && [ "$line" = '```sh' ]; then
      in_block=1
      BLOCKS=$((BLOCKS + 1))
      : > "$SCRATCH/block.$BLOCKS"
      kind=example
      [[ $previous =~ $MARKER_RE ]] && kind=${BASH_REMATCH[1]}
      KINDS[BLOCKS]=$kind
      FILES[BLOCKS]=$_page
      STARTS[BLOCKS]=$number
    elif [ $in_block = 1 ] && [ "$line" = '```' ]; then
      in_block=0
    elif [ $in_block = 1 ]; then
      printf '%s\n' "$line" >> "$SCRATCH/block.$BLOCKS"
    fi
    previous=$line
  done < "$_page"
  [ $in_block = 0 ] || { echo "docs examples: $_page: a \`\`\`sh block never ends" >&2; exit 1; }
done

# split_block N: sets CMDS to its commands (comment-only lines dropped) and LINES to their file:line places.
split_block() {
  CMDS=()
  LINES=()
  local text="" line number=${STARTS[$1]} first=0
  while IFS= read -r line || [ -n "$line" ]; do
    number=$((number + 1))
    if [ -z "$text" ]; then
      [[ $line =~ ^[[:space:]]*(#.*)?$ ]] && continue
      first=$number
      text=$line
    else
      text+=$'\n'$line
    fi
    [[ $text == *\\ ]] && continue                   # continued on the next line
    bash -n <<<"$text" 2>/dev/null || continue       # a quote still open
    CMDS+=("$text")
    LINES+=("${FILES[$1]}:$first")
    text=""
  done < "$SCRATCH/block.$1"
  [ -z "$text" ] || fail "${FILES[$1]}:$first: command never ends: $text"
}

# is_curl COMMAND: whether it runs curl; bash prints a function body without its comments.
is_curl() {
  local _text
  _text=$(eval "_probe() {
$1
}" 2>/dev/null && declare -f _probe) || _text=$1
  [[ $_text =~ $CURL_RE ]]
}

# curl as the examples call it, plus: errors shown, a time limit, and "@@ status type" on stderr.
curl() {
  command curl -sS --max-time 60 -w '%{stderr}@@ %{http_code} %{content_type}\n' "$@"
}

# run COMMAND PLACE: evaluates one example command in the scratch directory and checks it.
run() {
  local _cmd=$1 _where=$2 _expect=""
  _cmd=${_cmd//localhost:8000/localhost:$PORT}
  _cmd=${_cmd//localhost:8443/localhost:$TLS_PORT}
  _cmd=${_cmd//.build\/release\/perceiverd/\"\$BIN\"}
  [[ $_cmd =~ $STATUS_RE ]] && _expect=${BASH_REMATCH[1]}
  if [[ $_cmd =~ $HEREDOC_RE ]]; then
    fail "$_where: here-documents are not supported in tested blocks (they hide the command's end)"
    return
  fi
  cd "$WORKDIR" || exit 1
  eval "$_cmd" > "$SCRATCH/out" 2> "$SCRATCH/err"
  local rc=$?
  cd "$ROOT" || exit 1
  if ! is_curl "$_cmd"; then
    if [ $rc -eq 0 ]; then
      SETUP_PASSED=$((SETUP_PASSED + 1))
      [ -z "${VERBOSE:-}" ] || echo "ok $_where: exit 0" >&2
    else fail "$_where: exit $rc: $_cmd" "$SCRATCH/err"; fi
    return
  fi
  local statuses status type
  statuses=$(sed -n 's/^@@ \([0-9]*\) .*/\1/p' "$SCRATCH/err")
  type=$(sed -n 's/^@@ [0-9]* \(.*\)/\1/p' "$SCRATCH/err" | tail -1)
  status=$(tail -1 <<<"$statuses")
  local problem=""
  if [ -z "$statuses" ] || grep -q '^000$' <<<"$statuses"; then
    problem="no HTTP answer"
  elif [ -n "$_expect" ] && grep -qv "^$_expect\$" <<<"$statuses"; then
    problem="status $status, the example says $_expect"
  elif [ -z "$_expect" ] && grep -qv '^2[0-9][0-9]$' <<<"$statuses"; then
    problem="status $status"
  fi
  local after=${_cmd#*curl }
  local output=$SCRATCH/out
  if [[ $after =~ (^|[[:space:]])(-o|--output)[[:space:]]+([^[:space:]]+) ]]; then
    output=$WORKDIR/${BASH_REMATCH[3]}
  fi
  if [ -z "$problem" ] && [ ! -s "$output" ]; then problem="empty output"; fi
  if [ -z "$problem" ] && [[ $type == application/json* ]] && [[ $after != *'|'* ]] &&
     ! [[ $after =~ (^|[[:space:]])(-i|--include|-I|--head|-D|--dump-header|-o|--output)([[:space:]]|$) ]]; then
    jq empty < "$SCRATCH/out" 2>/dev/null || problem="the answer is not valid JSON"
  fi
  if [ -z "$problem" ] && [ -n "$_expect" ] && ! grep -q '"error"' "$SCRATCH/out"; then
    problem="no \"error\" in the answer"
  fi
  if [ -n "$problem" ]; then
    fail "$_where: $problem: $_cmd" "$SCRATCH/out" "$SCRATCH/err"
  else
    CURL_PASSED=$((CURL_PASSED + 1))
    [ -z "${VERBOSE:-}" ] || echo "ok $_where: $status ${type:--}" >&2
  fi
}

# --- Certificates first, so that the daemon can start with the TLS listener of the docs' example.
PORT=8000 TLS_PORT=8443
TLS_ON=0
for ((_i = 1; _i <= BLOCKS; _i++)); do
  case ${KINDS[_i]} in
    tls-setup) split_block "$_i"; for _j in "${!CMDS[@]}"; do run "${CMDS[_j]}" "${LINES[_j]}"; done; TLS_ON=1 ;;
    serve|example) ;;
    *) fail "${FILES[_i]}:${STARTS[_i]}: unknown marker 'readme-test: ${KINDS[_i]}'" ;;
  esac
done
if [ $TLS_ON = 1 ] && { [ ! -s "$WORKDIR/cert.pem" ] || [ ! -s "$WORKDIR/key.pem" ]; }; then
  fail "the docs' TLS setup made no cert.pem and key.pem"
  TLS_ON=0
fi

# The daemon's config: config.json with model paths made absolute (the copy lives elsewhere) and, when the
# docs' TLS setup ran, the tls object docs/security.md describes, on a free port.
jq --arg root "$ROOT" --arg dir "$WORKDIR" --argjson tls $TLS_ON '
  .models |= map(if (.path | startswith("/")) then . else .path = ($root + "/" + .path) end)
  | if $tls == 1 then .tls = {port: 0, cert: ($dir + "/cert.pem"), key: ($dir + "/key.pem")} else . end
' config.json > "$SCRATCH/config.json" || { echo "docs examples: config.json is not valid JSON" >&2; exit 1; }

# --- The serve block: its first lines (variables), then the serve command on port 0, in the background.
SERVE_BLOCK=$(for ((_i = 1; _i <= BLOCKS; _i++)); do [ "${KINDS[_i]}" = serve ] && echo "$_i"; done)
[ "$(wc -w <<<"$SERVE_BLOCK")" = 1 ] || { echo "docs examples: want exactly one 'readme-test: serve' block" >&2; exit 1; }
split_block "$SERVE_BLOCK"
STARTED=0
for _j in "${!CMDS[@]}"; do
  _cmd=${CMDS[_j]}
  if [[ $_cmd == .build/release/perceiverd\ serve* ]]; then
    [[ $_cmd == *"--config config.json"* ]] || fail "${LINES[_j]}: the serve command has no --config config.json"
    _cmd=${_cmd/.build\/release\/perceiverd/\"\$BIN\"}
    _cmd=${_cmd/--config config.json/--config \"\$SCRATCH/config.json\"}
    (eval "exec $_cmd --port 0") 2> "$SCRATCH/daemon.log" &
    DAEMON_PID=$!
    STARTED=1
    break
  fi
  eval "$_cmd" || fail "${LINES[_j]}: exit $?: $_cmd"
done
[ $STARTED = 1 ] || { echo "docs examples: no '.build/release/perceiverd serve' in the serve block" >&2; exit 1; }
for _ in $(seq 1 600); do
  grep -q ' ready$' "$SCRATCH/daemon.log" && break
  kill -0 "$DAEMON_PID" 2>/dev/null || break
  sleep 0.2
done
if ! grep -q ' ready$' "$SCRATCH/daemon.log"; then
  echo "docs examples: the daemon did not become ready:" >&2
  tail -20 "$SCRATCH/daemon.log" >&2
  exit 1
fi
PORT=$(sed -n 's/.*http\.port=\([0-9]*\).*listening$/\1/p' "$SCRATCH/daemon.log" | head -1)
TLS_PORT=$(sed -n 's/.*https\.port=\([0-9]*\).*listening$/\1/p' "$SCRATCH/daemon.log" | head -1)
TLS_PORT=${TLS_PORT:-8443}

# --- Every other block, in page order.
: > "$SCRATCH/curls"
for ((_i = 1; _i <= BLOCKS; _i++)); do
  [ "${KINDS[_i]}" = example ] || continue
  split_block "$_i"
  [ ${#CMDS[@]} -gt 0 ] || fail "${FILES[_i]}:${STARTS[_i]}: a \`\`\`sh block without a command"
  for _j in "${!CMDS[@]}"; do
    is_curl "${CMDS[_j]}" && printf '%s\n' "${CMDS[_j]}" >> "$SCRATCH/curls"
    run "${CMDS[_j]}" "${LINES[_j]}"
  done
done

# --- Every endpoint has an example.
for pattern in 'localhost:8000/health( |$)' 'localhost:8000/v2/health/live' 'localhost:8000/v2/health/ready' \
               'localhost:8000/v2( |$)' 'localhost:8000/v2/models( |$)' 'localhost:8000/v2/models/[^/ ]+( |$)' \
               'localhost:8000/v2/models/[^/ ]+/versions/1( |$)' 'localhost:8000/v2/models/[^/ ]+/ready' \
               'localhost:8000/v2/models/[^/ ]+/infer' 'localhost:8000/v2/models/[^/ ]+/versions/1/infer' \
               'localhost:8000/infer' 'localhost:8000/metrics' 'localhost:8000/v2/models/stats' \
               'localhost:8000/v2/models/[^/ ]+/stats' 'localhost:8000/v2/models/[^/ ]+/versions/1/stats' \
               'localhost:8000/v2/models/[^/ ]+/config' 'localhost:8000/v2/models/[^/ ]+/versions/1/config' \
               'localhost:8000/v2/logging' 'Inference-Header-Content-Length' \
               'Content-Encoding: gzip' '--compressed' 'https://localhost:8443' '# -> 4[0-9][0-9]'; do
  grep -qE -- "$pattern" "$SCRATCH/curls" || fail "no curl example in the docs matches /$pattern/"
done

# --- SIGTERM drains and exits 0.
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
rc=$?
DAEMON_PID=
[ $rc -eq 0 ] || fail "the daemon exited $rc after SIGTERM" "$SCRATCH/daemon.log"

if [ $FAILED -ne 0 ]; then
  echo "docs examples: $((CURL_PASSED + SETUP_PASSED)) passed, $FAILED failed (${#PAGES[@]} pages, $BLOCKS blocks)" >&2
  exit 1
fi
echo "docs examples: $((CURL_PASSED + SETUP_PASSED)) passed ($CURL_PASSED curl, $SETUP_PASSED other) in $BLOCKS blocks of ${#PAGES[@]} pages"
