#!/usr/bin/env bash
# Integration tests of `clustersim sweep` and sweep{} in one process (threads):
# rows in point order, a failed point in its row, the same bytes on 1 and 2
# threads, resuming after a cut row and after a kill, and the bad input.  TAP.
# The same sweeps over MPI ranks are in test_mpi.sh.
set -u
source "$(dirname "$0")/lib.sh" "$1"
scen_dir="$(cd "$(dirname "$0")/../../scenarios" && pwd)"
cd "$tmp" || exit 1

cat >small.lua <<'LUA'
local r = sweep{
  run = "goodput", name = "g.csv",
  base = {days = 10, checkpoint_s = 60, runs = 100, seed = 3},
  product = {
    {{gpus = 1024}, {gpus = 4096}, {gpus = -5}},
    {{failures_per_gpu_day = 0.001}, {failures_per_gpu_day = 0.002, weibull_shape = 0.8}},
  },
}
print(string.format("points %d failed %d resumed %d %s", r.points, r.failed, r.resumed, r.path))
LUA

sweep() { "$bin" sweep "$@" >"$out" 2>"$errf"; }

if sweep --threads 1 small.lua && grep -q "points 6 failed 2 resumed 0 out/g.csv" "$out"; then
    ok "sweep: 6 points, 2 failed, printed by the script"; else not_ok "sweep: 6 points, 2 failed"; fi
cp out/g.csv one.csv
if head -1 one.csv | grep -q '^point,checkpoint_s,days,failures_per_gpu_day,gpus,runs,seed,weibull_shape,status,error,.*goodput_mean.*,result.runs,'; then
    ok "header: point, the arguments sorted, status, error, the results (result.runs beside runs)"
else not_ok "header: $(head -1 one.csv | cut -c1-120)"; fi
if [ "$(cut -d, -f1,4,5 one.csv | tail -n +2 | tr '\n' ' ')" = "1,0.001,1024 2,0.002,1024 3,0.001,4096 4,0.002,4096 5,0.001,-5 6,0.002,-5 " ]; then
    ok "product: the first list varies slowest"; else not_ok "product order: $(cut -d, -f1,4,5 one.csv | tr '\n' ' ')"; fi
if grep -q "^5,.*,failed,goodput: 'gpus' is -5" one.csv && grep -q "2 points failed" "$errf"; then
    ok "a failed point: its error in its row, the count on stderr, the others run"
else not_ok "a failed point in its row"; fi
sweep --threads 2 small.lua
if cmp -s out/g.csv one.csv; then ok "2 threads: the same bytes as 1"; else not_ok "2 threads differ"; fi
sweep --threads 2 --progress small.lua
if grep -q "6/6 points, 2 failed" "$errf"; then ok "--progress: the bar on stderr"; else not_ok "--progress"; fi

# a cut row (a crash in the middle of a write): dropped, the rest run again
{ head -3 one.csv; sed -n 4p one.csv | head -c 25; } >out/g.csv
if sweep --resume small.lua && grep -q "resumed 2" "$out" && cmp -s out/g.csv one.csv; then
    ok "--resume after a cut row: 2 rows kept, the same CSV"; else not_ok "--resume after a cut row"; fi
if sweep --resume small.lua && grep -q "points 6 failed 0 resumed 6" "$out" && cmp -s out/g.csv one.csv; then
    ok "--resume of a finished sweep runs nothing"; else not_ok "--resume of a finished sweep"; fi

# kill -9 part-way, then resume: the same CSV as the uninterrupted run
cat >slow.lua <<'LUA'
local pts = {}
for i = 1, 10 do
  pts[i] = {gpus = 512 * i, days = 30, failures_per_gpu_day = 0.002, checkpoint_s = 60, runs = 1500, seed = i}
end
sweep{run = "goodput", name = "slow.csv", points = pts}
LUA
sweep --threads 1 slow.lua && cp out/slow.csv slow_full.csv
rm -f out/slow.csv
"$bin" sweep --threads 1 slow.lua >/dev/null 2>&1 &
pid=$!
for _ in $(seq 600); do [ "$(cat out/slow.csv 2>/dev/null | wc -l)" -ge 3 ] && break; sleep 0.02; done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
kept=$(wc -l <out/slow.csv)
if [ "$kept" -ge 3 ] && [ "$kept" -lt 11 ] && sweep --resume --threads 2 slow.lua && cmp -s out/slow.csv slow_full.csv; then
    ok "killed after $((kept - 1)) of 10 points, resumed: the same CSV"
else not_ok "kill and resume ($kept lines kept)"; fi

# the shipped sweep, small: 12 points, 5 runs each
if sweep --out l3 "$scen_dir/sweep_llama3.lua" 5 && grep -q "12 points (0 resumed, 0 failed)" "$out" &&
    [ "$(wc -l <l3/sweep_llama3.csv)" -eq 13 ]; then
    ok "scenarios/sweep_llama3.lua: 12 rows"; else not_ok "scenarios/sweep_llama3.lua"; fi
# goodput falls with the cluster's size (4,096 against 16,384 GPUs, rail, no planned stops)
g() { python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(r[int(sys.argv[2])]["goodput_mean"])' l3/sweep_llama3.csv "$1"; }
if awk -v a="$(g 0)" -v b="$(g 8)" 'BEGIN {exit !(a > b && b > 0.5 && a < 1)}'; then
    ok "sweep_llama3: goodput $(g 0) on 4,096 GPUs, $(g 8) on 16,384"
else not_ok "sweep_llama3: goodput $(g 0) on 4,096 GPUs, $(g 8) on 16,384"; fi

# a search sweep: the best layout's figures, no wall-clock column, a heading with a comma
cat >search.lua <<'LUA'
sweep{run = "search", name = "s.csv", base = {system = "dgx-h100", model = "llama3-8b", gbs = 64, top = 2},
      points = {{gpus = 64}, {gpus = 128}, {gpus = 100000000}}}
LUA
sweep search.lua && cp out/s.csv s1.csv
if head -1 s1.csv | grep -q ',layouts.1.iteration_s,' && ! grep -q closed_form_s s1.csv &&
    head -1 s1.csv | grep -q 'removed.tp divides heads; kv heads' && grep -q '^3,.*,failed,search: ' s1.csv; then
    ok "search points: layouts.1.* columns, no wall clock, commas out of headings"
else not_ok "search points: $(head -1 s1.csv | cut -c1-150)"; fi
head -2 s1.csv >out/s.csv
if sweep --resume search.lua && cmp -s out/s.csv s1.csv; then ok "search sweep resumed: the same CSV"
else not_ok "search sweep resumed"; fi

# sweep{} from `clustersim run` too
if "$bin" run small.lua >"$out" 2>"$errf" && cmp -s out/g.csv one.csv; then
    ok "sweep{} in clustersim run"; else not_ok "sweep{} in clustersim run"; fi

# bad input: exit 2, one message naming the cause
echo 'local x = 1' >none.lua
expect_bad "a spec without sweep{}" "none.lua ran no sweep" sweep none.lua
echo 'sweep{run = "goodput", points = {{gpus = 8}}, product = {{{days = 1}}}}' >both.lua
expect_bad "points and product both" "give points = .* or product = .*, one of them" sweep both.lua
echo 'sweep{run = "fly", points = {{gpus = 8}}}' >face.lua
expect_bad "an unknown face" "run = the face each point calls: estimate, simulate" sweep face.lua
echo 'sweep{run = "goodput", name = "../x.csv", points = {{gpus = 8}}}' >name.lua
expect_bad "a name with a folder" "name '../x.csv': give a plain file name" sweep name.lua
echo 'sweep{run = "goodput", points = {{gpus = print}}}' >fn.lua
expect_bad "a function as an argument" "numbers, strings, booleans and tables, not function" sweep fn.lua
echo 'sweep{run = "goodput", product = {{{gpus = 8}}, {}}}' >empty.lua
expect_bad "an empty list in a product" "product\\[2\\] must be a non-empty list of tables" sweep empty.lua
printf 'a,b\n1,2\n' >out/g.csv
expect_bad "--resume over another file" "g.csv:1: the header is not this sweep's" sweep --resume small.lua
if [ "$(cat out/g.csv)" = "$(printf 'a,b\n1,2')" ]; then ok "a refused resume leaves the file alone"
else not_ok "a refused resume changed the file"; fi
{ head -2 one.csv; sed -n 4p one.csv; } >out/g.csv
expect_bad "--resume over rows out of order" "g.csv:3: expected the row of point 2" sweep --resume small.lua
{ cat one.csv; sed -n 2p one.csv | sed "s/^1,/7,/"; } >out/g.csv
expect_bad "--resume over more rows than points" "has 7 rows; the sweep has 6 points" sweep --resume small.lua
expect_bad "sweep without a spec" "name the sweep" sweep
expect_bad "--threads 0" "--threads" sweep --threads 0 small.lua

tap_finish
