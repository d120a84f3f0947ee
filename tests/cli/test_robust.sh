#!/usr/bin/env bash
# Robustness: hostile input through the command line and Lua.  Each case is
# one that crashed, hung, gave a wrong answer or was wrongly accepted
# (issue 23); every command here must answer within 10 s (exit 2 and one
# clear line, or a right answer).
source "$(dirname "$0")/lib.sh" "$1"

# expect_bad_quick NAME PATTERN ARGS...: expect_bad, within quick_s seconds (10).
quick_s=10
expect_bad_quick() {
    local name=$1 pattern=$2
    shift 2
    timeout "$quick_s" "$bin" "$@" >"$out" 2>"$errf"
    local rc=$?
    if [ "$rc" -eq 2 ] && [ ! -s "$out" ] && grep -Eq -- "$pattern" "$errf"; then ok "$name"
    else echo "# exit status $rc"; not_ok "$name"; fi
}

# goodput_of ARGS...: the mean goodput faults prints.
goodput_of() {
    "$bin" "$@" 2>"$errf" | awk '/^goodput/ {print $2; exit}'
}

# ---- collective: work bounded for every accepted --nodes ----
expect_bad_quick "collective --nodes +27155 (217,240 GPUs) refused with the limit, no 54 s sweep" \
    "the group has 217240 GPUs \\(27155 x dgx-h100\\); a sweep simulates at most 65536: use --gpus 65536" \
    collective --nodes +27155
expect_bad_quick "collective --gpus 70000 of 80,000: the limit named for --gpus" \
    "--gpus 70000: a sweep simulates at most 65536 GPUs" collective --nodes 10000 --gpus 70000
expect_bad_quick "collective --op alltoall over 4,104 GPUs refused before routing its pairs" \
    "alltoall over 4104 GPUs routes 16838712 pairs; a plan routes at most 16777216" \
    collective --nodes 513 --op alltoall
timeout "$quick_s" "$bin" collective --nodes 65536 --gpus 16 --max 1K --format csv >"$out" 2>"$errf" &&
    [ "$(wc -l <"$out")" -eq 2 ] && ok "collective: a 16-GPU group of a 65,536-node system runs" ||
    not_ok "collective --nodes 65536 --gpus 16: $(head -c 300 "$errf")"

# ---- stragglers: GPU-iterations bounded (distinct iterations x GPUs) ----
expect_bad_quick "stragglers: 100,000 random iterations on 16 GPUs refused with the limit, no 94 s" \
    "1600016 GPU-iterations to simulate; the limit is 1048576: at most 65535 iterations on this job" \
    stragglers --system dgx-h100 --gpus 16 --model llama2-7b --tp 8 --mbs 1 --gbs 16 \
    --iterations 100000 --slow-prob 0.5 --slow-factor 2
timeout "$quick_s" "$bin" stragglers --system dgx-h100 --gpus 16 --model llama2-7b --tp 8 --mbs 1 \
    --gbs 16 --iterations 100000 --slow gpu:1:2:5-6 --format csv >"$out" 2>"$errf" &&
    [ "$(wc -l <"$out")" -eq 100001 ] && ok "stragglers: 100,000 iterations of one given straggler run (4 simulations)" ||
    not_ok "stragglers --iterations 100000 --slow gpu:1:2:5-6: $(head -c 300 "$errf")"

# ---- sweep: the points are bounded before they are built ----
cat >"$tmp/sweep_big.lua" <<'LUA'
local a, b = {}, {}
for i = 1, 1000 do a[i] = {gpus = i} end
for i = 1, 10000 do b[i] = {days = i} end
sweep{run = "goodput", name = "g.csv", base = {failures_per_gpu_day = 0.01, checkpoint_s = 60}, product = {a, b}}
LUA
expect_bad_quick "sweep: a product of 10 million points refused with the limit (was 2.5 GB, no bar, over a minute)" \
    "sweep_big.lua:4: sweep: product\[1\] to product\[2\] already make 10000000 points; the limit is 1000000" \
    sweep --out "$tmp/o" "$tmp/sweep_big.lua"
cat >"$tmp/sweep_list.lua" <<'LUA'
local p = {}
for i = 1, 1000001 do p[i] = {gpus = 8} end
sweep{run = "goodput", name = "g.csv", base = {days = 1, failures_per_gpu_day = 0.01, checkpoint_s = 60}, points = p}
LUA
expect_bad_quick "sweep: a list of 1,000,001 points refused with the limit" \
    "sweep_list.lua:3: sweep: points has 1000001 points; the limit is 1000000" \
    sweep --out "$tmp/o" "$tmp/sweep_list.lua"

# ---- place: auto's evaluations and m-SCT's LP bounded in work ----
gnmt=$(dirname "$0")/../../../shared/placement/gnmt_v2_b128
expect_bad_quick "place --evals 100000 on GNMT refused with the evals that fit (was 17 s)" \
    "are 664400000 operators and edges to simulate; the limit is 33554432: at most 5050 evals on this graph" \
    place --graph "$gnmt" --devices 64 --mem-gib 80 --evals 100000
mkdir -p "$tmp/chain"
awk -v dir="$tmp/chain" 'BEGIN { # 50,000 operators, each after the one before and one of the 50 before
    n = dir "/nodes.csv"; e = dir "/edges.csv"
    print "id,name,compute_us,perm_mem_bytes,temp_mem_bytes,output_mem_bytes,colocation_group" >n
    print "src,dst,bytes" >e
    for (i = 0; i < 50000; i++) {
        printf "%d,op%d,%d,1000,100,1000,\n", i, i, 1 + (i * 7919) % 100 >n
        if (i > 0) printf "%d,%d,1000\n", i - 1, i >e
        j = i - 2 - (i * 37) % 49
        if (j >= 0) printf "%d,%d,500\n", j, i >e
    }
    print "group_id" >(dir "/groups.csv") }'
expect_bad_quick "place --algo sct on 50,000 operators refused before the LP (was over a minute)" \
    "m-SCT: the LP relaxation of 49975 fused nodes and 99945 edges is beyond its limit of 65536" \
    place --graph "$tmp/chain" --devices 64 --mem-gib 1 --algo sct
expect_bad_quick "place auto on 50,000 operators: the default 1000 evals refused with those that fit" \
    "at most 223 evals on this graph" place --graph "$tmp/chain" --devices 64 --mem-gib 1

# ---- estimate, stragglers, search: the job's GPUs bounded where the work grows with them ----
expect_bad_quick "estimate --ranks all on 524,288 GPUs refused (was over a minute and 9.5 GB)" \
    "every rank of 524288 GPUs to simulate; the limit is 65536: fewer GPUs" \
    estimate --system dgx-h100 --nodes 65536 --model llama2-7b --tp 1 --mbs 1 --gbs 524288 --ranks all
expect_bad_quick "stragglers on 131,072 GPUs refused by the same bound" \
    "every rank of 131072 GPUs to simulate; the limit is 65536" \
    stragglers --system dgx-h100 --nodes 16384 --model llama2-7b --tp 8 --mbs 1 --gbs 16384 --iterations 1
# the same job with many random iterations: the GPU bound first, not "at most 7
# iterations on this job" (which the next run would then refuse by the GPUs)
expect_bad_quick "stragglers on 131,072 GPUs, 1,000 random iterations: the GPU bound, not a count that cannot run" \
    "every rank of 131072 GPUs to simulate; the limit is 65536" \
    stragglers --system dgx-h100 --nodes 16384 --model llama2-7b --tp 8 --mbs 1 --gbs 16384 \
    --iterations 1000 --slow-prob 0.1 --slow-factor 2
# given ranges: each makes up to two distinct iterations, so 127 iterations are 63 ranges
slow64=()
for i in $(seq 1 64); do slow64+=(--slow "gpu:$i:2:$((2 * i))-$((2 * i))"); done
expect_bad_quick "stragglers: 64 ranges on 8,192 GPUs name the ranges that fit (63), not the iterations (127)" \
    "at most 127 iterations or 63 straggler ranges on this job" \
    stragglers --system dgx-h100 --nodes 1024 --model llama2-7b --tp 8 --mbs 1 --gbs 8192 \
    --iterations 200 "${slow64[@]}"
expect_bad_quick "estimate on 1,048,576 GPUs (dgx2-v100, 65,536 nodes) refused (was over a minute)" \
    "the job has 1048576 GPUs \(tp 16 x cp 1 x pp 1 x dp 65536\); the cost model plans the collectives of at most 65536" \
    estimate --system dgx2-v100 --nodes 65536 --model llama2-7b --tp 16 --mbs 1 --gbs 65536
expect_bad_quick "search on 524,288 GPUs refused by the same bound (was over a minute)" \
    "the job has 524288 GPUs .*at most 65536" search --system dgx-h100 --nodes 65536 --model llama2-7b --gbs 524288

expect_bad_quick "search --top 10000 on 1,024 GPUs refused before the search (ran for hours)" \
    "top 10000 finalists to simulate on 1024 GPUs are 10240000 GPU-simulations; the limit is 1310720: top 1280 or less" \
    search --system dgx-h100 --gpus 1024 --model llama2-7b --gbs 1024 --top 10000
# bench search ran both closed-form passes (3.6 s at 1,024 GPUs) before the same
# refusal, its header already on stdout (expect_bad_quick wants stdout empty)
expect_bad_quick "bench search --top 10000 refused before either pass" \
    "top 10000 finalists to simulate on 1024 GPUs .*top 1280 or less" bench search --top 10000
# a timeline or Chakra trace keeps every task: 4,194,304 units every rank took 73 s, 8.7 GB and wrote 6.3 GB
expect_bad_quick "estimate --ranks all --out of 4,194,304 units refused before any work" \
    "a timeline of 4194304 units of work .*one holds at most 262144: a smaller gbs or a larger mbs, the folded simulation, or none" \
    estimate --system dgx-h100 --gpus 8192 --model llama2-7b --tp 8 --pp 4 --mbs 1 --gbs 131072 --ranks all --out "$tmp/tl"
[ ! -e "$tmp/tl" ] && ok "no timeline folder made for the refused one" || not_ok "a timeline folder was made"
expect_bad_quick "estimate --chakra-out of 4,194,304 units refused before any work" \
    "a Chakra trace of 4194304 units of work .*one holds at most 262144" \
    estimate --system dgx-h100 --gpus 8192 --model llama2-7b --tp 8 --pp 4 --mbs 1 --gbs 131072 --chakra-out "$tmp/ch"

# ---- faults: a wrong answer, hangs, ranges ----
f=(faults --gpus 16384 --checkpoint-s 60)
big=(faults --gpus 16384 --days 30 --system dgx-h100 --checkpoint-s 60 --interval-s 1800 --spares 0
     --repair-h 1e6 --runs 20)
g1=$(goodput_of "${big[@]}" --rate gpu=7.77e-6)
g2=$(goodput_of "${big[@]}" --rate gpu=7.77e-6 --rate software=4.75e-5)
if awk -v a="$g1" -v b="$g2" 'BEGIN {exit !(a != "" && b != "" && b <= a + 0.01)}'; then
    ok "faults: adding software failures does not raise goodput ($g1 -> $g2)"
else not_ok "faults: adding software failures raised goodput ($g1 -> $g2)"; fi
printf "time_h,component,kind\n1,n1,gpu\n" >"$tmp/one.csv"
printf "time_h,component,kind\n1,n1,gpu\n2,r3,software\n" >"$tmp/two.csv"
lg=(faults --gpus 16384 --days 2 --system dgx-h100 --checkpoint-s 60 --interval-s 1800 --spares 0
    --repair-h 1e6)
g1=$(goodput_of "${lg[@]}" --log "$tmp/one.csv")
g2=$(goodput_of "${lg[@]}" --log "$tmp/two.csv")
if awk -v a="$g1" -v b="$g2" 'BEGIN {exit !(a != "" && b != "" && b <= a)}'; then
    ok "faults --log: a software failure during a repair does not raise goodput ($g1 -> $g2)"
else not_ok "faults --log: a software failure raised goodput ($g1 -> $g2)"; fi
expect_bad_quick "faults --days 1e9: refused with the limit" "at most 1e\+12 s" \
    "${f[@]}" --days 1e9 --failures-per-gpu-day 0.001
expect_bad_quick "faults: 1e6 failures per GPU-day refused with the limit" "the limit is 3e\+07" \
    "${f[@]}" --days 1 --failures-per-gpu-day 1e6
expect_bad_quick "faults: 100 failures per GPU-day refused, not 10 s of work" "the limit is 3e\+07" \
    "${f[@]}" --days 1 --failures-per-gpu-day 100
expect_bad_quick "faults: 1,000,000 runs of a job that never fails refused (was 10 s): a run costs too" \
    "and 100 for the run itself, x 1003400 runs\); the limit is 3e\+07" \
    faults --gpus 8 --days 1 --failures-per-gpu-day 1e-12 --checkpoint-s 60 --runs 1000000
expect_bad_quick "faults --weibull-shape 0.001: refused, no GSL abort" "between 0.1 and 100" \
    "${f[@]}" --days 30 --failures-per-gpu-day 0.001 --weibull-shape 0.001
expect_bad_quick "faults --weibull-shape 0.008: refused, no hang" "between 0.1 and 100" \
    "${f[@]}" --days 30 --failures-per-gpu-day 0.001 --weibull-shape 0.008
expect_bad_quick "faults --interval-s 1e-9 refused as in Lua" "between 0.001 s and" \
    "${f[@]}" --days 30 --failures-per-gpu-day 0.001 --interval-s 1e-9
expect_bad_quick "faults --repair-h 1e12 refused as in Lua" "at most 1e\+06 h" \
    "${f[@]}" --days 30 --failures-per-gpu-day 0.001 --repair-h 1e12
expect_bad_quick "faults --planned-per-day 1e9 refused as in Lua" "at most 1e\+06 planned" \
    "${f[@]}" --days 30 --failures-per-gpu-day 0.001 --planned-per-day 1e9
expect_bad_quick "faults --svg of 1e8 cycles refused" "picture of about" \
    "${f[@]}" --days 1000 --failures-per-gpu-day 0.0001 --interval-s 1 --svg "$tmp/x.svg"

# ---- crashes ----
# validate's tables are input too: a zero or a huge count in a row is refused
# with its line and column (tp 0 divided by zero; 1e9 overflowed ints in the
# studies and in the cost model), and a model beyond the size limits is
# refused by the one check every face shares (model_validate)
vdir=$(dirname "$0")/../../validate
first_row() { # FILE COLUMN VALUE: the file with the first data row's COLUMN set to VALUE
    awk -F, -v c="$2" -v v="$3" 'BEGIN {OFS = ","} /^#/ || !hdr {if (!/^#/) hdr = 1; print; next}
        !done {$c = v; done = 1} {print}' "$1"
}
bad_row() { # NAME PATTERN STUDY FILE COLUMN VALUE
    first_row "$vdir/$4" "$5" "$6" >"$tmp/bad_row.csv"
    expect_bad_quick "$1" "$2" validate "$3" --reference "$tmp/bad_row.csv" --mode analytic
}
whole="is not a whole number from 1 to 16777216"
bad_row "validate moe: tp 0 in a row refused (was a division by zero)" \
    "line [0-9]+, column 6: '0' $whole" moe moe_published.csv 6 0
bad_row "validate moe: vpp 1e9 refused (overflowed the stage split)" \
    "column 8: '1e9' $whole" moe moe_published.csv 8 1e9
bad_row "validate llama3: tp 1e9 refused (overflowed tp x cp x pp)" \
    "column 2: '1e9' $whole" llama3 llama3_405b_table4.csv 2 1e9
bad_row "validate offload: gpus 3.9e84 refused (fuzz_validate's finding: a float-to-int overflow)" \
    "column 3: '3.9e84' $whole" offload offload_papers.csv 3 3.9e84
bad_row "validate zb: hidden 2000000 refused by the model's own limits" \
    "hidden 2000000 must be a whole number from 1 to 1048576" zb zb_published.csv 4 2000000
bad_row "validate megatron2019: tp 1e300 refused before a cast" \
    "1e\+300 model-parallel GPUs; a DGX-2H has 16" megatron2019 megatron2019_v100_model_parallel.csv 2 1e300
bad_row "validate megatron2021: micro_batch nan refused" \
    "column 12: 'nan' $whole" megatron2021 megatron2021_weak_scaling.csv 12 nan
bad_row "validate moe: overlap nan refused (was cast to int)" \
    "column 15: 'nan' is not a whole number from 0 to 1" moe moe_published.csv 15 nan
bad_row "validate moe: 66 GPUs on tp 1 x pp 4 refused (was run as 64)" \
    "66 GPUs is not a multiple of tp 1 x pp 4" moe moe_published.csv 3 66
bad_row "validate llama3: published 0 refused (an error of inf)" \
    "published 0 must be a positive number" llama3 llama3_405b_table4.csv 9 0
bad_row "validate zb: published nan refused (a mean of nan)" \
    "published nan must be a positive number" zb zb_published.csv 13 nan
# the largest model the flags accept, data parallel: its gradient buckets
# stay countable (2^31 of them overflowed an int; commcost.c)
if timeout 60 "$bin" estimate --system dgx-a100-80g --gpus 8 --layers 100000 --hidden 1048576 \
    --heads 16 --tp 1 --pp 1 --dp 8 --mbs 1 --gbs 8 --mode analytic --format csv >"$out" 2>"$errf" &&
    awk -F, 'NR == 2 {exit !($17 > 8e7 && $17 < 1e8)}' "$out"
then ok "estimate: the largest model's gradient buckets bounded, a finite iteration"
else not_ok "estimate: the largest model's gradient buckets bounded, a finite iteration"; fi
syn=$tmp/syn.csv
"$bin" calibrate --synthetic "$syn" --ranks 8 --seed 3 >/dev/null 2>&1
{ head -5 "$syn"; echo "gemm,bf16"; } >"$tmp/short.csv"
expect_bad_quick "calibrate: a row shorter than the header, no use-after-free" \
    "short.csv: line 6: 2 fields" calibrate "$tmp/short.csv" --out "$tmp/x.lua"
expect_bad_quick "validate kernels: a short row" "short.csv: line 6: 2 fields" \
    validate kernels "$tmp/short.csv" --builtin
awk -F, 'BEGIN {OFS = ","} /^allreduce,/ && !done {$8 = "4294967297"; done = 1} {print}' "$syn" >"$tmp/ranks.csv"
expect_bad_quick "calibrate: ranks 4294967297 refused, no float-to-int overflow" \
    "column 'ranks': 4294967297 is not a whole number up to" calibrate "$tmp/ranks.csv" --out "$tmp/x.lua"
[ ! -e "$tmp/x.lua" ] && ok "no profile written for bad ranks" || not_ok "a profile was written"
mkdir -p "$tmp/g"
printf 'id,name,compute_us,perm_mem_bytes,temp_mem_bytes,output_mem_bytes,colocation_group\n0,a,1,0,0,8,0\n1,b,1,0,0,8,0\n' >"$tmp/g/nodes.csv"
printf 'src,dst,bytes\n0,1,8\n' >"$tmp/g/edges.csv"
printf 'group_id\n2147483647\n' >"$tmp/g/groups.csv"
expect_bad_quick "place: group_id 2147483647, no signed overflow" "groups.csv: line 2: group_id 2147483647 is above" \
    place --graph "$tmp/g" --devices 2 --mem-gib 1
printf 'group_id\n2000000000\n' >"$tmp/g/groups.csv"
expect_bad_quick "place: group_id 2e9 refused, not 2 GB allocated" "group_id 2000000000 is above" \
    place --graph "$tmp/g" --devices 2 --mem-gib 1
# fuzz_opgraph's finding in CI (seventh session): num_tensors 1888888024 overflowed the
# tensor slots' growth (opgraph.c:54, signed); an edge carries at most 256 tensors
printf 'group_id\n0\n' >"$tmp/g/groups.csv"
printf 'src,dst,bytes,num_tensors\n0,1,8,1888888024\n' >"$tmp/g/edges.csv"
expect_bad_quick "place: num_tensors 1888888024 refused, no signed overflow" \
    "edges.csv: line 2: column 'num_tensors' is 1888888024; an edge carries at most 256 tensors" \
    place --graph "$tmp/g" --devices 2 --mem-gib 1
printf 'src,dst,bytes\n0,1,8\n' >"$tmp/g/edges.csv"
expect_bad_quick "estimate --gbs 268435456: refused with the limit, no OOM abort" "the limit is 4194304" \
    estimate --system dgx-h100 --gpus 8 --model llama2-7b --tp 8 --mbs 1 --gbs 268435456
# the closed form builds every rank's order too: 2^28 microbatches on 16 stages of a
# split backward asked for 206 GB and aborted (exit 134) before the simulation's bound
expect_bad_quick "estimate --mode analytic, zb-h1 on 16 stages, gbs 268435440: refused, no abort" \
    "schedule has 4294967040 units of work .*the limit is 4194304" \
    estimate --system dgx-a100-80g --gpus 16 --model llama2-7b --tp 1 --pp 16 --mbs 1 \
    --gbs 268435440 --schedule zb-h1 --mode analytic
expect_bad_quick "search --gbs 268435455 on 16 GPUs: every layout over the units bound, no abort" \
    "other layout rules: 189 removed" \
    search --system dgx-a100-80g --gpus 16 --model llama2-7b --gbs 268435455

"$bin" calibrate "$syn" --out "$tmp/prof.lua" >/dev/null 2>&1
sed '0,/tile_m = [0-9]*/s//tile_m = 1.285e15/' "$tmp/prof.lua" >"$tmp/bigtile.lua"
expect_bad_quick "device profile: tile_m 1.285e15 refused, no float-to-int overflow (fuzzing)" \
    "tile_m': must be a whole number up to 2\^30" \
    estimate --system dgx-h100 --gpus 8 --model llama2-7b --tp 8 --mbs 1 --gbs 8 --device-profile "$tmp/bigtile.lua"

# ---- wrongly accepted ----
est=(estimate --system dgx-h100 --model llama2-7b --tp 8 --mbs 1 --gbs 8)
expect_bad_quick "a flag given twice is refused" "'--gpus' given twice" "${est[@]}" --gpus 8 --gpus 16
expect_bad_quick "search --fix tp=8,tp=4 refused" "knob 'tp' given twice" \
    search --system dgx-a100-80g --gpus 64 --model llama2-7b --gbs 64 --fix tp=8,tp=4
expect_bad_quick "search --fix with an empty item" "empty item" \
    search --system dgx-a100-80g --gpus 64 --model llama2-7b --gbs 64 --fix tp=8,,pp=2
expect_bad_quick "place --mem-gib 1,,2 refused" "--mem-gib: '1,,2' has an empty value" \
    place --graph "$tmp/g" --devices 3 --mem-gib 1,,2
expect_bad_quick "place --mem-gib 1e300 refused" "more than 1e9 GiB" \
    place --graph "$tmp/g" --devices 2 --mem-gib 1e300
expect_bad_quick "faults --runs with --log refused" "--runs and --weibull-shape draw failures" \
    "${lg[@]}" --log "$tmp/one.csv" --runs 5
printf 'time_s,component,kind\n0x10,n1,gpu\n' >"$tmp/hex.csv"
expect_bad_quick "faults --log: 0x10 is not 16 s" "hex.csv: line 2: time '0x10' is not a number" \
    "${lg[@]}" --log "$tmp/hex.csv"
printf 'time_s,component,kind,time_h\n10,n1,gpu,1\n' >"$tmp/both.csv"
expect_bad_quick "faults --log: time_s and time_h both refused" "both.csv: line 1: columns 'time_s' and 'time_h' both" \
    "${lg[@]}" --log "$tmp/both.csv"
printf 'time_h,component,kind\n1e306,n1,gpu\n' >"$tmp/far.csv"
expect_bad_quick "faults --log: time_h 1e306 refused with file and line" "far.csv: line 2: time '1e306'" \
    "${lg[@]}" --log "$tmp/far.csv"
st=(stragglers --system dgx-h100 --gpus 16 --model llama2-7b --tp 8 --mbs 1 --gbs 16)
expect_bad_quick "stragglers --slow gpu:1:inf refused" "factor must be a number >= 1 and <= 1e\+06" \
    "${st[@]}" --slow gpu:1:inf
expect_bad_quick "stragglers --slow-factor inf refused" "factor from 1 to 1e\+06|<= 1e\+06" \
    "${st[@]}" --slow-prob 0.1 --slow-factor 1e300

# ---- the same limits from Lua ----
# run_case NAME PATTERN FILE TEXT RUN_ARGS...: TEXT (printf escapes) as $tmp/FILE, then
# `run RUN_ARGS --out $tmp/o $tmp/FILE` must stop with exit 2 and PATTERN
run_case() {
    local name=$1 pattern=$2 file=$3
    printf "$4" >"$tmp/$file"
    shift 4
    expect_bad_quick "$name" "$pattern" run "$@" --out "$tmp/o" "$tmp/$file"
}
lua_case() { # NAME PATTERN LUA: the scenario must stop with exit 2, file:line and PATTERN
    printf '%s\n' "$3" >"$tmp/case.lua"
    expect_bad_quick "$1" "case.lua:1: .*$2" run --out "$tmp/o" "$tmp/case.lua"
}
lua_case "lua collective{} over 160,000 GPUs refused with the limit, no minutes of work" \
    "the group has 160000 GPUs; a collective takes at most 65536" \
    'return collective{system = "dgx-h100", nodes = 20000, size = "1K"}'
lua_case "lua collective{} all-to-all over 4,104 GPUs refused before routing 16.8M pairs" \
    "routes 16838712 pairs; a plan routes at most 16777216 \\(a group of 4096 GPUs\\)" \
    'return collective{system = "dgx-h100", nodes = 513, op = "alltoall", size = "1K"}'
lua_case "lua stragglers{} with 100,000 random iterations on 16 GPUs refused with the limit" \
    "1600016 GPU-iterations to simulate; the limit is 1048576" \
    'return stragglers{system = "dgx-h100", gpus = 16, model = "llama2-7b", tp = 8, mbs = 1, gbs = 16, iterations = 100000, slow_prob = 0.5, slow_factor = 2}'
lua_case "lua estimate{ranks = \"all\"} on 131,072 GPUs refused with the limit" \
    "every rank of 131072 GPUs to simulate; the limit is 65536" \
    'return estimate{system = "dgx-h100", nodes = 16384, model = "llama2-7b", tp = 8, mbs = 1, gbs = 16384, ranks = "all"}'
lua_case "lua simulate{} (a timeline) of 4,194,304 folded units refused with the limit" \
    "a timeline of 4194304 units of work \\(microbatches 524288 x stages 8 x chunks 1\\); one holds at most 262144" \
    'return simulate{system = "dgx-h100", gpus = 8, model = "llama2-7b", tp = 1, pp = 8, mbs = 1, gbs = 524288, check_memory = false}'
lua_case "lua search{top = 10000} on 1,024 GPUs refused by the same bound" \
    "top 10000 finalists to simulate on 1024 GPUs .*top 1280 or less" \
    'return search{system = "dgx-h100", gpus = 1024, model = "llama2-7b", gbs = 1024, top = 10000}'
lua_case "lua goodput weibull_shape=0.001 refused, no GSL abort" "between 0.1 and 100" \
    'goodput{gpus=16384, days=30, failures_per_gpu_day=0.001, checkpoint_s=60, weibull_shape=0.001}'
lua_case "lua goodput{runs = 1000000} of a job that never fails refused by the same bound" \
    "for the run itself, x 1003400 runs\); the limit is 3e\+07" \
    'goodput{gpus=8, days=1, failures_per_gpu_day=1e-12, checkpoint_s=60, runs=1000000}'
lua_case "lua goodput days=1e9 refused" "at most 1e\+12 s" \
    'goodput{gpus=16384, days=1e9, failures_per_gpu_day=0.001, checkpoint_s=60}'

lua_case "lua estimate: zb-h1 on 16 stages, gbs 268435440: the schedule bound, no abort" \
    "schedule has 4294967040 units of work .*the limit is 4194304" \
    'estimate{system="dgx-a100-80g", gpus=16, model="llama2-7b", tp=1, pp=16, mbs=1, gbs=268435440, schedule="zb-h1", mode="analytic"}'

lua_case "lua place{mem_gib=-1}: the value, not a format error" "'mem_gib' -1" \
    'place{model="llama2-7b", devices=2, mem_gib=-1}'
lua_case "lua: report.chart with +-1e308 refused, no nan in the SVG" "within \+-1e150" \
    'report.chart("c.svg", {series = {{name = "s", x = {1, 2}, y = {-1e308, 1e308}}}})'
lua_case "lua: a report name with a newline refused" "control character" \
    'report.csv("a\nb.csv", {{x = 1}})'
lua_case "lua: a report name with a NUL refused" "NUL" \
    'report.csv("a\0b.csv", {{x = 1}})'

# ---- the sandbox: instructions, memory, reads ----
quick_s=60 # the default limit: about 1 s of CPU, 5 under the sanitizers, more on a busy machine
lua_case "lua: while true do end stops at the default instruction limit" "more than 200000000 Lua instructions" \
    'while true do end'
quick_s=10
printf 'local function f(n) return f(n + 1) end\nreturn f(1)\n' >"$tmp/tail.lua"
expect_bad_quick "lua: endless tail calls stop at a raised-down limit, with file:line" \
    "tail.lua:1: more than 1000000 Lua instructions.*--max-instructions" run --max-instructions 1000000 --out "$tmp/o" "$tmp/tail.lua"
run_case "lua: a growing table stops at the memory limit, with file:line" \
    "grow.lua:2: the scenario needs more than 64 MiB of Lua memory; raise the limit with --max-memory-mib" \
    grow.lua 'local t = {}\nfor i = 1, 1e12 do t[i] = i end\n' --max-memory-mib 64
printf 'local t = {}\nfor i = 1, 1e5 do t[i] = i end\nprint(#t)\n' >"$tmp/fits.lua"
expect_ok "lua: within the limits a scenario runs" "^100000$" run --max-memory-mib 64 --out "$tmp/o" "$tmp/fits.lua"
# A loop of API calls runs few Lua instructions a call: the CPU limit covers
# the calls' work too, checked as each face is entered.
printf 'report.csv("early.csv", {{x = 1}})\nfor i = 1, 1e9 do\n  estimate{system = "dgx-h100", gpus = 8, model = "llama2-7b", tp = 8, mbs = 1, gbs = 8}\nend\n' >"$tmp/calls.lua"
rm -rf "$tmp/oc"
expect_bad_quick "lua: a loop of estimate{} calls stops at the CPU limit, with file:line and the face" \
    "calls.lua:3: estimate\{\}: the scenario has used [0-9.]+ s of CPU .*more than its limit of 1 s; raise the limit with --max-cpu-seconds" \
    run --max-cpu-seconds 1 --out "$tmp/oc" "$tmp/calls.lua"
if [ ! -e "$tmp/oc" ]; then ok "lua: a scenario over the CPU limit leaves no report, nor the folder it made"
else ls -A "$tmp/oc" | sed 's/^/# /'; not_ok "lua: a scenario over the CPU limit leaves no report, nor the folder it made"; fi
run_case "lua: Lua's own loop stops at the CPU limit when the instruction limit is raised" \
    "spin.lua:2: the scenario has used [0-9.]+ s of CPU .*more than its limit of 1 s" \
    spin.lua 'local n = 0\nwhile true do n = n + 1 end\n' --max-cpu-seconds 1 --max-instructions 1000000000000000
run_case "lua: a pcall that catches the CPU limit does not carry the script on" \
    "pcall.lua:1: the scenario has used [0-9.]+ s of CPU" \
    pcall.lua 'while true do pcall(function() while true do end end) end\n' --max-cpu-seconds 1 --max-instructions 1000000000000000
expect_bad_quick "lua: nor one that catches the instruction limit" \
    "pcall.lua:1: more than 1000000 Lua instructions" run --max-instructions 1000000 --out "$tmp/o" "$tmp/pcall.lua"
# the face's check or the hook between calls sees the limit first (timing): either names line 3
run_case "lua: a face called through pcall stops at the CPU limit, at the line of the pcall" \
    "pcall_face.lua:3: (estimate\{\}: )?the scenario has used" \
    pcall_face.lua 'local t = {system = "dgx-h100", gpus = 8, model = "llama2-7b", tp = 8, mbs = 1, gbs = 8}\nwhile true do\n  pcall(estimate, t)\nend\n' --max-cpu-seconds 1
printf 'local pts = {}\nfor i = 1, 100000 do pts[i] = {gbs = 8 * i} end\nsweep{run = "estimate", base = {system = "dgx-h100", gpus = 8, model = "llama2-7b", tp = 8, mbs = 1}, points = pts}\n' >"$tmp/sweep_cpu.lua"
# between blocks of points; a block that outlasts the backstop's second
# (under the sanitizers) meets the backstop instead
sweep_stop="sweep_cpu.lua(:3: sweep\{\}: the scenario has used|: the scenario has used more than 2 s of CPU)"
expect_bad_quick "lua: sweep{} stops between its blocks at the CPU limit" \
    "$sweep_stop" run --max-cpu-seconds 1 --out "$tmp/os" "$tmp/sweep_cpu.lua"
expect_bad_quick "sweep --max-cpu-seconds stops a spec the same way" \
    "$sweep_stop.*--max-cpu-seconds" \
    sweep --no-progress --max-cpu-seconds 1 --out "$tmp/os2" "$tmp/sweep_cpu.lua"
printf 'report.csv("early.csv", {{x = 1}})\nlocal s = string.rep("a", 20000)\nprint(string.find(s, ".-.-.-.-b"))\n' >"$tmp/pattern.lua"
rm -rf "$tmp/op"
expect_bad_quick "lua: a string pattern that backtracks for hours stops at the CPU limit's backstop" \
    "pattern.lua: the scenario has used more than 2 s of CPU, 1 s past its limit, in code the limit cannot interrupt" \
    run --max-cpu-seconds 1 --out "$tmp/op" "$tmp/pattern.lua"
if [ ! -e "$tmp/op" ]; then ok "lua: the backstop leaves no report, staged or not, nor the folder it made"
else ls -A "$tmp/op" | sed 's/^/# /'; not_ok "lua: the backstop leaves no report, staged or not, nor the folder it made"; fi
printf 'print("before the pattern")\nlocal s = string.rep("a", 20000)\nprint(string.find(s, ".-.-.-.-b"))\n' >"$tmp/pattern_out.lua"
timeout "$quick_s" "$bin" run --max-cpu-seconds 1 --out "$tmp/op2" "$tmp/pattern_out.lua" >"$out" 2>/dev/null
rc=$?
if [ "$rc" -eq 2 ] && grep -qx "before the pattern" "$out"; then ok "lua: what a scenario printed before the backstop stays printed (stdout a file)"
else echo "# exit $rc: $(head -c 200 "$out")"; not_ok "lua: what a scenario printed before the backstop stays printed (stdout a file)"; fi
mkdir -p "$tmp/op_kept" # a folder that was there before the run stays
timeout "$quick_s" "$bin" run --max-cpu-seconds 1 --out "$tmp/op_kept" "$tmp/pattern.lua" >/dev/null 2>"$errf"
rc=$?
if [ "$rc" -eq 2 ] && grep -q "more than 2 s of CPU" "$errf" && [ -d "$tmp/op_kept" ] &&
   [ -z "$(ls -A "$tmp/op_kept")" ]; then ok "lua: the backstop keeps an output folder the run did not make"
else echo "# exit $rc"; not_ok "lua: the backstop keeps an output folder the run did not make"; fi
lua_case "lua: a __gc finaliser is refused (it would run outside the limits)" \
    "setmetatable: a __gc finaliser is off in scenarios" \
    'setmetatable({}, {__gc = function() while true do end end}); collectgarbage()'
# Lua runs an xpcall message handler, and the __close methods of a coroutine
# being reset, with hooks off after an error from the hook: a script that
# goes on there meets the backstop a second later, with the limit it passed
run_case "lua: an endless xpcall message handler after the limit meets the backstop" \
    "xp.lua:1: more than 1000000 Lua instructions.*the script went on in code the limits cannot interrupt" \
    xp.lua 'print(xpcall(function() while true do end end, function(m) while true do end end))\n' --max-instructions 1000000
run_case "lua: an endless __close of a coroutine reset after the limit meets the backstop" \
    "close.lua:1: more than 1000000 Lua instructions.*the script went on" \
    close.lua 'coroutine.wrap(function() local x <close> = setmetatable({}, {__close = function() while true do end end}); while true do end end)()\n' --max-instructions 1000000
# a coroutine that resumed the one that passed the limit stops too, even
# under sweep (no CPU limit): at the default instruction limit
printf 'local B = coroutine.create(function()\n  local C = coroutine.create(function() while true do end end)\n  coroutine.resume(C)\n  while true do pcall(function() for i = 1, 1e9 do end end) end\nend)\ncoroutine.resume(B)\nsweep{run = "estimate", points = {{system = "dgx-h100", gpus = 8, model = "llama2-7b", tp = 8, mbs = 1, gbs = 8}}}\n' >"$tmp/resumer.lua"
quick_s=60 # the default limit: about 1 s of CPU, 5 under the sanitizers
expect_bad_quick "sweep: a coroutine resuming one past the limit stops with it" \
    "more than 200000000 Lua instructions" sweep --no-progress --out "$tmp/or" "$tmp/resumer.lua"
quick_s=10
expect_bad_quick "run --max-cpu-seconds 0 refused" "--max-cpu-seconds.*0" run --max-cpu-seconds 0 "$tmp/fits.lua"
expect_ok "lua: a raised CPU limit lets a scenario run" "^100000$" run --max-cpu-seconds 3600 --out "$tmp/o" "$tmp/fits.lua"
lua_case "lua: device_profile=/etc/shadow refused without saying whether it exists" "'/etc/shadow' is outside the folders" \
    'estimate{system="dgx-h100", gpus=8, model="llama2-7b", tp=8, mbs=1, gbs=8, device_profile="/etc/shadow"}'
lua_case "lua: a missing file outside refused in the same words" "'/etc/no-such-file' is outside the folders" \
    'estimate{system="dgx-h100", gpus=8, model="llama2-7b", tp=8, mbs=1, gbs=8, device_profile="/etc/no-such-file"}'
lua_case "lua: place{graph=DIR} outside the scenario's folder refused" "is outside the folders" \
    'place{graph="/etc", devices=2, mem_gib=1}'
lua_case "lua: ../ does not escape the folder" "is outside the folders" \
    "place{graph=\"$tmp/../\", devices=2, mem_gib=1}"
mkdir -p "$tmp/sc" "$tmp/other"
cp -r "$tmp/g" "$tmp/other/g"
printf 'group_id\n0\n' >"$tmp/other/g/groups.csv"
printf 'local r = place{graph = "%s", devices = 2, mem_gib = 1, algo = "etf"}\nprint(#r.devices)\n' "$tmp/other/g" >"$tmp/sc/p.lua"
expect_bad_quick "lua: another folder is refused without --allow-read" "is outside the folders" run --out "$tmp/o" "$tmp/sc/p.lua"
expect_ok "lua: --allow-read DIR lets the scenario read below DIR" "^2$" run --allow-read "$tmp/other" --out "$tmp/o" "$tmp/sc/p.lua"
printf 'return { format = 1, membound = (function() while true do end end)() }\n' >"$tmp/sc/loop_profile.lua"
printf 'estimate{system="dgx-h100", gpus=8, model="llama2-7b", tp=8, mbs=1, gbs=8, device_profile="%s"}\n' "$tmp/sc/loop_profile.lua" >"$tmp/sc/e.lua"
expect_bad_quick "a device profile containing a loop stops" "loop_profile.lua:1: more than 10000000 Lua instructions" \
    run --out "$tmp/o" "$tmp/sc/e.lua"

# ---- unclear messages ----
expect_bad_quick "a folder as an input file is named as a folder" "is a folder, not a file" \
    faults --gpus 8 --days 1 --checkpoint-s 60 --log "$tmp"
expect_bad_quick "a folder as an output file: said before anything is written" "'/tmp' is a folder" \
    search --system dgx-a100-80g --gpus 64 --model llama2-7b --gbs 64 --csv /tmp
printf '\xef\xbb\xbftime_h,component,kind\n1,n1,gpu\n' >"$tmp/bom.csv"
expect_ok "a UTF-8 BOM is accepted" "^goodput" "${lg[@]}" --log "$tmp/bom.csv"
printf 'time_h,component,kind\n1,"n\n1",gpu\n' >"$tmp/quote.csv"
expect_bad_quick "a quoted newline: plain words, not libcsv's" "quote.csv: line 2: a quoted field must end on its own line" \
    "${lg[@]}" --log "$tmp/quote.csv"
if ! grep -q "strict checking" "$errf"; then ok "no libcsv wording"; else not_ok "libcsv wording"; fi


# ---- also ----
"$bin" search --system dgx-a100-80g --gpus 16 --model llama2-7b --gbs 16 --fix pp=1 --top 10 \
    --format csv 2>/dev/null | awk -F, 'NR > 1 && !/^#/ {print $3, $4, $5, $6, $7, $8, $9, $10}' >"$tmp/top"
if [ -s "$tmp/top" ] && [ "$(sort "$tmp/top" | uniq -d | wc -l)" -eq 0 ]; then
    ok "search at pp 1: no gpipe/1f1b duplicates in the top 10"
else not_ok "search at pp 1: duplicates $(sort "$tmp/top" | uniq -d | head -2)"; fi
expect_ok "search --fix schedule=gpipe still gives gpipe at pp 1" ",gpipe," \
    search --system dgx-a100-80g --gpus 16 --model llama2-7b --gbs 16 --fix pp=1,schedule=gpipe --top 3 --format csv
# 100000 layers of h 1e6, f 4e6, GPT-style (biases, layernorm), vocab 51200, by hand:
# per layer 4h^2 + 2hf + (4h + f + h) + 2 x 2h = 12,000,013,000,000; embeddings
# (51200 tied + 2048 learned positions) x h = 53,248,000,000; final norm 2h = 2,000,000.
expect_ok "model: a huge parameter count is exact" "^params +1,200,001,353,250,000,000 " \
    model --layers 100000 --hidden 1000000 --heads 1000 --vocab 51200
expect_ok "faults: a short mean time between failures in seconds, not 0.00 h" "fails every 0.0527 s" \
    faults --gpus 16384 --days 0.01 --failures-per-gpu-day 100 --checkpoint-s 1 --runs 1 --interval-s 10
"$bin" --help >"$out" 2>&1
benches=$("$bin" bench --help | grep -oE "clustersim bench [a-z]+" | awk '{print $3}' | sort -u)
missing=$(for b in $benches; do grep -E "^  bench .*\b$b\b" "$out" >/dev/null || echo "$b"; done)
if [ -n "$benches" ] && [ -z "$missing" ]; then ok "--help lists every benchmark ($(echo $benches))"
else not_ok "--help misses benchmarks: $missing"; fi

if command -v script >/dev/null; then # a terminal on standard error: progress; none otherwise
    script -qec "'$bin' faults --gpus 1024 --days 10 --failures-per-gpu-day 0.01 --checkpoint-s 60 --runs 50" /dev/null >"$out" 2>&1
    grep -q "faults: [0-9]*/900 runs" "$out" && ok "faults shows progress on a terminal (runs of 900)" || not_ok "faults progress: $(head -c 300 "$out")"
    script -qec "'$bin' collective --system dgx-h100 --nodes 2 --min 1M --max 64M" /dev/null >"$out" 2>&1
    grep -q "collective: [0-9]/7 sizes" "$out" && ok "collective shows progress on a terminal (7 sizes)" || not_ok "collective progress"
    script -qec "'$bin' stragglers --system dgx-h100 --gpus 16 --model llama2-7b --tp 8 --mbs 1 --gbs 16 --iterations 5 --slow-prob 0.5" /dev/null >"$out" 2>&1
    grep -q "stragglers: [0-9]/5 iterations" "$out" && ok "stragglers shows progress on a terminal (5 iterations)" || not_ok "stragglers progress: $(head -c 300 "$out")"
    # a search over tens of thousands of GPUs spent half a minute routing its mappings and
    # as long simulating its finalists with no bar: both phases show theirs now
    script -qec "'$bin' search --system dgx-a100-80g --gpus 16 --model llama2-7b --gbs 16 --top 3" /dev/null >"$out" 2>&1
    grep -q "/[0-9]* layouts planned" "$out" && grep -q "/3 finalists" "$out" &&
        ok "search shows progress while it plans and simulates finalists" || not_ok "search progress: $(grep -c . "$out") lines"
fi
"$bin" faults --gpus 1024 --days 10 --failures-per-gpu-day 0.01 --checkpoint-s 60 --runs 5 >"$out" 2>"$errf"
[ ! -s "$errf" ] && ok "no progress text when standard error is not a terminal" || not_ok "progress text in a pipe"

# ---- the validation's figures, not just its words ----
# Each row's predicted TFLOP/s per GPU is Narayanan et al. 2021's eq. (3) on the
# simulated iteration time, 96 B s l h^2 (1 + s/6h + V/16lh) / (t x GPUs), and its
# error (predicted - published) / published, with the published figure the
# reference table's: recomputed here from the columns and the model's shape.
"$bin" validate megatron2021 --format csv >"$tmp/val.csv" 2>/dev/null
ref=$(dirname "$0")/../../validate/megatron2021_weak_scaling.csv
bad=0 rows=0
# columns by name: validate's CSV gains columns over time (the per-term breakdown)
col() { awk -F, -v name="$1" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == name) c = i; next}
                               {print $c}' "$2"; }
paste -d, <(col model "$tmp/val.csv") <(col gpus "$tmp/val.csv") <(col iteration_s "$tmp/val.csv") \
    <(col published "$tmp/val.csv") <(col predicted "$tmp/val.csv") \
    <(col error_percent "$tmp/val.csv") >"$tmp/valcols.csv"
(echo "hidden,layers,global_batch,tflops_per_gpu"; grep -v '^#' "$ref" | tail -n +2 |
    cut -d, -f3,4,8,9) >"$tmp/refcols.csv"
while IFS=, read -r model gpus it pub pred err h l gb tf; do
    shape=$("$bin" model "$model" --format csv | tail -1)
    V=$(echo "$shape" | cut -d, -f7) s=$(echo "$shape" | cut -d, -f8)
    rows=$((rows + 1))
    awk -v B="$gb" -v s="$s" -v l="$l" -v h="$h" -v V="$V" -v t="$it" -v g="$gpus" -v pred="$pred" \
        -v pub="$pub" -v tf="$tf" -v err="$err" 'BEGIN {
        x = 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h)) / (t * g * 1e12)
        d = x - pred; e = 100 * (x - pub) / pub - err
        exit !(pub == tf && d * d < 0.06 * 0.06 && e * e < 0.06 * 0.06) }' || bad=$((bad + 1))
done < <(paste -d, "$tmp/valcols.csv" <(tail -n +2 "$tmp/refcols.csv"))
if [ "$rows" -eq 10 ] && [ "$bad" -eq 0 ]; then ok "validate megatron2021: every predicted figure and error recomputed by hand ($rows rows)"
else not_ok "validate megatron2021: $bad of $rows rows disagree with eq. (3)"; fi

# ---- signals: an interrupted run leaves no temporaries and no partial output ----
for sig in INT TERM; do
    rm -rf "$tmp/sig"
    printf 'report.csv("early.csv", {{x = 1}})\nreport.csv("t.csv", {{y = 2}})\nwhile true do end\n' >"$tmp/sig.lua"
    "$bin" run --max-instructions 100000000000 --out "$tmp/sig" "$tmp/sig.lua" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do # until both staged files exist: the signal lands mid-write
        [ "$(ls -a "$tmp/sig" 2>/dev/null | grep -c "tmp-")" -ge 2 ] && break
        sleep 0.1
    done
    staged=$(ls -a "$tmp/sig" 2>/dev/null | grep -c "tmp-")
    kill -s "$sig" "$pid"
    wait "$pid"
    rc=$?
    left=$(ls -A "$tmp/sig" 2>/dev/null | wc -l)
    if [ "$staged" -ge 2 ] && [ "$rc" -gt 128 ] && [ "$left" -eq 0 ] && [ ! -e "$tmp/sig" ]; then
        ok "SIG$sig during run: the $staged staged files and the folder removed, nothing left (exit $rc)"
    else not_ok "SIG$sig during run: staged $staged, exit $rc, $left files left: $(ls -A "$tmp/sig" 2>/dev/null)"; fi
done

# run's options after FILE.lua are the scenario's arguments (as `lua FILE args`); the user is told
printf 'print("args", arg[1], arg[2])\n' >"$tmp/args.lua"
if run_out=$("$bin" run --out "$tmp/args-out" "$tmp/args.lua" --out "$tmp/elsewhere" 2>"$errf") &&
   grep -q "args	--out	$tmp/elsewhere" <<<"$run_out" &&
   grep -q "note: '--out' after .*args.lua is the scenario's arg\[1\], not run's option" "$errf"
then ok "run FILE --out DIR: --out is the scenario's arg[1], and a note says so"
else not_ok "run FILE --out DIR: --out is the scenario's arg[1], and a note says so"; fi

# Ctrl-C during a search: it stops, ranks what it has evaluated and exits 130
# (cli/cli_search.c; the fuzzing build leaves SIGINT to libFuzzer instead).
# The search takes tens of seconds of CPU; the signal comes after 3.
"$bin" search --system dgx-a100-80g --gpus 96 --model gpt3-175b --gbs 1488 --threads 1 \
    >"$out" 2>"$errf" &
search_pid=$!
sleep 3
kill -INT "$search_pid"
wait "$search_pid"
search_rc=$?
if [ "$search_rc" -eq 130 ] && grep -q "^# interrupted: ranking the [0-9]* layouts evaluated so far" "$out"
then ok "search: SIGINT stops it, the best so far printed, exit 130"
else not_ok "search: SIGINT: exit $search_rc, no 'interrupted' ranking"; fi

tap_finish
