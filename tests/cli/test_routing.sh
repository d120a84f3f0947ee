#!/usr/bin/env bash
# Integration tests of a network's routing (issue 15): dgx-a100-80g is a DGX
# SuperPOD (rail-optimized, InfiniBand routed by destination) and says so with
# its sources; a scenario can choose the ECMP hash instead, which collides on
# a fat-tree's spines and makes the data-parallel rings slower; a routing
# that does not exist is a clear error (exit 2, nothing left behind).  TAP.
set -u
source "$(dirname "$0")/lib.sh" "$1"
sc=$tmp

expect_ok "system dgx-a100-80g: rail-optimized, from the SuperPOD reference architecture" \
    "source: NVIDIA DGX SuperPOD with DGX A100 reference architecture \(RA-09950-001" \
    system dgx-a100-80g --nodes 40
expect_ok "system dgx-a100-80g: routed by destination, with its source" \
    "^routing +destination$" system dgx-a100-80g --nodes 40
# The other InfiniBand systems (issue 20): by destination, each with the
# source it rests on (adaptive routing documented on the SuperPOD H100's UFM;
# forwarding tables alone where no engine is documented).
for sysname in dgx-h100 dgx-h200 dgx-h800 dgx2-v100; do
    expect_ok "system $sysname: routed by destination" "^routing +destination$" \
        system $sysname --nodes 4
done
expect_ok "system dgx-h100: adaptive routing documented, the closest rule chosen" \
    "source: adaptive routing is on by default in NVIDIA's subnet manager" system dgx-h100 --nodes 4
expect_ok "system dgx-h800: forwarding by destination LID, nothing more documented" \
    "source: InfiniBand across nodes \\(DeepSeek-V3 report" system dgx-h800 --nodes 4

# megatron-18.4b (tp 8, dp 32) on 32 nodes of a fat-tree: under the hash the
# 8 rings of every step collide on spine links; by destination they do not.
printf '%s\n' 'local function it(routing)' \
    '  local s = system{base = "dgx-a100-80g", nodes = 32, network = "fat-tree", routing = routing}' \
    '  return s, estimate{system = s, model = "megatron-18.4b", tp = 8, mbs = 1, gbs = 64,' \
    '                     framework = "megatron-2021", dtype = "fp16"}' \
    'end' \
    'local s1, a = it("ecmp")' \
    'local s2, b = it("dest")' \
    'print(s1.routing, s2.routing, a.iteration_s > b.iteration_s * 1.2)' >"$sc/routing.lua"
expect_ok "Lua system{routing}: ECMP collisions cost the rings over 20%" \
    "^ecmp	destination	true$" run --out "$sc/o" "$sc/routing.lua"

printf 'system{base = "dgx-a100-80g", nodes = 2, routing = "adaptive"}\n' >"$sc/bad.lua"
rm -rf "$sc/out"
expect_bad "Lua system{routing} unknown names the valid ones" \
    "bad.lua:1: system: .*adaptive.*ecmp.*destination" run --out "$sc/out" "$sc/bad.lua"
if [ -e "$sc/out" ]; then not_ok "unknown routing: nothing left behind"
else ok "unknown routing: nothing left behind"; fi

# A torus has no forwarding tables: a base's destination routing does not
# carry over to it, and asking for it on a torus is an error (it was printed
# and then ignored by the router).
printf '%s\n' 'print(system{base = "dgx-h100", nodes = 8, network = "torus3d"}.routing)' >"$sc/torus.lua"
expect_ok "Lua system{network = torus3d} on a destination-routed base: ecmp" "^ecmp$" \
    run --out "$sc/o2" "$sc/torus.lua"
printf 'system{base = "dgx-h100", nodes = 8, network = "torus3d", routing = "destination"}\n' \
    >"$sc/badtorus.lua"
expect_bad "Lua routing destination on a torus: named as the cause" \
    "badtorus.lua:1: system: .*routing 'destination' needs a switched network.*not torus3d" \
    run --out "$sc/o3" "$sc/badtorus.lua"

tap_finish
