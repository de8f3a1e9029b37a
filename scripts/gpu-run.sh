#!/usr/bin/env bash
# Runs the kit on the webgpu backend from the archive made by scripts/gpu-bundle.js, on a machine that may have no
# Node.js and no network (the lent GPU machine), from the repository root (data/, bench/shapes/, tests/fixtures/).
#
#   scripts/gpu-run.sh [--archive vendor/gpu-bundle/introllm-gpu.tar.xz | --app UNPACKED_DIR] [--out DIR]
#                      [--driver nvidia|lavapipe] [--quick] [--deadline SECONDS]
#
# Steps, each with a time limit, each writing DIR/<step>.json (its stdout) and DIR/<step>.log (stderr):
#   env       what was found: GPU, Vulkan loader and ICD, the adapter Dawn picks
#   smoke     bench on the tiny fixture (tests/fixtures/lm/qwen2-f32), webgpu
#   logits    the fixture's logits on webgpu vs cpu: max abs diff (must be < 1e-3)
#   bench-webgpu  the benchmark shape bench/shapes/qwen2-h256 (random weights) on webgpu    (skipped with --quick)
#   sft       a short training run of the kit's tiny model (forward+backward+Adam, host sampling for eval;
#             3 steps with --quick)
#   train     the RL `smoke` preset on that model (rollouts with KV cache, GRPO update)   (skipped with --quick)
#   bench05b-webgpu  bench/shapes/qwen2.5-0.5b (random weights), smaller batch            (skipped with --quick)
#   bench-wasm    the benchmark shape on wasm, on this machine's CPU: the baseline         (skipped with --quick)
# Steps run in that order of priority within --deadline (default 480 s: a device call may last 600 s); a step that
# would not fit is cut to the time left, or skipped (exit "skipped") under 20 s. Then DIR/summary.json lists each
# step's exit status and seconds. Exit status: the number of failed steps (0 = all ran).
# --driver lavapipe uses vendor/lavapipe/ (scripts/fetch-lavapipe.sh) instead of the NVIDIA driver: a local check.
set -uo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
archive="$repo/vendor/gpu-bundle/introllm-gpu.tar.xz"
app=""
out="$repo/results/gpu/run-$(date -u +%Y%m%dT%H%M%SZ)"
driver=nvidia
quick=0
deadline=480
die() { echo "gpu-run: $*" >&2; exit 100; }
while [ $# -gt 0 ]; do
  case "$1" in
    --archive) archive="$(realpath "${2:?--archive needs a value}")"; shift 2 ;;
    --app) app="$(realpath "${2:?--app needs a value}")"; shift 2 ;;
    --out) out="$(realpath -m "${2:?--out needs a value}")"; shift 2 ;;
    --driver) driver="${2:?--driver needs a value}"; shift 2 ;;
    --quick) quick=1; shift ;;
    --deadline) deadline="${2:?--deadline needs a value}"; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
mkdir -p "$out"
cd "$repo"

# Unpack once per archive (a stamp records which one), unless --app names an unpacked bundle.
if [ -n "$app" ]; then
  [ -x "$app/bin/node" ] || die "$app is not an unpacked bundle (no bin/node)"
  archive="$app"
else
  [ -f "$archive" ] || die "$archive not found: make it with node scripts/gpu-bundle.js"
  app="${TMPDIR:-/tmp}/introllm-gpu"
  stamp="$(stat -c '%s %Y' "$archive") $archive"
fi
if [ "$archive" != "$app" ] && [ "$(cat "$app/.archive" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$app" && mkdir -p "$(dirname "$app")"
  if command -v xz >/dev/null; then
    tar -C "$(dirname "$app")" -xJf "$archive" || die "unpacking $archive failed"
  elif command -v python3 >/dev/null; then
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$archive" "$(dirname "$app")" || die "unpacking $archive with python3 failed"
  else
    die "neither xz nor python3 is available to unpack $archive"
  fi
  echo "$stamp" >"$app/.archive"
fi
node="$app/bin/node"
"$node" --version >/dev/null || die "$node does not run here"

# Vulkan: the driver's ICD, and the loader (the system's, else the bundle's).
case "$driver" in
  nvidia)
    if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
      for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
        if [ -f "$f" ]; then export VK_DRIVER_FILES="$f" VK_ICD_FILENAMES="$f"; break; fi
      done
    fi
    [ -n "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] || echo "gpu-run: WARNING: no nvidia_icd.json found; Dawn will probably find no adapter" >&2
    for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d"; done
    ;;
  lavapipe)
    [ -f "$repo/vendor/lavapipe/env.sh" ] || die "vendor/lavapipe/ is missing: run scripts/fetch-lavapipe.sh"
    # shellcheck disable=SC1091
    source "$repo/vendor/lavapipe/env.sh"
    ;;
  *) die "--driver must be nvidia or lavapipe, got '$driver'" ;;
esac
if ! { ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; } && [ "$driver" = nvidia ]; then
  export LD_LIBRARY_PATH="$app/vulkan${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
export INTROLLM_ROOT="$repo"
unset INTROLLM_BACKEND

kit() { "$node" "$app/introllm.cjs" "$@"; }
failed=0
summary=()
started=$(date +%s)
step() {  # step NAME TIMEOUT_S CMD...: stdout → NAME.json, stderr → NAME.log
  local name="$1" limit="$2" t0 rc left; shift 2
  left=$((deadline - ($(date +%s) - started)))
  if [ "$left" -lt 20 ]; then
    echo "gpu-run: $name skipped (deadline)" >&2; summary+=("{\"step\":\"$name\",\"exit\":\"skipped\",\"seconds\":0}"); return
  fi
  [ "$limit" -le "$left" ] || limit=$left
  echo "gpu-run: $name (limit ${limit}s) ..." >&2
  t0=$(date +%s%N)
  timeout "$limit" bash -c '"$@"' bash "$@" >"$out/$name.json" 2>"$out/$name.log"; rc=$?
  local ms=$(( ($(date +%s%N) - t0) / 1000000 )) secs
  secs="$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
  [ $rc -eq 0 ] || { failed=$((failed + 1)); echo "gpu-run: $name FAILED (exit $rc): $(grep -v '^Warning' "$out/$name.log" | tail -2 | tr '\n' ' ')" >&2; }
  summary+=("{\"step\":\"$name\",\"exit\":$rc,\"seconds\":$secs}")
}

env_report() {
  echo "{\"driver\":\"$driver\",\"VK_DRIVER_FILES\":\"${VK_DRIVER_FILES:-}\",\"LD_LIBRARY_PATH\":\"${LD_LIBRARY_PATH:-}\"}"
  { nvidia-smi -L || true; cat "$app/VERSION.json"; ldconfig -p | grep -i vulkan || echo "no system libvulkan (the bundle's is used)"
    [ -n "${VK_DRIVER_FILES:-}" ] && cat "$VK_DRIVER_FILES"; ldd "$app/node_modules/webgpu/dist/linux-x64/dawn.node"; } >&2
  kit logits --model tests/fixtures/lm/qwen2-f32 --ids 1 --backend webgpu >/dev/null
}

logits_check() {
  local ids=1,5,9,3,7,2,11,4
  kit logits --model tests/fixtures/lm/qwen2-f32 --ids $ids --backend webgpu >"$out/.gpu.json" &&
    kit logits --model tests/fixtures/lm/qwen2-f32 --ids $ids --backend cpu >"$out/.cpu.json" 2>/dev/null &&
    "$node" -e '
      const [g, c] = process.argv.slice(1).map((f) => JSON.parse(require("fs").readFileSync(f, "utf8")));
      let m = 0;
      for (const k of ["logits", "hidden"]) g[k].forEach((r, i) => r.forEach((v, j) => { m = Math.max(m, Math.abs(v - c[k][i][j])); }));
      console.log(JSON.stringify({ max_abs_diff: m, ok: m < 1e-3 }));
      process.exitCode = m < 1e-3 ? 0 : 1;' "$out/.gpu.json" "$out/.cpu.json"
  local rc=$?; rm -f "$out/.gpu.json" "$out/.cpu.json"; return $rc
}

export node app out driver
export -f kit env_report logits_check
step env 60 env_report
step smoke 60 kit bench --model tests/fixtures/lm/qwen2-f32 --backend webgpu --batch 2 --prompt 4 --new 4 --json
step logits 60 logits_check
[ $quick = 1 ] || step bench-webgpu 150 kit bench --model bench/shapes/qwen2-h256 --random-init 0 --backend webgpu --json
if [ $quick = 1 ]; then sft_args=(--steps 3 --batch 8 --eval-problems 4); else sft_args=(--steps 40 --batch 32 --eval-problems 32); fi
step sft 150 kit sft --out "$out/sft-model" "${sft_args[@]}" --backend webgpu
[ $quick = 1 ] || step train 150 kit train --preset smoke --method introllm --seed 0 --set "model.dir=$out/sft-model" --out "$out/train-run" --backend webgpu
[ $quick = 1 ] || step bench05b-webgpu 150 kit bench --model bench/shapes/qwen2.5-0.5b --random-init 0 --backend webgpu --batch 4 --prompt 32 --new 32 --skip-full --train-steps 2 --json
[ $quick = 1 ] || step bench-wasm 150 kit bench --model bench/shapes/qwen2-h256 --random-init 0 --backend wasm --json
rm -rf "$out/sft-model/training/ckpt" "$out/train-run/ckpt"

(IFS=,; echo "{\"archive\":\"$(basename "$archive")\",\"driver\":\"$driver\",\"failed\":$failed,\"steps\":[${summary[*]}]}") >"$out/summary.json"
echo "gpu-run: done, $failed failed; results in $out" >&2
exit $failed
