#!/usr/bin/env bash
# A stand-in for clustersim-kernels (run_calibration.sh's KERNELS_BIN) that
# writes two rows per family; 'copy' writes one row to OUT.partial and then
# dies as a crash would, 'nccl' hangs until run_calibration's timeout.
out= fam=
while [ $# -gt 0 ]; do
    case $1 in --out) out=$2; shift ;; --only) fam=$2 ;; esac
    shift
done
[ -n "$out" ] || exit 0 # --help
{
    echo "# device_name: NVIDIA H200"
    echo "kernel,dtype,shape,m,n,k,batch,ranks,bytes,flops,time_median_us,time_min_us,time_max_us,iterations"
} >"$out.partial"
row() { echo "$fam-$1,bf16,x,1,1,1,1,0,1,1,1,1,1,1" >>"$out.partial"; }
row 1
case $fam in
    copy) kill -SEGV $$ ;;
    nccl) sleep 60 ;;
esac
row 2
mv "$out.partial" "$out"
