#!/usr/bin/env bash
# Installs perceiverd as a systemd service (see docs/deployment.md "Running under systemd"):
#   /usr/local/bin/perceiverd                     the release binary (--binary PATH, else .build/release/perceiverd,
#                                                 built with `swift build -c release` when missing)
#   /etc/systemd/system/perceiverd.service        deploy/perceiverd.service
#   /usr/local/share/perceiverd/models/<name>/    the model directories config.json serves
#   /usr/local/share/doc/perceiverd/README.md     the README and, beside it, the docs/ tree its links lead to
#   /usr/local/share/doc/perceiverd/docs/         (the unit's Documentation=)
#   /etc/perceiverd/config.json                   config.json with model paths pointing at the directory above
#                                                 (deploy/render-config.sh). An existing config.json that differs
#                                                 is never overwritten: the new one goes to config.json.new.
# Idempotent: a second run changes nothing and says so.
#
# Usage: deploy/install.sh [--root DIR] [--binary PATH] [--config FILE] [--no-start]
#        deploy/install.sh --uninstall [--purge] [--root DIR] [--no-start]
#   --root DIR    install under DIR instead of / (DESTDIR-style; no root needed, systemctl is never called)
#   --binary PATH the perceiverd to install
#   --config FILE the configuration to derive /etc/perceiverd/config.json from (default: the repo's config.json)
#   --no-start    do not call systemctl (daemon-reload, enable --now, try-restart)
#   --uninstall   stop and disable the service, remove binary, unit, models and doc; keeps /etc/perceiverd
#   --purge       with --uninstall: remove /etc/perceiverd as well
# systemctl is called only when installing into / on a machine booted with systemd (/run/systemd/system).
set -euo pipefail
# Directories made here must be readable by the service's dynamic user whatever umask root has (027, 077).
umask 022
repo=$(cd "$(dirname "$0")/.." && pwd)

root=/ binary="" config="$repo/config.json" start=1 uninstall=0 purge=0
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case $1 in
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --config) config=${2:?--config needs a file}; shift 2 ;;
    --no-start) start=0; shift ;;
    --uninstall) uninstall=1; shift ;;
    --purge) purge=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage 64 >&2 ;;
  esac
done
[ $purge = 0 ] || [ $uninstall = 1 ] || { echo "install.sh: --purge goes with --uninstall" >&2; exit 64; }

root=${root%/}
prefix_bin=/usr/local/bin/perceiverd
unit=/etc/systemd/system/perceiverd.service
share=/usr/local/share/perceiverd
models_dir=$share/models
doc=/usr/local/share/doc/perceiverd
etc=/etc/perceiverd

# systemctl only for a real install on a systemd-booted machine (sd_booted(3): /run/systemd/system exists).
use_systemctl=0
if [ -z "$root" ] && [ $start = 1 ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  use_systemctl=1
fi
if [ -z "$root" ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: installing into / needs root (sudo deploy/install.sh), or give --root DIR" >&2
  exit 1
fi

changes=0
note() { echo "  $*"; changes=$((changes + 1)); }

# install_tree SRC DEST: copies the directory whole (directories 755, files 644) when any file differs, is
# missing or is extra; DEST belongs to this script.
install_tree() {
  local src=$1 dest=$root$2
  if [ -d "$dest" ] && diff -r -q "$src" "$dest" >/dev/null 2>&1; then return; fi
  local verb=installed; [ -e "$dest" ] && verb=updated
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  cp -R --no-preserve=mode,ownership "$src" "$dest"
  find "$dest" -type d -exec chmod 755 {} + && find "$dest" -type f -exec chmod 644 {} +
  note "$verb $2"
}

# install_file SRC DEST MODE: copies when content or mode differ.
install_file() {
  local src=$1 dest=$root$2 mode=$3
  if [ -f "$dest" ] && cmp -s "$src" "$dest" && [ "$(stat -c %a "$dest")" = "$mode" ]; then return; fi
  local verb=installed; [ -e "$dest" ] && verb=updated
  install -D -m "$mode" "$src" "$dest"
  note "$verb $2"
}

remove_path() { # remove_path PATH: rm -rf under root, reported
  if [ -e "$root$1" ] || [ -L "$root$1" ]; then rm -rf -- "$root$1"; note "removed $1"; fi
}

remove_empty_parents() { # under --root only: rmdir the directories left empty, up to (not including) the root
  [ -n "$root" ] || return 0
  local d
  for d in "$@"; do
    while [ "$d" != / ]; do
      if [ -d "$root$d" ]; then rmdir "$root$d" 2>/dev/null || break; fi
      d=$(dirname "$d")
    done
  done
}

if [ $uninstall = 1 ]; then
  echo "uninstalling perceiverd from ${root:-/}"
  if [ $use_systemctl = 1 ] && systemctl cat perceiverd.service >/dev/null 2>&1; then
    systemctl disable --now perceiverd.service && note "stopped and disabled perceiverd.service"
  fi
  remove_path "$unit"
  remove_path "$prefix_bin"
  remove_path "$share"
  remove_path "$doc"
  if [ $purge = 1 ]; then remove_path "$etc"; elif [ -e "$root$etc" ]; then echo "  kept $etc (--purge removes it)"; fi
  [ $use_systemctl = 1 ] && systemctl daemon-reload
  remove_empty_parents /etc/systemd/system /usr/local/bin /usr/local/share/doc /usr/local/share /etc/perceiverd
  [ $changes = 0 ] && echo "  nothing to remove"
  exit 0
fi

echo "installing perceiverd into ${root:-/}"

# The binary: given, built, or built now.
if [ -z "$binary" ]; then
  binary=$repo/.build/release/perceiverd
  if [ ! -x "$binary" ]; then
    echo "  $binary missing: swift build -c release --product perceiverd"
    (cd "$repo" && swift build -c release --product perceiverd)
  fi
fi
[ -x "$binary" ] || { echo "install.sh: $binary is not an executable" >&2; exit 1; }
# Runtime libraries: check, do not install (apt-get on a production host is the operator's call).
if missing=$(ldd "$binary" 2>/dev/null | awk '/not found/ {print $1}') && [ -n "$missing" ]; then
  echo "install.sh: $binary needs libraries this machine lacks: $(echo $missing)" >&2
  echo "  apt-get install libdnnl2 libssl3 zlib1g libpng16-16 libjpeg62-turbo (and the Swift runtime, or a" >&2
  echo "  binary built with swift build -c release --static-swift-stdlib)" >&2
  exit 1
fi
if ldd "$binary" 2>/dev/null | grep -q 'libswiftCore\.so'; then
  echo "  note: $(basename "$binary") loads the Swift runtime from $(ldd "$binary" | awk '/libswiftCore/ {print $3}' | xargs dirname);"
  echo "        the service stops working if that toolchain is removed (build with --static-swift-stdlib to avoid it)"
fi

[ -f "$config" ] || { echo "install.sh: no configuration $config" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$repo/deploy/render-config.sh" "$config" "$models_dir" > "$tmp/config.json"

file_sum() { if [ -f "$1" ]; then sha256sum < "$1"; else echo none; fi; }
unit_before=$(file_sum "$root$unit")
install_file "$binary" "$prefix_bin" 755
install_file "$repo/deploy/perceiverd.service" "$unit" 644
install_file "$repo/README.md" "$doc/README.md" 644
install_tree "$repo/docs" "$doc/docs"

# Models: each served directory copied whole; a directory that differs in any file is replaced; directories no
# longer served are removed (the models directory belongs to this script).
mkdir -p "$root$models_dir"
wanted=()
while IFS= read -r src; do
  name=$(basename "$src")
  wanted+=("$name")
  [ -d "$src" ] || { echo "install.sh: model directory $src (from $config) does not exist" >&2; exit 1; }
  install_tree "$src" "$models_dir/$name"
done < <("$repo/deploy/render-config.sh" --model-dirs "$config")
for existing in "$root$models_dir"/*; do
  [ -e "$existing" ] || continue
  name=$(basename "$existing")
  [[ " ${wanted[*]} " == *" $name "* ]] || { rm -rf "$existing"; note "removed $models_dir/$name (no longer in the config)"; }
done

# The configuration: never overwrite one that differs (it may have been edited); leave the new one beside it.
if [ ! -e "$root$etc/config.json" ]; then
  install_file "$tmp/config.json" "$etc/config.json" 644
elif cmp -s "$tmp/config.json" "$root$etc/config.json"; then
  [ -e "$root$etc/config.json.new" ] && remove_path "$etc/config.json.new"  # a stale proposal, now merged
  true
elif [ -e "$root$etc/config.json.new" ] && cmp -s "$tmp/config.json" "$root$etc/config.json.new"; then
  echo "  kept $etc/config.json (differs from the repository's); $etc/config.json.new still holds the new one"
else
  install_file "$tmp/config.json" "$etc/config.json.new" 644
  echo "  kept $etc/config.json (differs from the repository's); compare and merge: diff $etc/config.json{,.new}"
fi

if [ $use_systemctl = 1 ]; then
  [ "$(file_sum "$root$unit")" = "$unit_before" ] || systemctl daemon-reload
  # First install: enable and start. Later: restart only a running service, and only when something changed
  # (a service an operator stopped stays stopped).
  if ! systemctl is-enabled --quiet perceiverd.service; then
    systemctl enable --now perceiverd.service && note "enabled and started perceiverd.service"
  elif [ $changes -gt 0 ]; then
    systemctl try-restart perceiverd.service && note "restarted perceiverd.service (if it was running)"
  fi
  systemctl --no-pager --lines=0 status perceiverd.service || true
elif [ -z "$root" ] && [ $start = 1 ]; then
  echo "  systemd is not running here (no /run/systemd/system): not calling systemctl"
fi

if [ $changes = 0 ]; then echo "  nothing changed: already installed"; else echo "  $changes change(s)"; fi
