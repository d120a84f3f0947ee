#!/usr/bin/env bash
# CLI tests of clustersim place and bench place: output columns, the CSV of
# the placement, the llama2-7b graph (units per layer, spread over devices
# within memory), Lua place{}, and bad input (malformed CSV, wrong flags,
# impossible memory): message with cause and place, exit 2, no file written.
set -u
source "$(dirname "$0")/lib.sh" "$1"
G="$(dirname "$0")/../../../shared/placement/gnmt_v2_b128"

expect_ok "help" "--mem-gib" place --help
expect_ok "etf table" "simulated step: [0-9.]+ ms" place --graph "$G" --devices 4 --mem-gib 16 --algo etf
if grep -Eq "^predicted step \(the placers' list schedule of it\): [0-9.]+ ms, [-+][0-4]\.[0-9]% of the simulated" "$out"; then ok "etf prediction within 5% printed"; else not_ok "etf prediction within 5% printed"; fi
if grep -q "one channel per device pair" "$out" && grep -q "a device receives it once" "$out"; then ok "channels and tensors stated"; else not_ok "channels and tensors stated"; fi
expect_ok "device channels" "one channel per device$" place --graph "$G" --devices 4 --mem-gib 16 --algo etf --channels device
expect_bad "bad channels" "unknown channel model 'bus'" place --graph "$G" --devices 4 --mem-gib 16 --channels bus
expect_ok "expert-nearest" "^expert-nearest,4,[0-9.]+,[0-9.]+,[0-9.]+,[0-9.]+,[0-9.]+,569,569,$" place --graph "$G" --devices 4 --mem-gib 16 --algo expert-nearest --format csv
# an old edges.csv without src_outputs still loads: every edge its own tensors, and said so
mkdir -p "$tmp/old"
cp "$G/nodes.csv" "$G/groups.csv" "$tmp/old/"
cut -d, -f1-6 "$G/edges.csv" >"$tmp/old/edges.csv"
expect_ok "old csv" "no output indices \(src_outputs\): every edge carries tensors of its own" place --graph "$tmp/old" --devices 4 --mem-gib 16 --algo etf
expect_ok "csv row" "^etf,4,[0-9.]+,[0-9.]+,[0-9.]+" place --graph "$G" --devices 4 --mem-gib 16 --algo etf --format csv
expect_ok "single = sum of compute" "^single,4,[0-9.]+,116.762000," place --graph "$G" --devices 4 --mem-gib 16 --algo single --format csv
expect_ok "per-device limits" "^topo,2" place --graph "$G" --devices 2 --mem-gib 16,8 --algo topo --format csv
expect_ok "system links" "^etf,4" place --graph "$G" --devices 4 --mem-gib 16 --algo etf --system dgx-h100 --format csv
expect_ok "catalog model" "^auto,4" place --model llama2-7b --devices 4 --mem-gib 80 --format csv --evals 50
# llama2-7b with co-placement: 97 units (3 per layer), not one; 50 GiB < its 125.6 GiB on one device
expect_ok "catalog model units" "^etf,4,[0-9.]+,[0-9.]+,[0-9.]+,[0-9.]+,[0-9.]+,193,97,[0-9.]+$" place --model llama2-7b --system dgx-h100 --devices 4 --mem-gib 50 --algo etf --format csv
expect_ok "catalog model spread" "simulated step" place --model llama2-7b --system dgx-h100 --devices 4 --mem-gib 50 --algo etf
if [ "$(awk '$1 ~ /^[0-3]$/ && $2 > 0 && $4 <= 50 {n++} END {print n + 0}' "$out")" -ge 2 ]; then ok "catalog model on several devices within 50 GiB"; else not_ok "catalog model on several devices within 50 GiB"; fi
expect_bad "catalog model too small" "runs out of memory" place --model llama2-7b --devices 4 --mem-gib 50 --algo single
expect_bad "unit's device full" "its unit is on device [0-3], which has" place --model llama2-7b --system dgx-h100 --devices 4 --mem-gib 40 --algo etf
expect_ok "placement csv" "simulated step" place --graph "$G" --devices 4 --mem-gib 16 --algo expert --csv "$tmp/p.csv"
if [ "$(wc -l <"$tmp/p.csv")" -eq 2495 ] && head -1 "$tmp/p.csv" | grep -q "^id,name,device$"; then ok "csv rows"; else not_ok "csv rows"; fi

expect_bad "impossible memory" "device 0 runs out of memory.*GiB more" place --graph "$G" --devices 4 --mem-gib 1 --algo single --csv "$tmp/no.csv"
if [ ! -e "$tmp/no.csv" ]; then ok "no file on error"; else not_ok "no file on error"; fi
expect_bad "nothing fits" "no device has room" place --graph "$G" --devices 4 --mem-gib 0.01 --algo etf
expect_bad "unknown algo" "unknown algorithm 'fast'" place --graph "$G" --devices 4 --mem-gib 16 --algo fast
expect_bad "bad comm" "linear:LATENCY_US,BYTES_PER_US" place --graph "$G" --devices 4 --mem-gib 16 --comm linear:1
expect_bad "mem count" "one for every device" place --graph "$G" --devices 4 --mem-gib 1,2
expect_bad "no graph" "--graph DIR or --model" place --devices 4 --mem-gib 16
expect_bad "missing dir" "cannot open" place --graph "$tmp/none" --devices 4 --mem-gib 16
mkdir -p "$tmp/g"
printf 'id,name,compute_us,perm_mem_bytes,temp_mem_bytes,output_mem_bytes,colocation_group\n0,a,1,0,0,8,0\n1,b,x,0,0,8,1\n' >"$tmp/g/nodes.csv"
printf 'src,dst,bytes\n0,1,8\n' >"$tmp/g/edges.csv"
expect_bad "text in a number" "nodes.csv: line 3: column 'compute_us' is 'x'" place --graph "$tmp/g" --devices 2 --mem-gib 1
printf 'id,name,compute_us,perm_mem_bytes,temp_mem_bytes,output_mem_bytes,colocation_group\n0,a,1,0,0,8,0\n1,b,1,0,0,8,1\n' >"$tmp/g/nodes.csv"
printf 'src,dst,bytes\n0,1,8\n1,0,8\n' >"$tmp/g/edges.csv"
expect_bad "cycle" "cycle" place --graph "$tmp/g" --devices 2 --mem-gib 1
printf 'src,dst,bytes\n0,5,8\n' >"$tmp/g/edges.csv"
expect_bad "unknown node" "edges.csv: line 2: edge 0 -> 5" place --graph "$tmp/g" --devices 2 --mem-gib 1
printf 'src,bytes\n0,8\n' >"$tmp/g/edges.csv"
expect_bad "missing column" "no column 'dst'" place --graph "$tmp/g" --devices 2 --mem-gib 1

cat >"$tmp/p.lua" <<LUA
local r = place{graph = "$G", devices = 4, mem_gib = 16, algo = "etf"}
print(string.format("lua etf %.3f ms on %d devices", r.step_ms, #r.devices))
local d = place{graph = "$G", devices = 4, mem_gib = 16, algo = "etf", channels = "device"}
print(string.format("lua device channels slower %s, predicted %.3f ms", tostring(d.step_ms > r.step_ms), d.predicted_ms))
LUA
expect_ok "lua place" "lua etf [0-9.]+ ms on 4 devices" run --allow-read "$G" "$tmp/p.lua"
if grep -Eq "lua device channels slower true, predicted [0-9.]+ ms" "$out"; then ok "lua channels"; else not_ok "lua channels"; fi
printf 'place{graph = "%s", devices = 4, mem_gib = 16, channels = "bus"}\n' "$G" >"$tmp/badch.lua"
expect_bad "lua bad channels" "unknown channel model 'bus'" run --allow-read "$G" "$tmp/badch.lua"
printf 'place{graph = "%s", devices = 4, mem_gib = 16, speed = 1}\n' "$G" >"$tmp/bad.lua"
expect_bad "lua unknown key" "bad.lua:1:.*speed" run "$tmp/bad.lua"
expect_ok "bench place" "speed-up" bench place --repeat 1
tap_finish
