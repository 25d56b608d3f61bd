#!/usr/bin/env bash
# Deployment tests (deploy/): run by `make test` after Tests/clients/run.sh. Everything offline but the first
# pip install; no Docker engine and no running systemd needed.
#   unit        systemd-analyze verify on deploy/perceiverd.service (ExecStart pointed at the built binary):
#               any output fails; a deliberately broken copy must produce output. systemd-analyze security
#               --offline prints the exposure score.
#   notify      the daemon under strace with $NOTIFY_SOCKET and $WATCHDOG_USEC set, as systemd would: it must
#               send READY=1, WATCHDOG=1 and STOPPING=1, exit 0 after SIGTERM, and make no system call outside
#               the unit's SystemCallFilter (@system-service minus @privileged, expanded by systemd-analyze).
#   install     deploy/install.sh into a temporary --root twice (the second changes nothing: same checksums),
#               the README's links into the installed docs/ tree resolving beside it, the installed binary
#               serving the installed config (as uid 10001 when run as root) until /v2/health/ready, then
#               SIGTERM; an edited config is kept (config.json.new); --uninstall leaves only /etc/perceiverd,
#               --purge nothing.
#   kubernetes  kubernetes-validate --strict (Kubernetes 1.30 schemas) on deploy/kubernetes/*.yaml and
#               Tests/deploy/validate_kserve.py on deploy/kubernetes/kserve/*.yaml; broken copies (unknown
#               field, wrong type) must be rejected; the ConfigMap must equal the rendered config.json; the
#               Deployment's and the ServingRuntime's container args must start the daemon.
#   docker      hadolint on deploy/Dockerfile; a --static-swift-stdlib release build (.build-static) whose every
#               shared library must come from a package the runtime stage installs (ldd, dpkg -S, apt-cache
#               depends); COPY sources present and not excluded by .dockerignore; the build stage's staging
#               RUN (models + rendered config) run under $tmp, and the daemon serving what it staged.
# Validators live in .venv-deploy, installed from Tests/deploy/requirements.txt (reinstalled only when it
# changes). Missing Debian tools (systemd for systemd-analyze, strace, jq, curl, setpriv, ss) are installed with apt-get.
set -uo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
VENV=.venv-deploy
REQUIREMENTS=Tests/deploy/requirements.txt
K8S_VERSION=1.30.0
STATIC_BUILD=.build-static
passed=0
failed=0

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; [ $# -lt 2 ] || printf '%s\n' "$2" | head -30 | sed 's/^/     /'; }

# --- setup: Debian tools, the venv, the static release build -------------------------------------------------
missing=""
for tool in systemd-analyze:systemd strace:strace jq:jq curl:curl setpriv:util-linux ss:iproute2; do
  command -v "${tool%%:*}" >/dev/null || missing="$missing ${tool#*:}"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  as_root apt-get update -q && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing || exit 1
fi

stamp="$VENV/.requirements.sha256"
wanted=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  if [ ! -x "$VENV/bin/python" ]; then
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV" 2>/dev/null; then
      echo "python3 -m venv failed; installing python3-venv with apt-get" >&2
      rm -rf "$VENV"
      as_root apt-get update -q
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv
      python3 -m venv "$VENV" || exit 1
    fi
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$REQUIREMENTS" || exit 1
  echo "$wanted" > "$stamp"
fi

# The binary the image would hold: release, Swift runtime linked in (deploy/Dockerfile's build command).
echo "swift build -c release --static-swift-stdlib --product perceiverd --scratch-path $STATIC_BUILD"
mkdir -p "$STATIC_BUILD"
swift build -c release --static-swift-stdlib --product perceiverd --scratch-path "$STATIC_BUILD" >"$STATIC_BUILD/build.log" 2>&1 \
  || { tail -30 "$STATIC_BUILD/build.log"; echo "FAIL static-build: --static-swift-stdlib does not build"; exit 1; }
BIN=$repo/$STATIC_BUILD/release/perceiverd
[ -x "$BIN" ] || { echo "FAIL static-build: no $BIN"; exit 1; }

tmp=$(mktemp -d); chmod 755 "$tmp"
daemon=""
cleanup() { [ -z "$daemon" ] || kill -KILL "$daemon" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# wait_ready LOG [PID]: the port from the `listening` line once `ready` is logged (60 s at most, less if PID
# exits first); prints the port.
wait_ready() {
  local port=""
  for _ in $(seq 600); do
    port=$(grep -oE 'http\.port=[0-9]+' "$1" | head -1 | cut -d= -f2)
    [ -n "$port" ] && grep -qE ' ready$' "$1" && { echo "$port"; return 0; }
    [ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# --- unit ---------------------------------------------------------------------------------------------------
mkdir -p "$tmp/unit"
sed "s|^ExecStart=/usr/local/bin/perceiverd |ExecStart=$BIN |" deploy/perceiverd.service > "$tmp/unit/perceiverd.service"
grep -q "^ExecStart=$BIN serve --config /etc/perceiverd/config.json$" "$tmp/unit/perceiverd.service" \
  || fail "unit-execstart: ExecStart is not '/usr/local/bin/perceiverd serve --config /etc/perceiverd/config.json'"
# Known-harmless output: none so far; any line fails.
out=$(systemd-analyze verify "$tmp/unit/perceiverd.service" 2>&1)
if [ -z "$out" ]; then pass "unit-verify: systemd-analyze verify prints nothing"; else fail "unit-verify" "$out"; fi
sed 's/^Type=notify$/Type=notifyy/; s/^ProtectHome=yes$/ProtectHome=maybe/' "$tmp/unit/perceiverd.service" > "$tmp/unit/broken.service"
out=$(systemd-analyze verify "$tmp/unit/broken.service" 2>&1)
if grep -q 'Failed to parse service type' <<<"$out" && grep -q 'Failed to parse protect home' <<<"$out"; then
  pass "unit-verify-negative: a misspelt Type= and ProtectHome= are reported"
else fail "unit-verify-negative: systemd-analyze verify did not report the broken unit" "$out"; fi
exposure=$(systemd-analyze security --offline=true "$tmp/unit/perceiverd.service" 2>&1 | grep -oE 'Overall exposure level for [^:]+: [0-9.]+ [A-Z]+')
if [[ "$exposure" =~ :\ ([0-9.]+)\ (OK|MEDIUM)$ ]] && awk "BEGIN {exit !(${BASH_REMATCH[1]} <= 2.0)}"; then
  pass "unit-security: $exposure (at most 2.0 wanted)"
else fail "unit-security: $exposure"; fi
for key in 'Type=notify' 'NotifyAccess=main' 'WatchdogSec=' 'Restart=on-failure' 'DynamicUser=yes' 'ExecReload=' \
           'ProtectSystem=strict' 'CapabilityBoundingSet=$' 'KillSignal=SIGTERM' 'Environment=OMP_WAIT_POLICY=PASSIVE'; do
  grep -qE "^$key" deploy/perceiverd.service || fail "unit-keys: no $key"
done
grep -qE '^MemoryDenyWriteExecute=' deploy/perceiverd.service && fail "unit-keys: MemoryDenyWriteExecute breaks oneDNN's JIT"
# TimeoutStopSec must exceed config.json's drain timeout (the daemon would be killed mid-drain otherwise).
stop_s=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' deploy/perceiverd.service)
drain_ms=$(jq '.drain_timeout_ms // 30000' config.json)
if [ -n "$stop_s" ] && [ $((stop_s * 1000)) -gt "$drain_ms" ]; then
  pass "unit-stop-timeout: TimeoutStopSec=${stop_s}s > drain_timeout_ms=$drain_ms"
else fail "unit-stop-timeout: TimeoutStopSec=${stop_s:-?}s is not above drain_timeout_ms=$drain_ms"; fi

# --- notify: sd_notify messages and the system-call filter ----------------------------------------------------
"$VENV/bin/python" - "$tmp/notify.sock" "$tmp/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(120)
with open(sys.argv[2], "w") as log:
    try:
        while True:
            message = s.recv(4096).decode()
            log.write(message.replace("\n", " ") + "\n"); log.flush()
            if "STOPPING=1" in message:
                break
    except socket.timeout:
        pass
PY
listener=$!
for _ in $(seq 50); do [ -S "$tmp/notify.sock" ] && break; sleep 0.1; done
models_args=()
while IFS= read -r dir; do models_args+=(--model "$(basename "$dir")=$dir"); done \
  < <(deploy/render-config.sh --model-dirs config.json)
env -i PATH=/usr/bin:/bin OMP_WAIT_POLICY=PASSIVE NOTIFY_SOCKET="$tmp/notify.sock" WATCHDOG_USEC=400000 \
  strace -f -qq -c -o "$tmp/strace.txt" "$BIN" serve --config config.json --port 0 --threads 2 "${models_args[@]}" \
  2>"$tmp/notify-serve.log" &
tracer=$!
if port=$(wait_ready "$tmp/notify-serve.log" "$tracer"); then
  first_model=$(jq -r '.models[0].name' config.json)
  curl -sf "http://127.0.0.1:$port/v2/models/$first_model" >/dev/null || fail "notify-metadata: GET /v2/models/$first_model"
  curl -sf "http://127.0.0.1:$port/metrics" >/dev/null || fail "notify-metrics: GET /metrics"
  sleep 0.5  # a watchdog ping every 0.2 s
  # systemctl reload: SIGHUP reads the configuration again (nothing changed here) between RELOADING=1 and READY=1.
  kill -HUP "$(pgrep -P "$tracer" -x perceiverd)"
  for _ in $(seq 100); do grep -q 'configuration reloaded' "$tmp/notify-serve.log" && break; sleep 0.1; done
  kill -TERM "$(pgrep -P "$tracer" -x perceiverd)"
  wait "$tracer"; rc=$?
  wait "$listener"
  messages=$(cat "$tmp/notify.log")
  if [ $rc = 0 ] && grep -q '^READY=1 STATUS=serving' <<<"$messages" && grep -q '^WATCHDOG=1' <<<"$messages" \
     && grep -q '^RELOADING=1' <<<"$messages" && [ "$(grep -c '^READY=1' <<<"$messages")" -ge 2 ] \
     && grep -q '^STOPPING=1' <<<"$messages"; then
    pass "notify: READY=1, $(grep -c '^WATCHDOG=1' <<<"$messages") x WATCHDOG=1 (WATCHDOG_USEC=400000), RELOADING=1 and READY=1 on SIGHUP, STOPPING=1, exit 0"
  else fail "notify: exit $rc, messages:" "$messages"; fi
  expand() { # expand @GROUP: every system call name in it, nested groups resolved
    systemd-analyze syscall-filter "$1" | awk 'NR > 1 && !/^ *#/ {print $1}' | while read -r name; do
      case $name in @*) expand "$name" ;; ?*) echo "$name" ;; esac
    done
  }
  expand @system-service | sort -u > "$tmp/allowed"
  expand @privileged | sort -u > "$tmp/denied"
  awk '$NF ~ /^[a-z_0-9]+$/ && $NF != "total" && $NF != "syscall" {print $NF}' "$tmp/strace.txt" | sort -u > "$tmp/used"
  outside=$(comm -23 "$tmp/used" "$tmp/allowed"; comm -12 "$tmp/used" "$tmp/denied")
  if [ -z "$outside" ] && [ -s "$tmp/used" ]; then
    pass "syscall-filter: all $(wc -l < "$tmp/used") system calls used from start to drain are in @system-service, none in @privileged"
  else fail "syscall-filter: used outside the unit's SystemCallFilter:" "$outside"; fi
else
  fail "notify-start: not ready" "$(tail -20 "$tmp/notify-serve.log")"
  kill -KILL "$tracer" "$listener" 2>/dev/null
fi

# --- install.sh -----------------------------------------------------------------------------------------------
root=$tmp/root
checksums() { (cd "$root" && find . \( -type f -o -type l \) -printf '%m %p\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); }
out1=$(deploy/install.sh --root "$root" --binary "$BIN" 2>&1); rc1=$?
sums1=$(checksums)
out2=$(deploy/install.sh --root "$root" --binary "$BIN" 2>&1); rc2=$?
sums2=$(checksums)
if [ $rc1 = 0 ] && grep -q 'change(s)' <<<"$out1"; then pass "install: $(grep -o '[0-9]* change(s)' <<<"$out1")"; else fail "install: exit $rc1" "$out1"; fi
if [ $rc2 = 0 ] && grep -q 'nothing changed' <<<"$out2" && [ "$sums1" = "$sums2" ]; then
  pass "install-idempotent: second run: 'nothing changed', $(grep -c '^[0-9a-f]\{64\} ' <<<"$sums2") files with identical checksums and modes"
else fail "install-idempotent: exit $rc2" "$out2"$'\n'"$(diff <(echo "$sums1") <(echo "$sums2"))"; fi
for path in usr/local/bin/perceiverd etc/systemd/system/perceiverd.service etc/perceiverd/config.json \
            usr/local/share/doc/perceiverd/README.md usr/local/share/doc/perceiverd/docs/deployment.md; do
  [ -f "$root/$path" ] || fail "install-layout: no /$path"
done
# The installed README's links into docs/ resolve beside it, and the docs tree is the repository's.
doc=$root/usr/local/share/doc/perceiverd
links=$(grep -o '](docs/[^)#]*' "$doc/README.md" | sed 's/^](//' | sort -u)
dangling=""; for link in $links; do [ -e "$doc/$link" ] || dangling="$dangling $link"; done
if [ -n "$links" ] && [ -z "$dangling" ] && diff -r -q docs "$doc/docs" >/dev/null; then
  pass "install-docs: the README's $(echo $links | wc -w) links into docs/ resolve in /usr/local/share/doc/perceiverd"
else fail "install-docs: dangling:$dangling" "$(diff -r -q docs "$doc/docs")"; fi
cmp -s deploy/perceiverd.service "$root/etc/systemd/system/perceiverd.service" || fail "install-unit: installed unit differs"
# Every model path in the installed config exists under the root; nothing else is in the models directory.
config_models=$(jq -r '.models[].path' "$root/etc/perceiverd/config.json")
bad=""; for p in $config_models; do [ -f "$root$p/config.json" ] || bad="$bad $p"; [[ $p == /usr/local/share/perceiverd/models/* ]] || bad="$bad $p"; done
extra=$(comm -13 <(for p in $config_models; do basename "$p"; done | sort) <(ls "$root/usr/local/share/perceiverd/models" | sort))
if [ -z "$bad$extra" ]; then pass "install-models: $(echo $config_models | wc -w) model(s) under /usr/local/share/perceiverd/models, as the config says"
else fail "install-models: missing or misplaced:$bad; extra: $extra"; fi

# The installed binary on the installed config (model paths prefixed with the root), as the service's user
# would run it: an unprivileged uid with an empty environment but OMP_WAIT_POLICY.
run_as=(); [ "$(id -u)" = 0 ] && run_as=(setpriv --reuid 10001 --regid 10001 --clear-groups)
overrides=(); for p in $config_models; do overrides+=(--model "$(basename "$p")=$root$p"); done
"${run_as[@]}" env -i OMP_WAIT_POLICY=PASSIVE "$root/usr/local/bin/perceiverd" serve \
  --config "$root/etc/perceiverd/config.json" --port 0 --threads 2 "${overrides[@]}" 2>"$tmp/installed.log" &
daemon=$!
if port=$(wait_ready "$tmp/installed.log" "$daemon"); then
  ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/health/ready")
  kill -TERM $daemon; wait $daemon; rc=$?; daemon=""
  if [ "$ready" = 200 ] && [ $rc = 0 ] && grep -q 'stopped' "$tmp/installed.log"; then
    pass "install-serve: installed binary + config ${run_as:+as uid 10001 }ready (200), SIGTERM: drained, exit 0"
  else fail "install-serve: ready $ready, exit $rc" "$(tail -5 "$tmp/installed.log")"; fi
else
  fail "install-serve: installed daemon not ready" "$(tail -20 "$tmp/installed.log")"
  kill -KILL $daemon 2>/dev/null; daemon=""
fi

# An edited config survives a reinstall; the new one lands beside it; a further run changes nothing.
jq '.log_level = "warning"' "$root/etc/perceiverd/config.json" > "$tmp/edited.json" && cp "$tmp/edited.json" "$root/etc/perceiverd/config.json"
out3=$(deploy/install.sh --root "$root" --binary "$BIN" 2>&1)
out4=$(deploy/install.sh --root "$root" --binary "$BIN" 2>&1)
if cmp -s "$tmp/edited.json" "$root/etc/perceiverd/config.json" && [ -f "$root/etc/perceiverd/config.json.new" ] \
   && grep -q 'config.json.new' <<<"$out3" && grep -q 'nothing changed' <<<"$out4"; then
  pass "install-edited-config: kept, new one in config.json.new, next run changes nothing"
else fail "install-edited-config" "$out3"$'\n'"$out4"; fi

out=$(deploy/install.sh --root "$root" --uninstall 2>&1); rc=$?
left=$(cd "$root" && find . -mindepth 1 | sort | tr '\n' ' ')
if [ $rc = 0 ] && [ "$left" = "./etc ./etc/perceiverd ./etc/perceiverd/config.json ./etc/perceiverd/config.json.new " ]; then
  pass "uninstall: only /etc/perceiverd is left"
else fail "uninstall: exit $rc, left: $left" "$out"; fi
out=$(deploy/install.sh --root "$root" --uninstall --purge 2>&1); rc=$?
left=$(cd "$root" && find . -mindepth 1 | sort | tr '\n' ' ')
if [ $rc = 0 ] && [ -z "$left" ]; then pass "uninstall-purge: nothing left"; else fail "uninstall-purge: exit $rc, left: $left" "$out"; fi

# --- kubernetes -----------------------------------------------------------------------------------------------
KV=$VENV/bin/kubernetes-validate
plain=$(ls deploy/kubernetes/*.yaml | grep -v '/kustomization\.yaml$')
out=$("$KV" -k "$K8S_VERSION" --strict $plain 2>&1); rc=$?
total=$(wc -w <<<"$plain"); ok=$(grep -c '^INFO .* passed for resource' <<<"$out")
if [ $rc = 0 ] && [ "$ok" = "$total" ] && [ "$(grep -vc '^INFO .* passed for resource' <<<"$out")" = 0 ]; then
  pass "kubernetes-validate $("$KV" --version 2>&1 | awk '{print $NF}') --strict -k $K8S_VERSION: $ok/$total manifests pass"
else fail "kubernetes-validate: exit $rc" "$out"; fi
mkdir -p "$tmp/k8s"
sed 's/^          readinessProbe:/          readinessProbes:/' deploy/kubernetes/deployment.yaml > "$tmp/k8s/unknown-field.yaml"
sed 's/^  revisionHistoryLimit: 5$/  revisionHistoryLimit: "5"/' deploy/kubernetes/deployment.yaml > "$tmp/k8s/wrong-type.yaml"
sed 's/averageUtilization: 70/averageUtilisation: 70/' deploy/kubernetes/hpa.yaml > "$tmp/k8s/hpa-unknown-field.yaml"
for broken in unknown-field wrong-type hpa-unknown-field; do
  # A sed that no longer matches would leave a valid copy: that is this test's bug, not a pass.
  if cmp -s "$tmp/k8s/$broken.yaml" deploy/kubernetes/deployment.yaml || cmp -s "$tmp/k8s/$broken.yaml" deploy/kubernetes/hpa.yaml; then
    fail "kubernetes-validate-negative $broken: the broken copy equals its original (fix the sed)"; continue
  fi
  out=$("$KV" -k "$K8S_VERSION" --strict "$tmp/k8s/$broken.yaml" 2>&1)
  if [ $? != 0 ] && grep -q 'ERROR' <<<"$out"; then pass "kubernetes-validate-negative $broken: rejected: $(grep -m1 -oE "(Additional properties|is not of type)[^(]*" <<<"$out")"
  else fail "kubernetes-validate-negative $broken: accepted" "$out"; fi
done

out=$("$VENV/bin/python" Tests/deploy/validate_kserve.py --kubernetes-version "$K8S_VERSION" $(ls deploy/kubernetes/kserve/*.yaml | grep -v '/kustomization\.yaml$') 2>&1); rc=$?
if [ $rc = 0 ] && ! grep -q '^FAIL' <<<"$out"; then pass "validate_kserve: $(head -1 <<<"$out"): $(grep -c '^ok' <<<"$out") manifests pass"
else fail "validate_kserve: exit $rc" "$out"; fi
sed 's/      storageUri:/      storageURI:/' deploy/kubernetes/kserve/inferenceservice.yaml > "$tmp/k8s/isvc-unknown-field.yaml"
sed 's/    minReplicas: 1$/    minReplicas: "1"/' deploy/kubernetes/kserve/inferenceservice.yaml > "$tmp/k8s/isvc-wrong-type.yaml"
sed 's/^  protocolVersions:/  protocolVersion:/' deploy/kubernetes/kserve/servingruntime.yaml > "$tmp/k8s/sr-unknown-field.yaml"
sed 's/      autoSelect: true/      autoSelect: "yes"/' deploy/kubernetes/kserve/servingruntime.yaml > "$tmp/k8s/sr-wrong-type.yaml"
sed 's/        - containerPort: 8080/        - containerPort: "8080"/' deploy/kubernetes/kserve/servingruntime.yaml > "$tmp/k8s/sr-container-wrong-type.yaml"
sed 's/^      image: /      imageName: /' deploy/kubernetes/kserve/servingruntime.yaml > "$tmp/k8s/sr-container-unknown-field.yaml"
sed '/^  containers:/,$d' deploy/kubernetes/kserve/servingruntime.yaml > "$tmp/k8s/sr-missing-containers.yaml"
for broken in isvc-unknown-field isvc-wrong-type sr-unknown-field sr-wrong-type sr-container-wrong-type \
              sr-container-unknown-field sr-missing-containers; do
  out=$("$VENV/bin/python" Tests/deploy/validate_kserve.py --kubernetes-version "$K8S_VERSION" "$tmp/k8s/$broken.yaml" 2>&1)
  if [ $? != 0 ] && grep -q '^FAIL' <<<"$out"; then pass "validate_kserve-negative $broken: rejected: $(sed -n '3p' <<<"$out" | sed 's/^ *[^ ]*#0//' | cut -c1-110)"
  else fail "validate_kserve-negative $broken: accepted" "$out"; fi
done

# The container args of both manifests start the daemon: the ServingRuntime's (no config; {{.Name}} and
# /mnt/models filled in as KServe would, port 0 for 8080) and the Deployment's (the ConfigMap's config at a
# temporary path, model paths pointed at the repository's directories).
container_args() { # container_args FILE: the first container's args, one per line
  "$VENV/bin/python" -c 'import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
spec = d["spec"]["template"]["spec"] if d["kind"] == "Deployment" else d["spec"]
print("\n".join(spec["containers"][0]["args"]))' "$1"
}
first_dir=$(deploy/render-config.sh --model-dirs config.json | head -1)
"$VENV/bin/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["data"]["config.json"], end="")' \
  deploy/kubernetes/configmap.yaml > "$tmp/configmap-config.json"
for manifest in deploy/kubernetes/kserve/servingruntime.yaml deploy/kubernetes/deployment.yaml; do
  mapfile -t args < <(container_args "$manifest" | sed -e "s|{{.Name}}=/mnt/models|kserve-model=$first_dir|" \
    -e "s|^/etc/perceiverd/config.json$|$tmp/configmap-config.json|" -e 's/^8080$/0/')
  extra=(); grep -q -- '^--port$' < <(printf '%s\n' "${args[@]}") || extra=(--port 0)
  [[ " ${args[*]} " == *" --config "* ]] && while IFS= read -r dir; do extra+=(--model "$(basename "$dir")=$dir"); done \
    < <(deploy/render-config.sh --model-dirs config.json)
  "$BIN" serve "${args[@]}" "${extra[@]}" 2>"$tmp/args.log" &
  daemon=$!
  if port=$(wait_ready "$tmp/args.log" "$daemon"); then
    name=kserve-model; [[ " ${args[*]} " == *" --config "* ]] && name=$(jq -r '.models[0].name' config.json)
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/models/$name/ready")
    host=$(ss -ltnH "sport = :$port" | awk '{print $4}' | head -1)
    kill -TERM $daemon; wait $daemon; rc=$?
    if [ "$code" = 200 ] && [ $rc = 0 ]; then pass "container-args $(basename "$manifest"): $(echo "${args[@]}") -> /v2/models/$name/ready 200${host:+, bound $host}, exit 0"
    else fail "container-args $(basename "$manifest"): ready $code, exit $rc" "$(tail -5 "$tmp/args.log")"; fi
  else
    fail "container-args $(basename "$manifest"): not ready" "$(tail -10 "$tmp/args.log")"; kill -KILL $daemon 2>/dev/null
  fi
  daemon=""
done

for dir in deploy/kubernetes deploy/kubernetes/kserve; do
  listed=$(sed -n 's/^  - \(.*\.yaml\)$/\1/p' "$dir/kustomization.yaml" | sort)
  present=$(cd "$dir" && ls *.yaml | grep -vx kustomization.yaml | sort)
  if [ "$listed" = "$present" ]; then pass "kustomization $dir: lists every manifest"
  else fail "kustomization $dir" "$(diff <(echo "$listed") <(echo "$present"))"; fi
done

rendered=$(deploy/render-config.sh config.json /usr/local/share/perceiverd/models 0.0.0.0)
in_map=$("$VENV/bin/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["data"]["config.json"], end="")' deploy/kubernetes/configmap.yaml)
if [ "$(jq -S . <<<"$rendered")" = "$(jq -S . <<<"$in_map")" ]; then pass "configmap: equals config.json rendered for the container"
else fail "configmap: differs from deploy/render-config.sh config.json /usr/local/share/perceiverd/models 0.0.0.0 (regenerate it)" \
       "$(diff <(jq -S . <<<"$rendered") <(jq -S . <<<"$in_map"))"; fi
# The grace period covers the preStop sleep plus the drain.
grace=$(sed -n 's/^ *terminationGracePeriodSeconds: *//p' deploy/kubernetes/deployment.yaml)
prestop=$(grep -A3 'preStop:' deploy/kubernetes/deployment.yaml | grep -oE '"/bin/sleep", "[0-9]+"' | grep -oE '[0-9]+"$' | tr -d '"')
drain_s=$(( $(jq '.drain_timeout_ms // 30000' <<<"$in_map") / 1000 ))
if [ -n "$grace" ] && [ -n "$prestop" ] && [ "$grace" -gt $((prestop + drain_s)) ]; then
  pass "grace-period: terminationGracePeriodSeconds $grace > preStop $prestop s + drain $drain_s s"
else fail "grace-period: $grace vs preStop ${prestop:-?} + drain $drain_s"; fi

# --- docker ---------------------------------------------------------------------------------------------------
out=$("$VENV/bin/hadolint" --no-color deploy/Dockerfile 2>&1); rc=$?
if [ $rc = 0 ] && [ -z "$out" ]; then pass "hadolint $("$VENV/bin/hadolint" --version | awk '{print $NF}'): no findings"
else fail "hadolint: exit $rc" "$out"; fi
printf 'FROM debian:bookworm-slim\nRUN apt-get install libssl3\nCMD perceiverd serve\n' > "$tmp/Dockerfile.bad"
out=$("$VENV/bin/hadolint" --no-color "$tmp/Dockerfile.bad" 2>&1)
if [ $? != 0 ] && grep -q DL3008 <<<"$out" && grep -q DL3025 <<<"$out"; then pass "hadolint-negative: unpinned apt-get and shell-form CMD reported"
else fail "hadolint-negative" "$out"; fi

# The runtime stage's packages (the apt-get install of the last stage) and everything they depend on.
runtime_packages=$(awk '/^FROM /{stage++} {print stage "\t" $0}' deploy/Dockerfile | awk -F'\t' -v last="$(grep -c '^FROM ' deploy/Dockerfile)" '$1 == last {print $2}' \
  | sed -n '/apt-get install/,/rm -rf/p' | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' \
  | grep -vxE 'apt-get|install|rm|useradd|DEBIAN_FRONTEND=noninteractive|-y|--no-install-recommends')
for pkg in $runtime_packages; do apt-cache show "$pkg" >/dev/null 2>&1 || fail "docker-packages: no Debian package $pkg"; done
closure=$( (echo libc6; for pkg in $runtime_packages; do echo "$pkg"; apt-cache depends --recurse --no-recommends --no-suggests \
  --no-conflicts --no-breaks --no-replaces --no-enhances "$pkg" 2>/dev/null | grep -E '^\w' ; done) | sed 's/:.*//' | sort -u)
unmapped=""; libs=0
while read -r lib path; do
  libs=$((libs + 1))
  [ "$path" = "not" ] && { unmapped="$unmapped $lib(not found)"; continue; }
  [[ $path == /opt/* || $path == *swift* ]] && { unmapped="$unmapped $lib(Swift runtime at $path)"; continue; }
  pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(realpath "$path")" 2>/dev/null || dpkg -S "/usr$path" 2>/dev/null || dpkg -S "${path#/usr}" 2>/dev/null)
  pkg=${pkg%%:*}
  if [ -z "$pkg" ] || ! grep -qx "$pkg" <<<"$closure"; then unmapped="$unmapped $lib(${pkg:-no package})"; else echo "     $lib -> $pkg"; fi
done < <(ldd "$BIN" | awk '$2 == "=>" {print $1, $3} $1 ~ /^\/.*ld-linux/ {print $1, $1}')
if [ -z "$unmapped" ]; then pass "docker-runtime-libs: all $libs shared libraries of the --static-swift-stdlib build come from the runtime stage's packages ($(echo $runtime_packages))"
else fail "docker-runtime-libs: not provided by the runtime stage:$unmapped"; fi

# The shipped binary runs on any x86-64 CPU: built for baseline x86-64 (no -target-cpu), it holds no AVX or
# AVX-512 instruction (no ymm/zmm register), with the Swift runtime linked in; oneDNN picks its kernels at run time.
wide=$(objdump -d --no-show-raw-insn "$BIN" | grep -cE '%[yz]mm[0-9]' || true)
if [ "$wide" -eq 0 ]; then pass "baseline-x86-64: the --static-swift-stdlib binary uses no ymm/zmm register"
else fail "baseline-x86-64: $wide instructions use ymm/zmm registers (was it built with -target-cpu?)"; fi

# Build stage: the Swift image matches the toolchain this test built with; the dev packages exist.
image_swift=$(sed -n 's/^FROM swift:\([0-9.]*\)-bookworm.*/\1/p' deploy/Dockerfile)
local_swift=$(swift --version 2>/dev/null | grep -oE 'Swift version [0-9.]+' | awk '{print $3}')
if [ "$image_swift" = "$local_swift" ]; then pass "docker-build-stage: swift:$image_swift-bookworm = local toolchain $local_swift"
else fail "docker-build-stage: swift:$image_swift in the Dockerfile, $local_swift here"; fi
# COPY sources exist and .dockerignore does not exclude them.
sources=$(grep -E '^COPY ' deploy/Dockerfile | grep -v -- '--from' | awk '{for (i = 2; i < NF; i++) print $i}')
bad=""
for src in $sources; do
  [ -e "$src" ] || bad="$bad $src(missing)"
  while IFS= read -r pattern; do
    case $pattern in ''|'#'*) continue ;; esac
    # shellcheck disable=SC2053
    [[ $src == $pattern || $src == $pattern/* ]] && bad="$bad $src(.dockerignore: $pattern)"
  done < .dockerignore
done
if [ -z "$bad" ]; then pass "docker-context: COPY sources present, none ignored ($(echo $sources))"; else fail "docker-context:$bad"; fi

# The build stage's staging step (the RUN that fills /staging with models and the rendered config), run in a
# copy of its COPY sources with /staging moved under $tmp; the daemon then serves the staged config (model
# paths prefixed with the staging root) as the image would.
staging_run=$(awk '/^RUN mkdir -p \/staging/ {on = 1} on {print; if ($0 !~ /\\$/) exit}' deploy/Dockerfile \
  | sed -e 's/^RUN //' -e "s|/staging|$tmp/staging|g")
mkdir -p "$tmp/context/deploy" && cp -R config.json models "$tmp/context/" && cp deploy/render-config.sh "$tmp/context/deploy/"
if [ -n "$staging_run" ] && (cd "$tmp/context" && bash -euo pipefail -c "$staging_run") 2>"$tmp/staging.err"; then
  staged=$tmp/staging
  overrides=(); for p in $(jq -r '.models[].path' "$staged/etc/perceiverd/config.json"); do overrides+=(--model "$(basename "$p")=$staged$p"); done
  "$BIN" serve --config "$staged/etc/perceiverd/config.json" --port 0 "${overrides[@]}" 2>"$tmp/staged.log" &
  daemon=$!
  if port=$(wait_ready "$tmp/staged.log" "$daemon"); then
    kill -TERM $daemon; wait $daemon; rc=$?
    host=$(jq -r .host "$staged/etc/perceiverd/config.json")
    if [ $rc = 0 ] && [ "$host" = 0.0.0.0 ]; then
      pass "docker-staging: the build stage's staging step gives $(ls "$staged/usr/local/share/perceiverd/models" | wc -l) model(s) and a config (host $host) the daemon serves"
    else fail "docker-staging: exit $rc, host $host"; fi
  else fail "docker-staging: staged config not served" "$(tail -5 "$tmp/staged.log")"; kill -KILL $daemon 2>/dev/null; fi
  daemon=""
else
  fail "docker-staging: the staging RUN failed or was not found" "$staging_run"$'\n'"$(cat "$tmp/staging.err" 2>/dev/null)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
