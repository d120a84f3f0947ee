#!/usr/bin/env bash
# Mixture of experts and expert parallelism on the command line: --ep and
# its companions on estimate, --fix ep on search, the layout keys in Lua,
# the refusals with their nearest values, the routing histogram CSV.
source "$(dirname "$0")/lib.sh" "$1"
job=(--system dgx-h100 --gpus 16 --model mixtral-8x7b --tp 1 --pp 2 --mbs 1 --gbs 32 --zero 1)

expect_ok "estimate takes --ep" '^layout +tp1 pp2 dp8 ep8 etp1 mbs1 gbs32 zero1 1f1b$' \
    estimate "${job[@]}" --ep 8
expect_ok "the all-to-all line" '^ep all-to-all +0\.[0-9]+ s exposed on stage [01] \(dispatch and combine, flat\); slowest expert rank x1\.000' \
    estimate "${job[@]}" --ep 8
expect_ok "Zipf(1) over 8 experts, one per rank: x8/H8" 'slowest expert rank x2\.943 ' \
    estimate "${job[@]}" --ep 8 --routing zipf:1
printf 'expert,tokens\n0,4\n1,1\n2,1\n3,1\n4,1\n5,0\n6,0\n7,0\n' >"$tmp/hist.csv"
expect_ok "a measured histogram: ep 4 puts 5 of 8 tokens on rank 0" 'slowest expert rank x2\.500 ' \
    estimate "${job[@]}" --ep 4 --routing "hist:$tmp/hist.csv" --mode analytic
expect_ok "hierarchical and overlapped named" 'hierarchical, overlapped' \
    estimate "${job[@]}" --ep 8 --ep-a2a hier --ep-overlap --mode analytic
expect_ok "expert tensor parallelism" 'ep4 etp2' \
    estimate --system dgx-h100 --gpus 16 --model mixtral-8x7b --tp 2 --pp 1 --mbs 1 --gbs 16 \
    --ep 4 --expert-tensor-parallel-size 2 --sp --mode analytic

expect_bad "ep not dividing the experts names the nearest" 'ep 3 does not divide the 8 experts.*ep values near 3: 2, 4' \
    estimate "${job[@]}" --ep 3
expect_bad "ep on a dense model" "model 'llama3-8b' has none" \
    estimate --system dgx-h100 --gpus 8 --model llama3-8b --tp 1 --pp 1 --mbs 1 --gbs 8 --ep 2
expect_bad "etp x ep beyond tp x dp" 'etp 1 x ep 8 = 8 does not divide tp 1 x dp 4 = 4.*near 8: 4' \
    estimate --system dgx-h100 --gpus 8 --model mixtral-8x7b --tp 1 --pp 2 --mbs 1 --gbs 8 --ep 8
expect_bad "a routing that is not one" "--routing: 'pareto' is not one of uniform, zipf:S" \
    estimate "${job[@]}" --ep 8 --routing pareto
expect_bad "--ep-a2a" "--ep-a2a: 'ring' is not one of flat, hier" estimate "${job[@]}" --ep 8 --ep-a2a ring
printf 'expert,tokens\n0,4\n2,1\n' >"$tmp/gap.csv"
expect_bad "a histogram with a gap" 'gap\.csv: expert 1 is missing' \
    estimate "${job[@]}" --ep 8 --routing "hist:$tmp/gap.csv"
printf 'expert,tokens\n0,4\n0,1\n' >"$tmp/twice.csv"
expect_bad "a histogram naming an expert twice" 'twice\.csv line 3: expert 0 appears twice' \
    estimate "${job[@]}" --ep 8 --routing "hist:$tmp/twice.csv"
printf 'expert,tokens\n0,1\n1,1\n' >"$tmp/two.csv"
expect_bad "a histogram of another model" 'routing histogram has 2 experts, the model 8' \
    estimate "${job[@]}" --ep 8 --routing "hist:$tmp/two.csv"

expect_ok "search varies ep" ' ep[248] etp1 ' \
    search --system dgx-h100 --gpus 16 --model mixtral-8x7b --gbs 32 --top 3 --fix tp=1,pp=2,mbs=1
expect_bad "search: a fixed ep not dividing the experts" '--fix ep=3 does not divide the 8 experts; nearest valid ep: 2, 4' \
    search --system dgx-h100 --gpus 16 --model mixtral-8x7b --gbs 32 --fix ep=3

cat >"$tmp/ep.lua" <<'LUA'
local base = {system = "dgx-h100", gpus = 16, model = "mixtral-8x7b"}
local function run(layout) base.layout = layout; return estimate(base).iteration_s end
local even = run{tp = 1, pp = 2, ep = 8, mbs = 1, gbs = 32, zero = 1}
local skew = run{tp = 1, pp = 2, ep = 8, mbs = 1, gbs = 32, zero = 1, routing = "zipf", zipf_s = 1}
print("skew slower", skew > even)
print(layout{tp = 2, dp = 4, ep = 4})
LUA
expect_ok "Lua: routing zipf slows the step" '^skew slower	true$' run "$tmp/ep.lua"
expect_ok "Lua: layout{} carries ep" '^tp2 pp1 dp4 ep4 etp2 mbs1 gbs4 1f1b$' run "$tmp/ep.lua"

# the published rows (validate/moe_published.csv): every row runs, the error is printed
expect_ok "validate moe runs its four rows" '^4 rows: mean absolute error [0-9.]+%' \
    validate moe --mode analytic
expect_ok "validate moe: the Mixtral row" '^mixtral-mcore +64 +1 +4 +16 +16 .* 468\.0 ' \
    validate moe --mode analytic
expect_ok "dgx-h800 in the catalog" '^dgx-h800 ' system

tap_finish
