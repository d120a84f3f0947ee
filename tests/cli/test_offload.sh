# CLI tests: memory tiers and offload (issue 17): `system` prints the tiers,
# `estimate --offload` prints the verdict per tier, every bad combination
# exits 2 naming its rule, `validate offload` compares the papers' rows, and
# the search finds an offload for a model that fits nowhere without it.
source "$(dirname "$0")/lib.sh" "$1"

expect_ok "system prints host DRAM per socket with its source" \
    "host dram +1500 GB, 2 socket.*255.9 GB/s, 48 cores" system dgx2-v100
expect_ok "system prints the measured gradient pass with its source" \
    "cpu grads +9\.04e9 parameters/s per node .*measured" system dgx2-v100
expect_ok "system prints the NVMe drives" "nvme +8 x 3.84 TB, read 3.5 GB/s" system dgx2-v100
expect_ok "the commodity box: one RTX 4090 on PCIe 4.0, two SSDs" \
    "nvme +2 x 3.84 TB, read 6.5 GB/s, write 3.4 GB/s" system rtx4090-box
expect_ok "Fuyou's published testbed: twelve P5510 drives" \
    "nvme +12 x 3\.84 TB, read 6\.5 GB/s, write 3\.4 GB/s each \(78\.0 / 40\.8 GB/s" \
    system fuyou-server
expect_ok "Fuyou's testbed: the SSDs' link measured at 32 GB/s bounds reads and writes" \
    "nvme link +32\.0 GB/s, measured; reads and writes take turns: the node reads 32\.0 and writes 32\.0 GB/s" \
    system fuyou-server
expect_ok "Fuyou's testbed with three drives: under the link, the drives' sums" \
    "the node reads 19\.5 and writes 10\.2 GB/s" system fuyou-server:nvme=3
expect_ok "Fuyou's published testbed: two Xeon Gold 5320 at DDR4-2933" \
    "host dram +768 GB, 2 socket.*187.7 GB/s = 375.4 GB/s, 52 cores" system fuyou-server
expect_ok "Fuyou's testbed: CPU Adam derived from the DGX-2's measurement, labelled so" \
    "cpu adam +1\.43e9 parameters/s per node, derived" system fuyou-server
expect_ok "the DGX-2's CPU Adam stays labelled measured" \
    "cpu adam +1\.62e9 parameters/s per node, measured" system dgx2-v100

one="--system dgx2-v100 --gpus 1 --model llama2-7b --mbs 1 --gbs 1"
v100="$one --recompute full"
# shellcheck disable=SC2086
expect_ok "ZeRO-Offload: optimizer state in DRAM, the GPU fits" \
    "host dram \(node\) +100\.[0-9]+ GiB.*fits" estimate $v100 --zero 2 --offload optimizer
# shellcheck disable=SC2086
expect_ok "without offload llama2-7b does not fit one V100" "DOES NOT FIT" estimate $v100
# shellcheck disable=SC2086
expect_ok "ZeRO-Infinity to NVMe names the bottleneck tier" "bottleneck tier +nvme" \
    estimate $v100 --zero 3 --offload all --offload-to nvme
# shellcheck disable=SC2086
expect_ok "Fuyou on the RTX 4090 box" "offload +all to nvme \(fuyou\)" \
    estimate --system rtx4090-box --gpus 1 --model llama2-7b --mbs 1 --gbs 1 \
    --offload all --offload-to nvme --offload-engine fuyou
# the engine's flows and the closed form agree with nothing else on the links
# shellcheck disable=SC2086
sim=$("$bin" estimate $v100 --zero 2 --offload optimizer --format csv | tail -1 | cut -d, -f17)
# shellcheck disable=SC2086
ana=$("$bin" estimate $v100 --zero 2 --offload optimizer --format csv --mode analytic |
      tail -1 | cut -d, -f17)
if [ -n "$sim" ] && awk -v a="$sim" -v b="$ana" 'BEGIN { d = a - b; exit !(d * d < 1e-8 * b * b) }'
then ok "sim and closed form agree ($sim s)"
else not_ok "sim and closed form agree ($sim vs $ana)"; fi

# every bad combination: exit 2, the rule named
# shellcheck disable=SC2086
expect_bad "offload needs ZeRO" "only under ZeRO" estimate $v100 --offload optimizer
# shellcheck disable=SC2086
expect_bad "params need ZeRO-3" "valid only with stage 3" estimate $v100 --zero 2 --offload params
# shellcheck disable=SC2086
expect_bad "NVMe needs ZeRO-3" "offload-to nvme needs --zero 3" \
    estimate $v100 --zero 2 --offload optimizer --offload-to nvme
# shellcheck disable=SC2086
expect_bad "--offload-to alone" "need offload = .*\(--offload optimizer" \
    estimate $v100 --offload-to nvme
# shellcheck disable=SC2086
expect_bad "DPU needs optimizer offload to the CPU" "delayed parameter update" \
    estimate $v100 --zero 3 --offload all --offload-dpu
# shellcheck disable=SC2086
expect_bad "Fuyou trains on one GPU" "Fuyou trains on one GPU" \
    estimate --system dgx2-v100 --gpus 2 --model llama2-7b --mbs 1 --gbs 2 \
    --offload all --offload-to nvme --offload-engine fuyou
# shellcheck disable=SC2086
expect_bad "Fuyou moves everything to the SSDs" "use --offload all --offload-to nvme" \
    estimate $one --offload optimizer --offload-engine fuyou
# shellcheck disable=SC2086
expect_bad "Fuyou does not recompute selectively: both of its choices named" \
    "recompute none.*recompute full" estimate $one --recompute selective --offload all --offload-to nvme --offload-engine fuyou
# shellcheck disable=SC2086
expect_bad "an unknown offload" "--offload.*'disk'" estimate $v100 --zero 2 --offload disk
# shellcheck disable=SC2086
expect_bad "an unknown tier" "--offload-to.*'tape'" estimate $v100 --zero 2 --offload all --offload-to tape

# DeepSpeed's cpu_checkpointing: 32 checkpoints of 4096 x 4096 x 2 B (1.074 GB),
# down in the forward into fresh pageable pages at 1.96 GB/s (the host's
# first-touch bound, under the 15.75 GB/s x16 link), up before each
# recomputation at the link over 2.57 (pageable against pinned): 0.548 + 0.175 s
# shellcheck disable=SC2086
plain=$("$bin" estimate $v100 --zero 2 --offload optimizer --format csv | tail -1 | cut -d, -f17)
# shellcheck disable=SC2086
ckpt=$("$bin" estimate $v100 --zero 2 --offload optimizer --offload-checkpoints --format csv |
    tail -1 | cut -d, -f17)
if awk -v a="$plain" -v b="$ckpt" 'BEGIN { c = 32 * 4096 * 4096 * 2;
    d = b - a - c / 1.96e9 - c * 2.57 / 15.75e9;
    exit !(d < 1e-4 && d > -1e-4) }'; then ok "checkpoints in DRAM add their pageable copies"
else echo "# $plain -> $ckpt"; not_ok "checkpoints in DRAM add their pageable copies"; fi
# shellcheck disable=SC2086
expect_bad "checkpoints in DRAM need full recomputation" \
    'use recompute = "full" \(--recompute full\)' \
    estimate $one --zero 2 --offload optimizer --offload-checkpoints
# shellcheck disable=SC2086
expect_bad "checkpoints in DRAM need an offload" "offload-checkpoints\) need offload = " \
    estimate $v100 --zero 2 --offload-checkpoints
# shellcheck disable=SC2086
expect_bad "DeepSpeed v0.3 had no ZeRO-3 offload" "deepspeed-2020.*--zero 1\|2" \
    estimate $v100 --zero 3 --offload optimizer --offload-engine deepspeed-2020
expect_ok "estimate --help names --offload-checkpoints" "--offload-checkpoints" estimate --help

# shellcheck disable=SC2086
expect_bad "DeepSpeed v0.9.3's engine is ZeRO-3's" "deepspeed-2023.*--zero 3" \
    estimate $one --zero 2 --offload optimizer --offload-engine deepspeed-2023
# shellcheck disable=SC2086
ds23="--system fuyou-server --gpus 1 --model llama2-7b --mbs 4 --gbs 4 --zero 3 --recompute full
      --offload all --offload-to nvme --offload-engine deepspeed-2023"
# shellcheck disable=SC2086
expect_ok "DeepSpeed v0.9.3's engine names itself in the layout" "offload-all-nvme-ds2023" estimate $ds23
# shellcheck disable=SC2086
expect_ok "DeepSpeed v0.9.3's engine names itself in the report" "all to nvme \(deepspeed-2023\)" \
    estimate $ds23
# DeepSpeed v0.3.13's coordinator (deepspeed-2021): its rules, each named
ds21base="--system dgx2-v100 --gpus 16 --model megatron-1.7b --tp 1 --mbs 4 --gbs 64
      --offload all --offload-engine deepspeed-2021"
ds21="$ds21base --zero 3 --recompute full"
# shellcheck disable=SC2086
expect_ok "DeepSpeed v0.3.13's engine names itself in the layout" "offload-all-cpu-ds2021" \
    estimate $ds21
# shellcheck disable=SC2086
expect_bad "DeepSpeed v0.3.13's engine has no pipeline" "deepspeed-2021.*needs pp = 1 \(--pp 1\)" \
    estimate $ds21 --pp 2
# shellcheck disable=SC2086
expect_bad "DeepSpeed v0.3.13's engine had no NVMe" "deepspeed-2021 .*--offload-to cpu" \
    estimate $ds21 --offload-to nvme
# shellcheck disable=SC2086
expect_bad "DeepSpeed v0.3.13's engine recomputes all or nothing" \
    "deepspeed-2021.*full recomputation or none: recompute = .full.\|.none. \(--recompute full\|none\)" \
    estimate $ds21base --zero 3 --recompute selective
# shellcheck disable=SC2086
expect_bad "DeepSpeed v0.3.13's engine runs each microbatch's forward then its backward" \
    "deepspeed-2021.*needs schedule = .1f1b. \(--schedule 1f1b\)" estimate $ds21 --schedule gpipe
# shellcheck disable=SC2086
expect_bad "DeepSpeed v0.3.13's ZeRO trains in fp16" "deepspeed-2021.*needs dtype = .fp16." \
    estimate $ds21 --dtype bf16
# shellcheck disable=SC2086
expect_bad "DeepSpeed v0.3.13's engine is ZeRO-3's" "deepspeed-2021 is DeepSpeed v0.3.13's ZeRO-3" \
    estimate $ds21base --zero 2 --recompute full
# shellcheck disable=SC2086
expect_bad "deepspeed-2021: the simulation's steps are bounded, the closed form offered" \
    "deepspeed-2021: 11460000 coordinator steps and collectives to simulate .*--mode analytic" \
    estimate --system dgx2-v100 --gpus 16 --layers 500 --hidden 1024 --heads 16 --mbs 1 \
    --gbs 8000 --zero 3 --recompute full --dtype fp16 --offload all \
    --offload-engine deepspeed-2021 --mode sim
# the closed form and the simulation run the same trace
# shellcheck disable=SC2086
a=$("$bin" estimate $ds21 --mode analytic | sed -n 's/^iteration *\([0-9.]*\) s/\1/p')
# shellcheck disable=SC2086
s=$("$bin" estimate $ds21 --mode sim | sed -n 's/^iteration *\([0-9.]*\) s/\1/p')
if [ -n "$a" ] && [ -n "$s" ] && awk -v a="$a" -v s="$s" 'BEGIN { d = a - s; if (d < 0) d = -d; exit !(d <= 0.01 * s) }'
then ok "deepspeed-2021: closed form $a s within 1% of the simulation $s s"
else not_ok "deepspeed-2021: closed form '$a' s within 1% of the simulation '$s' s"; fi

# validate offload: the papers' rows, the columns of the other studies
expect_ok "validate offload compares every paper row" "zero3-offload-1t-512 +512" validate offload
expect_ok "Fuyou's rows use the paper's batch sweep in tokens/s (Ratel Fig. 5(a)): 1500 at batch 64" \
    "fuyou-13b-rtx4090 .* 1500\.0 " validate offload
if grep -Eq "^fuyou-13b-rtx4090,fuyou-server,1,40,5120,40,1024,50257,64,64,full,0,all,nvme,fuyou,.*,tokens_per_s,1500," \
       "$(dirname "$0")/../../validate/offload_papers.csv"
then ok "Fuyou's row runs its published setting on its published testbed"
else not_ok "Fuyou's row runs its published setting on its published testbed"; fi
expect_ok "validate offload --format csv has error_percent" "^model,.*error_percent" \
    validate offload --format csv
printf 'label,system\nx,dgx2-v100\n' >"$tmp/bad.csv"
expect_bad "validate offload names a wrong header" "column 3 should be 'gpus'" \
    validate offload --reference "$tmp/bad.csv"
# a drive-count sweep names its system NAME:nvme=N; a bad count names the line and the rule
{ grep '^label' "$(dirname "$0")/../../validate/offload_papers.csv"
  grep '^fuyou-13b-b32-ssd3,' "$(dirname "$0")/../../validate/offload_papers.csv" |
      sed 's/nvme=3/nvme=0/'; } >"$tmp/bad_nvme.csv"
expect_bad "validate offload names a bad drive count and its line" \
    "line 2: system 'fuyou-server:nvme=0': ':nvme=' needs a whole number of drives from 1 to 64" \
    validate offload --reference "$tmp/bad_nvme.csv"
# the ZeRO-Infinity paper's own setting for the 1T row (Table 1: mp 4, batch/GPU 5)
expect_ok "validate offload runs the 1T row at the paper's mp 4 (tp 4, dp 128)" \
    "^zero3-offload-1t-512 +512 +4 +1 +128 " validate offload
{ grep '^label' "$(dirname "$0")/../../validate/offload_papers.csv"
  grep '^zero3-offload-1t-512,' "$(dirname "$0")/../../validate/offload_papers.csv" |
      sed 's/,4$/,3/'; } >"$tmp/bad_tp.csv"
expect_bad "validate offload names a tp that does not divide the GPUs" \
    "line 2: 512 GPUs is not a multiple of tp 3 x pp 1" validate offload --reference "$tmp/bad_tp.csv"
expect_ok "Fuyou's drive sweep runs the testbed with 3 of its SSDs (81.1 TFLOPS / 1.04e11 a token)" \
    "^fuyou-13b-b32-ssd3 .* 779\.8 " validate offload
# tokens_per_s: the job's tokens over its iteration; ZeRO-Infinity's batch 32 as one microbatch
zi=$("$bin" validate offload | awk '$1 == "fuyou-13b-zero-infinity" { print $6, $7, $9 }')
if [ -n "$zi" ] && echo "$zi" | awk '{ exit !($1 == 1 && ($3 - 32 * 1024 / $2) ^ 2 < 0.01) }'
then ok "validate offload: tokens_per_s is batch x seq / iteration ($zi)"
else not_ok "validate offload: tokens_per_s is batch x seq / iteration ($zi)"; fi
fy="--system fuyou-server --gpus 1 --model llama2-7b --mbs 4 --gbs 4 --zero 0 --offload all
    --offload-to nvme --offload-engine fuyou"
# shellcheck disable=SC2086
expect_ok "Fuyou under full recomputation (its artifact's run.sh) recomputes every layer" \
    "32 recomputed" estimate $fy --recompute full

# the search: nothing fits one V100 without offload; with it, an offload tops the list
expect_bad "the search finds no layout without offload" "no layout fits memory" \
    search --system dgx2-v100 --gpus 1 --model llama2-7b --gbs 8 --top 3
expect_ok "the search's best layout that fits offloads" "^ +1 +tp1 pp1 dp1 .*offload-" \
    search --system dgx2-v100 --gpus 1 --model llama2-7b --gbs 8 --top 3 --offload auto
expect_ok "the search with --offload optimizer --offload-to cpu keeps to it" \
    "^ +1 .*offload-optimizer-cpu" \
    search --system dgx2-v100 --gpus 1 --model llama2-7b --gbs 8 --top 3 --offload optimizer \
    --offload-to cpu
expect_bad "the search's --offload-to needs --offload" "offload-to needs --offload" \
    search --system dgx2-v100 --gpus 1 --model llama2-7b --gbs 8 --offload-to cpu
# the bottleneck, by hand: ZeRO-Offload of llama2-7b (P = 6.74e9) moves 4P = 26.95 GB each
# way over PCIe and CPU Adam streams 28P = 188.7 GB through host DRAM.  On the DGX-2 the
# measured CPU Adam (1.62e9 parameters/s) takes 4.16 s and the measured gradient pass
# (9.04e9/s) 0.75 s: 4.91 s of 9.07, 54%; PCIe gen3 (15.75 GB/s) 1.71 s a direction,
# DRAM (242.6 GB at 255.9 GB/s) 0.95 s: the CPU.  On the DGX A100, PCIe gen4 (31.5 GB/s)
# 0.86 s a direction of 2.57, 33%; DRAM (409.6 GB/s) 0.59 s; the CPU at the DRAM bound,
# Adam (over 28 B) 0.46 s and the pass (over 8 B) 0.13 s: PCIe, both ways alike (the
# first named on a tie).
# shellcheck disable=SC2086
expect_ok "estimate names the bottleneck the hand derivation gives: the CPU" \
    "bottleneck tier +cpu \(54\.[0-9]% busy\)" estimate $v100 --zero 2 --offload optimizer
expect_ok "estimate names the bottleneck the hand derivation gives: PCIe" \
    "bottleneck tier +pcie-h2d \(33\.[0-9]% busy\)" estimate --system dgx-a100-80g --gpus 1 \
    --model llama2-7b --mbs 1 --gbs 1 --recompute full --zero 2 --offload optimizer
# utilisation over time: the Perfetto trace's counter tracks, one per tier, in [0, 1]
util_tracks_ok() { # $1: timeline.json
    local tier
    for tier in pcie-h2d pcie-d2h dram nvme cpu; do
        grep -q "\"ph\":\"C\",\"name\":\"util $tier\"" "$1" || return 1
    done
    grep -o '"name":"util [a-z0-9-]*","pid":[0-9]*,"ts":[0-9.]*,"args":{"value":[-0-9.e]*}' "$1" |
        sed 's/.*"value"://; s/}$//' >"$tmp/util.txt"
    [ -s "$tmp/util.txt" ] &&
        awk '$1 < 0 || $1 > 1 { bad = 1 } $1 > 0.5 { busy = 1 } END { exit bad || !busy }' \
            "$tmp/util.txt"
}
# shellcheck disable=SC2086
if "$bin" estimate $v100 --zero 3 --offload all --offload-to nvme --out "$tmp/trace" \
       >"$errf" 2>&1 && util_tracks_ok "$tmp/trace/timeline.json"
then ok "the trace has a utilisation counter per tier, every value in [0, 1]"
else not_ok "the trace has a utilisation counter per tier, every value in [0, 1]"; fi
# Lua: the phases end to end over the iteration, each utilisation in [0, 1]; Fuyou's
# placement accounts for every one of llama2-7b's 32 layers
cat >"$tmp/phases.lua" <<'LUA'
local l = layout{gpus = 1, mbs = 1, gbs = 1, zero = 0, offload = "all", offload_to = "nvme",
                 offload_engine = "fuyou", recompute = "none"}
local r = estimate{system = "rtx4090-box", model = "llama2-7b", layout = l, gpus = 1}
local o, t = r.offload, 0
for _, ph in ipairs(o.phases) do
  assert(math.abs(ph.start_s - t) < 1e-9 * r.iteration_s, "phases end to end")
  for k, u in pairs(ph.utilisation) do assert(u >= 0 and u <= 1, k) end
  t = t + ph.dur_s
end
assert(math.abs(t - r.iteration_s) < 1e-6 * r.iteration_s, "phases sum to the iteration")
local f = o.fuyou
assert(f.act_hbm_layers + f.act_swap_layers + f.act_recompute_layers == 32, "every layer placed")
print(string.format("phases %d, layers placed", #o.phases))
LUA
expect_ok "Lua: r.offload.phases over the iteration, Fuyou's placement per layer" \
    "phases 2, layers placed" run "$tmp/phases.lua"
# Lua: offload_checkpoints and the 2020 engine, read back and priced as the flags are
cat >"$tmp/ckpt.lua" <<'LUA'
local function iter(ckpt)
  local l = layout{gpus = 1, mbs = 1, gbs = 1, zero = 2, offload = "optimizer",
                   offload_engine = "deepspeed-2020", offload_checkpoints = ckpt,
                   recompute = "full"}
  assert(l.offload_checkpoints == ckpt and l.offload_engine == "deepspeed-2020", "read back")
  return estimate{system = "dgx2-v100", model = "llama2-7b", layout = l, gpus = 1}.iteration_s
end
print(string.format("checkpoints add %.4f s", iter(true) - iter(false)))
LUA
expect_ok "Lua: offload_checkpoints adds the pageable copies (0.7230 s, as the flag)" \
    "checkpoints add 0\.723[01] s" run "$tmp/ckpt.lua"
# Lua: the checkpoint rules name the Lua field and the flag alike
cat >"$tmp/ckpt_bad.lua" <<'LUA'
estimate{system = "dgx2-v100", model = "llama2-7b", gpus = 1,
         layout = layout{gpus = 1, mbs = 1, gbs = 1, zero = 2, offload = "optimizer",
                         offload_checkpoints = true}}
LUA
expect_bad "Lua: offload_checkpoints without full recomputation names both spellings" \
    'offload_checkpoints = true \(--offload-checkpoints\).*use recompute = "full" \(--recompute full\)' \
    run "$tmp/ckpt_bad.lua"
cat >"$tmp/ckpt_none.lua" <<'LUA'
estimate{system = "dgx2-v100", model = "llama2-7b", gpus = 1,
         layout = {gpus = 1, mbs = 1, gbs = 1, zero = 2, recompute = "full",
                   offload_checkpoints = true}}
LUA
expect_bad "Lua: offload_checkpoints without an offload names both spellings" \
    'offload_checkpoints \(.*--offload-checkpoints\) need offload = "optimizer"' \
    run "$tmp/ckpt_none.lua"
# layout{} refuses it too (it used to drop the field: offload_checkpoints came back nil)
cat >"$tmp/ckpt_layout.lua" <<'LUA'
layout{gpus = 1, mbs = 1, gbs = 1, zero = 2, recompute = "full", offload_checkpoints = true}
LUA
expect_bad "Lua: layout{} refuses offload_checkpoints without an offload" \
    'layout: offload: .*need offload = "optimizer"' run "$tmp/ckpt_layout.lua"
expect_ok "Lua: the offload scenario" "fastest offload that fits: .*offload-" \
    run "$(dirname "$0")/../../scenarios/offload.lua"

tap_finish
