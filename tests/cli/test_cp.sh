#!/usr/bin/env bash
# Integration tests of context parallelism: the flags of estimate and
# search, the three variants in every mode, the long-sequence search, the
# Lua field, and every bad input naming its rule (exit 2).  TAP.
set -u
source "$(dirname "$0")/lib.sh" "$1"

# llama3-8b at 16384 tokens on two DGX H100 nodes
base=(estimate --system dgx-h100 --model llama3-8b --seq 16384 --mbs 1)
job=("${base[@]}" --gpus 16 --gbs 16)

expect_ok "estimate --help names the flags" "--context-parallel-size" estimate --help
expect_ok "search --help names --max-cp" "--max-cp C" search --help
expect_ok "cp 4 ring: the layout and its exchanges" \
    "^context parallel +cp4 p2p: [0-9.]+ s exposed, [0-9.]+ s hidden" "${job[@]}" --tp 2 --cp 4 --pp 2
expect_ok "Megatron's flag names" "tp2 pp2 dp1 cp4 a2a mbs1" \
    "${job[@]}" --tp 2 --context-parallel-size 4 --pp 2 --cp-comm-type a2a
expect_ok "dp defaults to GPUs / (tp cp pp)" "tp2 pp1 dp2 cp4 mbs1" "${job[@]}" --tp 2 --cp 4

# the closed form, folded and every-rank simulation of each variant agree
for v in "8 p2p 1" "4 a2a 2" "8 a2a+p2p 1"; do
    set -- $v
    t=()
    for mode in "--mode analytic" "" "--ranks all"; do
        # shellcheck disable=SC2086
        "$bin" "${job[@]}" --tp 2 --cp "$1" --pp "$3" --cp-comm-type "$2" $mode >"$out" 2>"$errf"
        t+=("$(awk '/^iteration/ {print $2}' "$out")")
    done
    if awk -v a="${t[0]}" -v f="${t[1]}" -v r="${t[2]}" \
        'BEGIN {d1 = (f - a) / a; d2 = (r - f) / f; exit !(a > 0 && d1 < 0.01 && d1 > -0.01 && d2 < 0.02 && d2 > -0.02)}'; then
        ok "$2 cp $1: analytic ${t[0]} s, folded ${t[1]} s, all ranks ${t[2]} s"
    else not_ok "$2 cp $1: analytic ${t[0]} s, folded ${t[1]} s, all ranks ${t[2]} s"; fi
done

# the long-sequence search: Llama 3 405B at 131072 tokens on a 16384-GPU
# DGX H100 system finds layouts that fit with cp > 1 on all 16384 GPUs,
# and with cp 1 among the candidates (it fits too at this batch: one
# microbatch per pipeline, MFU 0.04) a cp > 1 layout ranks first.  126
# layers on pp 16 take the uneven split, 7 + 14 x 8 + 7 as Llama 3 trained
# (layout_stages.h).  One search (the plans of a 16384-GPU topology take
# most of its time).
long=(search --system dgx-h100 --nodes 2048 --gpus 16384 --model llama3-405b-128k --gbs 96
      --max-cp 16 --fix tp=8,pp=16,mbs=1 --top 1)
"$bin" "${long[@]}" >"$out" 2>"$errf"
rc=$?
fit=$(sed -n 's/.*; fit: \([0-9]*\)$/\1/p' "$out")
if [ "$rc" -eq 0 ] && [ "${fit:-0}" -gt 0 ] && grep -Eq '^ +1 +tp8 pp16 dp[0-9]+ cp(2|4|8|16) .*first[0-9]+ last[0-9]+ ' "$out" &&
    grep -q 'on 16384 GPUs' "$out"; then
    ok "llama3-405b-128k search on 16384 GPUs: $fit layouts fit, the best has cp > 1"
else not_ok "llama3-405b-128k search: exit $rc, fit '${fit:-}'"; fi
expect_ok "--fix pins cp and its variant" "^ +1 +tp2 pp[0-9]+ dp[0-9]+ cp4 a2a " \
    search --system dgx-h100 --gpus 16 --model llama3-8b --seq 16384 --gbs 16 \
    --fix tp=2,cp=4,cp_comm=a2a --top 1

# validation: Llama 3 405B, Table 4 (validate/context.md)
grep -E '^(#|gpus|16384,8,16,)' "$(dirname "$0")/../../validate/llama3_405b_table4.csv" >"$tmp/row128k.csv"
expect_ok "validate llama3: the 128K row with cp 16" "^405b s128K cp16 +16384 +8 +16 +8 +16 .* 380.0 " \
    validate llama3 --mode analytic --reference "$tmp/row128k.csv"
expect_ok "validate lists llama3" "llama3 +model TFLOP/s per GPU" validate --help

# Lua: cp and cp_comm in a layout
printf 'local l = layout{tp = 2, cp = 4, cp_comm = "a2a+p2p", gpus = 16, mbs = 1}\nprint(tostring(l), l.cp, l.cp_comm, l.dp)\n' >"$tmp/cp.lua"
expect_ok "Lua layout{cp, cp_comm}" "^tp2 pp1 dp2 cp4 a2a\+p2p mbs1 gbs2 1f1b	4	a2a\+p2p	2$" run "$tmp/cp.lua"

# bad input: exit 2, the rule named, the nearest valid values
expect_bad "cp must divide the world" "the world must be tp x cp x dp x pp: dp 1 would use 12" \
    "${base[@]}" --gbs 16 --tp 2 --cp 6 --dp 2 --gpus 16
expect_bad "seq divisible by 2 cp" "divisible by 2 cp = 6 .*cp values near 3 that divide seq_len / 2: 2, 4" \
    "${base[@]}" --tp 2 --cp 3 --gpus 6 --gbs 2
expect_bad "Ulysses needs the heads divisible" "must divide heads / tp = 16 and kv_heads / tp = 4.*near 8 that pass: 4" \
    "${job[@]}" --tp 2 --cp 8 --cp-comm-type a2a
expect_bad "context parallelism needs fused attention" "cp 4 needs fused attention" \
    "${job[@]}" --tp 2 --cp 4 --pp 2 --attention unfused
expect_bad "an unknown variant" "--cp-comm-type.*p2p, a2a, a2a\+p2p" "${job[@]}" --cp 4 --cp-comm-type ring
expect_bad "cp 0" "--cp" "${job[@]}" --cp 0
expect_bad "--max-cp 0" "--max-cp" search --system dgx-h100 --gpus 16 --model llama3-8b --gbs 16 --max-cp 0
expect_bad "--fix cp_comm unknown" "--fix cp_comm" \
    search --system dgx-h100 --gpus 16 --model llama3-8b --gbs 16 --fix cp_comm=ring
printf 'local r = estimate{system = "dgx-h100", gpus = 16, model = "llama3-8b", seq = 16384, tp = 2, cp = 8,\n  cp_comm = "a2a+p2p", mbs = 1, gbs = 4, mode = "analytic"}\nprint(r.layout, r.stages[1].cp_exposed_s > 0, r.stages[1].cp_hidden_s > 0)\n' >"$tmp/est.lua"
expect_ok "Lua estimate: cp fields and the exchanges per stage" "cp8 a2a\+p2p .*	true	true$" run "$tmp/est.lua"
printf 'local l = layout{tp = 2, cp = 4, cp_comm = "ulysses", gpus = 16, mbs = 1}\n' >"$tmp/bad.lua"
expect_bad "Lua cp_comm unknown" "cp_comm" run "$tmp/bad.lua"

tap_finish
