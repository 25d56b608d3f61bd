#!/usr/bin/env bash
# The deployed configuration, derived from the repository's config.json so that the two never drift:
#   deploy/render-config.sh CONFIG MODELS_DIR [HOST]   print CONFIG with every models[].path rewritten to
#                                                      MODELS_DIR/<basename of the path> (and host set to
#                                                      HOST when given), everything else unchanged
#   deploy/render-config.sh --model-dirs CONFIG        print each model's directory (relative paths resolved
#                                                      against CONFIG's directory, as the daemon does), one
#                                                      per line
# Used by deploy/install.sh (MODELS_DIR /usr/local/share/perceiverd/models), by deploy/Dockerfile (the same,
# HOST 0.0.0.0) and by Tests/deploy/run.sh to check deploy/kubernetes/configmap.yaml. Needs jq.
set -euo pipefail

die() { echo "render-config.sh: $*" >&2; exit 1; }
command -v jq >/dev/null || die "needs jq (apt-get install jq)"

check_basenames() { # model directory basenames must be unique, or two models would share one installed dir
  local dupes
  dupes=$(jq -r '.models[].path | sub("/+$"; "") | split("/") | last' "$1" | sort | uniq -d)
  [ -z "$dupes" ] || die "$1: models share a directory name ($dupes); rename one"
}

if [ "${1:-}" = --model-dirs ]; then
  [ $# -eq 2 ] || die "usage: render-config.sh --model-dirs CONFIG"
  config=$2
  check_basenames "$config"
  base=$(cd "$(dirname "$config")" && pwd)
  jq -r '.models[].path | sub("/+$"; "")' "$config" | while IFS= read -r path; do
    case $path in /*) echo "$path" ;; *) echo "$base/$path" ;; esac
  done
  exit 0
fi

[ $# -ge 2 ] && [ $# -le 3 ] || die "usage: render-config.sh CONFIG MODELS_DIR [HOST]"
config=$1 models_dir=${2%/} host=${3:-}
check_basenames "$config"
jq --indent 2 --arg dir "$models_dir" --arg host "$host" '
  (if $host != "" then .host = $host else . end)
  | .models |= map(.path = $dir + "/" + (.path | sub("/+$"; "") | split("/") | last))
' "$config"
