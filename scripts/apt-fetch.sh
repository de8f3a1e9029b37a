#!/usr/bin/env bash
# Downloads Debian packages (.deb files, nothing installed) with a PRIVATE apt configuration: its own sources list
# (bookworm + bookworm-backports), package lists and cache under vendor/apt/. The system's apt sources, lists and
# dpkg database are not touched; root is not needed. Used by scripts/fetch-lavapipe.sh and scripts/gpu-bundle.js.
#
#   scripts/apt-fetch.sh DEST_DIR PKG[/SUITE] ...     e.g. scripts/apt-fetch.sh vendor/x mesa-vulkan-drivers/bookworm-backports libvulkan1
#   scripts/apt-fetch.sh --show PKG[/SUITE]           prints the package's Depends line (for dependency walks)
#
# Env: INTROLLM_APT_MIRROR (default http://deb.debian.org/debian), INTROLLM_APT_DIR (default <repo>/vendor/apt).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
aptdir="${INTROLLM_APT_DIR:-$repo/vendor/apt}"
mirror="${INTROLLM_APT_MIRROR:-http://deb.debian.org/debian}"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

die() { echo "apt-fetch: $*" >&2; exit 1; }
command -v apt-get >/dev/null || die "apt-get not found: this script needs a Debian-based system (bookworm)"
[ -r "$keyring" ] || die "$keyring not found (package debian-archive-keyring)"

mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
cat >"$aptdir/sources.list" <<EOF
deb [signed-by=$keyring] $mirror bookworm main
deb [signed-by=$keyring] $mirror bookworm-backports main
EOF
opts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache"
  -o APT::Architecture=amd64 -o APT::Architectures=amd64 -o Debug::NoLocking=1)

# Refresh the private package lists at most once a day.
stamp="$aptdir/lists/.updated"
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
  apt-get "${opts[@]}" -qq update >"$aptdir/update.log" 2>&1 || die "apt-get update (private lists in $aptdir) failed: $(tail -3 "$aptdir/update.log" | tr '\n' ' ')"
  touch "$stamp"
fi

if [ "${1:-}" = "--show" ]; then
  shift
  [ $# -eq 1 ] || die "--show takes one package"
  apt-cache "${opts[@]}" show --no-all-versions "$1" 2>/dev/null | sed -n 's/^Depends: //p' | head -1
  exit 0
fi

[ $# -ge 2 ] || die "usage: apt-fetch.sh DEST_DIR PKG[/SUITE] ..."
dest="$1"; shift
mkdir -p "$dest"
cd "$dest"
# apt-get download as root drops to the _apt user, which may not be able to write here: the warning is harmless.
apt-get "${opts[@]}" -qq download "$@" >"$aptdir/download.log" 2>&1 || die "apt-get download $* failed: $(grep -v 'unsandboxed' "$aptdir/download.log" | tail -3 | tr '\n' ' ')"
