#!/usr/bin/env bash
# Integration tests under MPI (Open MPI's mpirun, oversubscribed so that 4
# ranks run on 2 cores, as root in CI): faults, search and sweep print the
# same bytes on 2 and 4 ranks as in one process; a sweep resumes under MPI;
# a rank killed mid-sweep stops the job with the point it was on.  TAP;
# skipped when mpirun is missing or clustersim was built without MPI.
set -u
source "$(dirname "$0")/lib.sh" "$1"
cd "$tmp" || exit 1

# Open MPI's own start-up allocations (in components it has unloaded by exit,
# so no suppression can name them) are reported by LeakSanitizer: leaks are
# checked by the one-process tests of the same commands; here AddressSanitizer
# and UBSan still check every access.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

mpi() { # NP ARGS...: clustersim under mpirun
    local np=$1
    shift
    mpirun --oversubscribe --allow-run-as-root -np "$np" "$bin" "$@"
}
if ! command -v mpirun >/dev/null; then echo "1..0 # SKIP mpirun not installed"; exit 0; fi
if mpi 2 system >/dev/null 2>"$errf"; then :; elif grep -q "built without MPI" "$errf"; then
    echo "1..0 # SKIP clustersim built without MPI"; exit 0
else echo "# mpirun cannot start:"; sed 's/^/#   /' "$errf" | head -5; echo "1..0 # SKIP mpirun fails here"; exit 0; fi

# same_bytes NAME ARGS...: one process, then 2 and 4 ranks
same_bytes() {
    local name=$1
    shift
    "$bin" "$@" >one.out 2>"$errf"
    for np in 2 4; do
        if mpi "$np" "$@" >"np$np.out" 2>"$errf" && [ -s one.out ] && cmp -s one.out "np$np.out"; then
            ok "$name: $np ranks print the same bytes as one process"
        else not_ok "$name: $np ranks differ from one process"; fi
    done
}
same_bytes "faults --runs 4000" faults --gpus 16384 --days 54 --system dgx-h100 \
    --fault-model llama3 --checkpoint-s 60 --runs 4000 --format csv
same_bytes "search" search --system dgx-a100-80g --gpus 256 --model llama3-8b --gbs 512 --top 3 \
    --format csv

cat >small.lua <<'LUA'
sweep{
  run = "goodput", name = "g.csv",
  base = {days = 10, checkpoint_s = 60, runs = 100, seed = 3},
  product = {
    {{gpus = 1024}, {gpus = 4096}, {gpus = -5}},
    {{failures_per_gpu_day = 0.001}, {failures_per_gpu_day = 0.002, weibull_shape = 0.8}},
  },
}
LUA
"$bin" sweep small.lua >/dev/null 2>&1 && cp out/g.csv one.csv
for np in 2 4; do
    rm -f out/g.csv
    if mpi "$np" sweep small.lua >/dev/null 2>"$errf" && cmp -s out/g.csv one.csv; then
        ok "sweep: $np ranks write the same CSV as one process"
    else not_ok "sweep on $np ranks"; fi
done
{ head -3 one.csv; sed -n 4p one.csv | head -c 25; } >out/g.csv
if mpi 2 sweep --resume small.lua >/dev/null 2>"$errf" && cmp -s out/g.csv one.csv; then
    ok "sweep --resume on 2 ranks: the same CSV"; else not_ok "sweep --resume on 2 ranks"; fi

# a rank killed mid-sweep: the job stops, naming the point that rank had
cat >slow.lua <<'LUA'
local pts = {}
for i = 1, 10 do
  pts[i] = {gpus = 512 * i, days = 30, failures_per_gpu_day = 0.002, checkpoint_s = 60, runs = 8000, seed = i}
end
sweep{run = "goodput", name = "slow.csv", points = pts}
LUA
rm -f out/slow.csv
mpirun --oversubscribe --allow-run-as-root -np 2 "$bin" sweep slow.lua >/dev/null 2>"$tmp/dead.err" &
mp=$!
for _ in $(seq 600); do [ "$(cat out/slow.csv 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.02; done
for c in $(ps -o pid= --ppid "$mp"); do # rank 1 among mpirun's children (not a function's subshell)
    tr '\0' '\n' <"/proc/$c/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && kill -9 "$c"
done
wait "$mp"
rc=$?
cp "$tmp/dead.err" "$errf"
if [ "$rc" -ne 0 ] && grep -Eq "rank 1: sweep point [0-9]+: checkpoint_s=60 days=30" "$errf"; then
    ok "a killed rank stops the job, naming its point"; else echo "# exit $rc"; not_ok "a killed rank"; fi

tap_finish
