#!/usr/bin/env bash
# Fetches Mesa's lavapipe (a software Vulkan driver) from Debian bookworm-backports and unpacks it into
# vendor/lavapipe/ (git-ignored), so that the webgpu backend (Dawn) can run on a machine without a GPU: tests and CI.
# Bookworm's own Mesa 22.3 lavapipe is rejected by Dawn; backports has Mesa 25. Nothing is installed: the system's
# apt sources and dpkg database are untouched (scripts/apt-fetch.sh uses a private apt state), no root needed.
#
#   scripts/fetch-lavapipe.sh [--force]     idempotent: does nothing when vendor/lavapipe/ is complete
#   INTROLLM_LAVAPIPE_DIR=DIR                 unpack elsewhere (default vendor/lavapipe)
#
# Then, to use it:  source vendor/lavapipe/env.sh  (sets VK_ICD_FILENAMES / VK_DRIVER_FILES and LD_LIBRARY_PATH;
# both must be set before the Node process starts, because Dawn loads libvulkan.so.1 when it first runs).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${INTROLLM_LAVAPIPE_DIR:-$repo/vendor/lavapipe}"
libdir="$out/root/usr/lib/x86_64-linux-gnu"
die() { echo "fetch-lavapipe: $*" >&2; exit 1; }

[ "$(uname -m)" = x86_64 ] || die "only x86-64 is supported (this is $(uname -m))"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found: this script needs a Debian-based system"

check() {  # every library the driver and the loader need resolves (system or unpacked)
  local missing
  missing="$(LD_LIBRARY_PATH="$libdir" ldd "$libdir/libvulkan_lvp.so" "$libdir/libvulkan.so.1" 2>&1 | grep -E 'not found|No such file' || true)"
  [ -z "$missing" ] || { echo "$missing" >&2; return 1; }
}

if [ "${1:-}" != "--force" ] && [ -f "$out/.complete" ] && check 2>/dev/null; then
  echo "fetch-lavapipe: $out is complete ($(cat "$out/.complete")); --force to fetch again"
  exit 0
fi
[ $# -eq 0 ] || [ "$1" = "--force" ] || die "usage: fetch-lavapipe.sh [--force]"

rm -rf "$out"
mkdir -p "$out/debs"

# The driver and the libdrm it needs from backports, the Vulkan loader from bookworm; then every dependency (walked
# recursively) that this system does not have installed. Base libraries every Node process has are skipped.
declare -A seen=([libc6]=1 [libgcc-s1]=1 [libstdc++6]=1)
want=(mesa-vulkan-drivers/bookworm-backports libdrm2/bookworm-backports libdrm-amdgpu1/bookworm-backports libvulkan1)
for p in "${want[@]}"; do seen[${p%%/*}]=1; done
queue=("${want[@]}")
while [ ${#queue[@]} -gt 0 ]; do
  p="${queue[0]}"; queue=("${queue[@]:1}")
  deps="$("$repo/scripts/apt-fetch.sh" --show "$p")"
  IFS=',' read -ra items <<<"$deps"
  for d in "${items[@]}"; do
    d="$(echo "$d" | sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' | tr -d ' ')"   # first alternative, no version
    [ -n "$d" ] && [ -z "${seen[$d]:-}" ] || continue
    seen[$d]=1
    if dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q '^install ok installed'; then continue; fi
    want+=("$d"); queue+=("$d")
  done
done

echo "fetch-lavapipe: downloading ${want[*]}"
"$repo/scripts/apt-fetch.sh" "$out/debs" "${want[@]}"
for deb in "$out"/debs/*.deb; do dpkg-deb -x "$deb" "$out/root" || die "dpkg-deb -x $deb failed"; done

mesa="$(dpkg-deb -f "$out"/debs/mesa-vulkan-drivers_*.deb Version)"
[ "${mesa%%.*}" -ge 23 ] 2>/dev/null || die "mesa-vulkan-drivers $mesa is older than 23: Dawn rejects it"
[ -f "$libdir/libvulkan_lvp.so" ] || die "libvulkan_lvp.so is not in the unpacked mesa-vulkan-drivers"

# Debian's lvp_icd*.json names the library for the system's search path; ours points into root/ (a path relative to
# the JSON file, which the Vulkan loader resolves against the file's folder, so the folder can move).
icd="$(ls "$out"/root/usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null | head -1)"
[ -n "$icd" ] || die "no lvp_icd*.json in the unpacked mesa-vulkan-drivers"
api="$(sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' "$icd")"
cat >"$out/lvp_icd.json" <<EOF
{
    "ICD": {
        "api_version": "${api:-1.3.0}",
        "library_path": "./root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so"
    },
    "file_format_version": "1.0.0"
}
EOF
cat >"$out/env.sh" <<'EOF'
# Selects the unpacked lavapipe driver and Vulkan loader: `source vendor/lavapipe/env.sh` (made by fetch-lavapipe.sh).
_lvp="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export VK_ICD_FILENAMES="$_lvp/lvp_icd.json" VK_DRIVER_FILES="$_lvp/lvp_icd.json"
export LD_LIBRARY_PATH="$_lvp/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset _lvp
EOF

check || die "libraries are still missing after unpacking (above); install them with apt-get or add their packages"
echo "mesa $mesa" >"$out/.complete"
echo "fetch-lavapipe: lavapipe from Mesa $mesa in $out ($(du -sh "$out/root" | cut -f1) unpacked); use: source $out/env.sh"
