#!/usr/bin/env bash
# run_calibration.sh [OUTDIR] [--quick]: the whole calibration on a GPU machine in
# one command.  Builds clustersim-kernels with nvcc alone (no meson needed),
# runs it on every visible GPU family by family within BUDGET_S seconds
# (default 480), adds PyTorch's attention where torch imports, then, if a
# built clustersim is at hand (build/ or $CLUSTERSIM), fits and validates.  Writes into OUTDIR (default: $OUT, else ./calibration-out):
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
bin=${KERNELS_BIN:-$tmpd/clustersim-kernels} # KERNELS_BIN: a program built already (tests use a stand-in)
flags=(-O2 -std=c++17 -gencode 'arch=compute_90,code=[sm_90,compute_90]'
       -Xlinker -rpath -Xlinker "$cuda/lib64" -Xlinker -rpath -Xlinker "$cuda/lib")
if [ -n "${KERNELS_BIN:-}" ]; then :
elif ! "$nvcc" "${flags[@]}" "${nccl[@]:0:1}" -o "$bin" "$here/clustersim_kernels.cu" -lcublasLt "${nccl[@]:1}" ||
   ! "$bin" --help >/dev/null 2>&1; then
    echo "run_calibration: the build with NCCL failed or does not load; building without the collectives" >&2
    "$nvcc" "${flags[@]}" -DCS_NO_NCCL -o "$bin" "$here/clustersim_kernels.cu" -lcublasLt
fi
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv >"$out/nvidia-smi.txt" 2>&1 || true

# One process per family, each within what is left of the budget, so that a
# crash, a fault or a hang costs that family's remaining rows only; rows are
# kept as they were written (FAMILY.csv, or FAMILY.csv.partial when it
# stopped).  PyTorch's attention (the rows estimates take attention from)
# runs right after the GEMMs.
csv=$out/measurements.csv
rm -f "$csv" "$out/kernels.log"
budget_s=${BUDGET_S:-480}
start_s=$SECONDS
merge() { # merge FILE: the first file gives the header, the others their rows
    if [ -f "$csv" ]; then grep -v -e '^#' -e '^kernel,' "$1" >>"$csv" || true; else cat "$1" >"$csv"; fi
    rm -f "$1"
}
run_family() {
    local fam=$1 left=$((budget_s - (SECONDS - start_s))) rc=0
    if [ "$left" -le 15 ]; then echo "run_calibration: $fam: no time left in the ${budget_s} s budget" >&2; return; fi
    timeout -k 5 "$left" "$bin" --out "$out/$fam.csv" --only "$fam" $quick 2>>"$out/kernels.log" || rc=$?
    local part=$out/$fam.csv
    [ -f "$part" ] || part=$part.partial
    local rows=0
    if [ -f "$part" ]; then rows=$(grep -cv -e '^#' -e '^kernel,' "$part" || true); merge "$part"; fi
    echo "run_calibration: $fam: $rows rows, exit status $rc, $((SECONDS - start_s)) s so far" >&2
}
sdpa() {
    if [ ! -f "$csv" ] || ! python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
        echo "run_calibration: sdpa_torch: skipped (no measurements file yet, or no PyTorch with CUDA)" >&2
        return
    fi
    timeout -k 5 150 python3 "$here/sdpa_torch.py" --append "$csv" $quick 2>>"$out/kernels.log" ||
        echo "run_calibration: sdpa_torch.py stopped early (see kernels.log); its rows so far are kept" >&2
}
run_family gemm
sdpa
for fam in membound copy attention nccl; do run_family "$fam"; done
if [ ! -f "$csv" ]; then
    tail -n 3 "$out/kernels.log" >&2
    echo "run_calibration: no measurements (see $out/kernels.log)" >&2
    exit 1
fi
cs=${CLUSTERSIM:-$here/../build/clustersim}
if [ -x "$cs" ]; then
    "$cs" calibrate "$out/measurements.csv" --out "$out/profile.lua" | tee "$out/calibrate.txt"
    "$cs" validate kernels "$out/measurements.csv" --profile "$out/profile.lua" | tee "$out/validate.txt"
else
    echo "run_calibration: no clustersim at $cs; run calibrate and validate kernels where it is built" >&2
fi
echo "run_calibration: wrote $out/measurements.csv" >&2
