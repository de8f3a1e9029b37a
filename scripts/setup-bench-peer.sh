#!/usr/bin/env bash
# Installs the PyTorch peer of `introllm bench --peer torch` / `bench --suite --peer torch` on Debian (as root):
# python3-torch, and libopenblas0-pthread for the peer to run on. The peer process alone is pointed at OpenBLAS
# (LD_LIBRARY_PATH=/usr/lib/<triplet>/openblas-pthread, src/bench/torch-peer.ts); the system's libblas.so.3 and
# liblapack.so.3 stay what they were: installing libopenblas0-pthread makes its copies the automatic choice, so the
# alternatives are set back to their previous values afterwards. Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "$(uname -m)-linux-gnu")

if ! dpkg -s python3-torch >/dev/null 2>&1 || ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  apt-get update -qq
fi
# python3-torch first: it brings the system's default BLAS (Debian: the reference libblas3) if there is none.
dpkg -s python3-torch >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends python3-torch > /dev/null

if ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  declare -A before=()
  for name in libblas.so.3 liblapack.so.3; do
    alt="$name-$triplet"
    before[$alt]=$(update-alternatives --query "$alt" 2>/dev/null | sed -n 's/^Value: //p' || true)
  done
  apt-get install -y -qq --no-install-recommends libopenblas0-pthread > /dev/null
  for alt in "${!before[@]}"; do
    if [ -n "${before[$alt]}" ]; then
      update-alternatives --quiet --set "$alt" "${before[$alt]}"
    fi
  done
fi

dir="/usr/lib/$triplet/openblas-pthread"
test -e "$dir/libblas.so.3" || { echo "setup-bench-peer: $dir/libblas.so.3 missing after installing libopenblas0-pthread" >&2; exit 1; }
echo "bench peer: $(/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)'), OpenBLAS for the peer in $dir;" \
  "system libblas.so.3 -> $(readlink -f "/usr/lib/$triplet/libblas.so.3")"
