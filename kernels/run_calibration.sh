#!/usr/bin/env bash
# run_calibration.sh [OUTDIR] [--quick]: the whole calibration on a GPU machine in
# one command.  Builds clustersim-kernels with nvcc alone (no meson needed),
# runs it on every visible GPU, adds PyTorch's attention where torch imports,
# then, if a built clustersim is at hand (build/ or $CLUSTERSIM), fits and
# validates.  Writes into OUTDIR (default: $OUT, else ./calibration-out):
#   measurements.csv, kernels.log, and with clustersim profile.lua,
#   calibrate.txt, validate.txt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-${OUT:-calibration-out}}
quick=${2:-}
mkdir -p "$out"
tmpd=$(mktemp -d)
trap 'rm -rf "$tmpd"' EXIT
nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
cuda=$(dirname "$(dirname "$nvcc")")

# NCCL: the toolkit's, the system's, or the pip package PyTorch brings
# (found by its header anywhere under the 'nvidia' namespace package, whose
# layout differs between CUDA versions).
pip_nccl_inc=$(python3 -c 'import nvidia; print("\n".join(nvidia.__path__))' 2>/dev/null |
               xargs -r -I{} find {} -name nccl.h -path "*include*" 2>/dev/null | head -n1 | xargs -r dirname || true)
nccl=(-DCS_NO_NCCL)
for inc in "$cuda/include" /usr/local/include /usr/include ${pip_nccl_inc:+"$pip_nccl_inc"}; do
    if [ -n "$inc" ] && [ -f "$inc/nccl.h" ]; then
        lib=$(dirname "$inc")/lib
        nccl=(-I"$inc" -L"$lib" -L"$cuda/lib" -L"$cuda/lib64" -Xlinker -rpath -Xlinker "$lib" -lnccl)
        break
    fi
done
[ "${nccl[0]}" = -DCS_NO_NCCL ] && echo "run_calibration: nccl.h not found; collectives skipped" >&2
# A pip NCCL has only libnccl.so.2: give the linker the plain name.
if [ "${nccl[0]}" != -DCS_NO_NCCL ] && [ ! -e "$lib/libnccl.so" ] && [ -e "$lib/libnccl.so.2" ]; then
    ln -sf "$lib/libnccl.so.2" "$tmpd/libnccl.so" && nccl+=(-L"$tmpd")
fi
bin=$tmpd/clustersim-kernels
"$nvcc" -O2 -std=c++17 -gencode 'arch=compute_90,code=[sm_90,compute_90]' "${nccl[@]:0:1}" \
    -o "$bin" "$here/clustersim_kernels.cu" -lcublasLt "${nccl[@]:1}"
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv >"$out/nvidia-smi.txt" 2>&1 || true
"$bin" --out "$out/measurements.csv" $quick 2>"$out/kernels.log"
if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    python3 "$here/sdpa_torch.py" --append "$out/measurements.csv" $quick 2>>"$out/kernels.log" || \
        echo "run_calibration: sdpa_torch.py failed (see kernels.log)" >&2
fi
cs=${CLUSTERSIM:-$here/../build/clustersim}
if [ -x "$cs" ]; then
    "$cs" calibrate "$out/measurements.csv" --out "$out/profile.lua" | tee "$out/calibrate.txt"
    "$cs" validate kernels "$out/measurements.csv" --profile "$out/profile.lua" | tee "$out/validate.txt"
else
    echo "run_calibration: no clustersim at $cs; run calibrate and validate kernels where it is built" >&2
fi
echo "run_calibration: wrote $out/measurements.csv" >&2
