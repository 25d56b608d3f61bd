#!/usr/bin/env bash
# Third-party client tests: NVIDIA's tritonclient.http against a running perceiverd (test_tritonclient.py; the
# model repository extension, test_repository.py; statistics, model configuration and logging,
# test_operations.py).
# Keeps its own venv in .venv-clients, installed from requirements.txt and reinstalled only when that file
# changes. Run by `make test` after Tests/cli/run.sh. Needs the debug build (or PERCEIVERD=path).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv-clients
REQUIREMENTS=Tests/clients/requirements.txt
export PERCEIVERD=${PERCEIVERD:-.build/debug/perceiverd}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian splits venv (and ensurepip) out of python3: install python3-venv when `python3 -m venv` fails.
make_venv() {
  rm -rf "$VENV"
  if python3 -m venv "$VENV" 2>/dev/null; then return; fi
  echo "python3 -m venv failed; installing python3-venv with apt-get" >&2
  rm -rf "$VENV"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv
  python3 -m venv "$VENV"
}

stamp="$VENV/.requirements.sha256"
wanted=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  [ -x "$VENV/bin/python" ] || make_venv
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQUIREMENTS"
  echo "$wanted" > "$stamp"
fi

"$VENV/bin/python" Tests/clients/test_tritonclient.py
"$VENV/bin/python" Tests/clients/test_repository.py
"$VENV/bin/python" Tests/clients/test_operations.py
