#!/usr/bin/env bash
# Chakra execution traces through the command: estimate --chakra-out then
# replay (the same iteration time), replay on another system, its timeline,
# bad traces (exit 2, file and node named, nothing written), and traces
# written by Chakra's own converter (mlc-chakra, from the set-up's virtual
# environment in $CHAKRA_VENV; skipped, saying why, where it did not install).
source "$(dirname "$0")/lib.sh" "$1"
here=$(cd "$(dirname "$0")" && pwd)

# field NAME CSVFILE: the named column of the first data row.
field() {
    python3 - "$1" "$2" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[2])))
print(rows[0][sys.argv[1]] if rows else "")
PY
}

# within A B REL: |A - B| <= REL * |B|
within() { python3 -c "import sys; a, b, r = map(float, sys.argv[1:]); sys.exit(0 if abs(a - b) <= r * abs(b) else 1)" "$@"; }

expect_ok "replay --help" "usage: clustersim replay --chakra DIR" replay --help

job=(--system dgx-a100-80g --gpus 16 --model megatron-1.7b --tp 2 --pp 2 --mbs 1 --gbs 32 --zero 1)
if "$bin" estimate "${job[@]}" --ranks all --format csv --chakra-out "$tmp/rt" >"$tmp/est.csv" 2>"$errf" &&
   [ -f "$tmp/rt/iteration.15.et" ] && [ -f "$tmp/rt/comm_group.json" ] &&
   python3 -c "import json,sys; g=json.load(open(sys.argv[1])); sys.exit(0 if g and all(len(v) > 1 for v in g.values()) else 1)" "$tmp/rt/comm_group.json"
then ok "estimate --chakra-out writes a trace per rank and the communicator groups"
else not_ok "estimate --chakra-out writes a trace per rank and the communicator groups"; fi

"$bin" replay --chakra "$tmp/rt" --system dgx-a100-80g --format csv >"$tmp/rep.csv" 2>"$errf"
est_s=$(field iteration_s "$tmp/est.csv")
rep_s=$(field iteration_s "$tmp/rep.csv")
echo "# estimate --ranks all: $est_s s; replay of its Chakra traces: $rep_s s"
if [ -n "$rep_s" ] && within "$rep_s" "$est_s" 0.001; then ok "round trip: replay gives estimate's iteration time within 0.1%"
else not_ok "round trip: replay gives estimate's iteration time within 0.1%"; fi

"$bin" estimate "${job[@]}" --format csv >"$tmp/folded.csv" 2>"$errf"
# folded and every-rank simulation agree within 0.2% on 2-node cases (docs/estimate.md)
if within "$rep_s" "$(field iteration_s "$tmp/folded.csv")" 0.002; then ok "round trip: and the folded simulation's within 0.2%"
else not_ok "round trip: and the folded simulation's within 0.2%"; fi

expect_ok "replay's table: iteration and a row per rank" "^iteration +[0-9.]+ s" \
    replay --chakra "$tmp/rt/iteration" --system dgx-a100-80g --ranks all
if [ "$(grep -cE '^ +[0-9]+ +[0-9.]+' "$out")" -eq 16 ]; then ok "replay --ranks all prints 16 ranks"
else not_ok "replay --ranks all prints 16 ranks"; fi

# The same traces on H100s: recorded compute, faster links.
"$bin" replay --chakra "$tmp/rt" --system dgx-h100 --gpus 32 --format csv >"$tmp/h100.csv" 2>"$errf"
h100_s=$(field iteration_s "$tmp/h100.csv")
echo "# on dgx-h100, 32 GPUs: $h100_s s"
if [ -n "$h100_s" ] && python3 -c "import sys; sys.exit(0 if 0 < float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$h100_s" "$rep_s"
then ok "traces of 16 ranks replay on another system, faster links, shorter iteration"
else not_ok "traces of 16 ranks replay on another system, faster links, shorter iteration"; fi

if "$bin" replay --chakra "$tmp/rt" --system dgx-a100-80g --out "$tmp/tl" >"$out" 2>"$errf" &&
   python3 "$here/check_trace.py" "$tmp/tl/timeline.json" >"$errf" 2>&1
then ok "replay --out writes a Perfetto timeline"
else not_ok "replay --out writes a Perfetto timeline"; fi

# ---- bad input ---------------------------------------------------------------------
expect_bad "replay without --chakra" "--chakra DIR is required" replay --system dgx-h100
expect_bad "a folder without traces" "no Chakra trace files" replay --chakra "$tmp" --system dgx-h100
expect_bad "fewer GPUs than ranks" "16 ranks, but the job has 8 GPUs" \
    replay --chakra "$tmp/rt" --system dgx-h100 --gpus 8

mkdir -p "$tmp/bad"
cp "$tmp/rt"/iteration.*.et "$tmp/bad/"
size=$(stat -c %s "$tmp/bad/iteration.3.et")
head -c $((size - 5)) "$tmp/rt/iteration.3.et" >"$tmp/bad/iteration.3.et"
expect_bad "a truncated trace names the file and the node before the damage" \
    "iteration\.3\.et: truncated node after node [0-9]+" \
    replay --chakra "$tmp/bad" --system dgx-a100-80g --out "$tmp/never"
if [ ! -e "$tmp/never" ]; then ok "a bad trace writes nothing"; else not_ok "a bad trace writes nothing"; fi
rm "$tmp/bad/iteration.3.et"
expect_bad "a missing rank file is named" "iteration\.3\.et: missing: .*rank 3 has no file" \
    replay --chakra "$tmp/bad" --system dgx-a100-80g
cp "$tmp/rt/iteration.3.et" "$tmp/bad/"
rm "$tmp/bad/iteration.15.et"
expect_bad "a send to a rank whose file is gone names file and node" \
    "iteration\.[0-9]+\.et: node [0-9]+: peer rank 15: the traces have ranks 0 to 14" \
    replay --chakra "$tmp/bad" --system dgx-a100-80g
printf 'DATA\n1\n' >"$tmp/bad/iteration.15.et"
expect_bad "a file that is not a Chakra trace" "iteration\.15\.et: " \
    replay --chakra "$tmp/bad" --system dgx-a100-80g
touch "$tmp/a_file"
expect_bad "estimate --chakra-out into a file" "a_file" \
    estimate "${job[@]}" --chakra-out "$tmp/a_file"

# ---- traces from Chakra's own converter --------------------------------------------
conv=${CHAKRA_VENV:-}/bin/chakra_converter
if [ -z "${CHAKRA_VENV:-}" ] || [ ! -x "$conv" ]; then
    why="mlc-chakra's converter is not installed"
    [ -n "${CHAKRA_VENV:-}" ] && [ -s "$CHAKRA_VENV.log" ] && why="$why: $(tail -1 "$CHAKRA_VENV.log")"
    for name in "Chakra's own reader decodes the exported traces" "Chakra's Text converter" \
                "Chakra's PyTorch converter"; do
        tap_n=$((tap_n + 1)); echo "ok $tap_n - $name # SKIP $why"
    done
else
    # Chakra's own reader (protolib and et_def_pb2) on the exported traces, with the
    # attribute kinds ASTRA-sim's feeder reads (et_feeder_node.cpp).
    if "$CHAKRA_VENV/bin/python" - "$tmp/rt" >"$errf" 2>&1 <<'PY'
import glob, json, sys
from chakra.schema.protobuf.et_def_pb2 import (GlobalMetadata, Node, COMP_NODE, COMM_COLL_NODE,
                                               COMM_SEND_NODE, COMM_RECV_NODE)
from chakra.src.third_party.utils.protolib import openFileRd, decodeMessage
groups = json.load(open(sys.argv[1] + "/comm_group.json"))
kinds = {"is_cpu_op": "bool_val", "comm_type": "int64_val", "comm_size": "int64_val",
         "comm_src": "int32_val", "comm_dst": "int32_val", "comm_tag": "int32_val", "pg_name": "string_val"}
files = sorted(glob.glob(sys.argv[1] + "/iteration.*.et"))
assert len(files) == 16, files
for path in files:
    rank = int(path.split(".")[-2])
    f = openFileRd(path)
    meta = GlobalMetadata()
    assert decodeMessage(f, meta)
    nodes = []
    while True:
        n = Node()
        if not decodeMessage(f, n):
            break
        nodes.append(n)
    ids = {n.id for n in nodes}
    assert len(ids) == len(nodes), path
    for n in nodes:
        attrs = {a.name: a for a in n.attr}
        for name, kind in kinds.items():
            assert name not in attrs or attrs[name].WhichOneof("value") == kind, (path, n.id, name)
        assert attrs["is_cpu_op"].bool_val is False, (path, n.id)
        assert all(d in ids for d in n.data_deps), (path, n.id)
        if n.type == COMP_NODE:
            assert n.duration_micros > 0 or attrs["duration_ps"].uint64_val < 500000, (path, n.id)
        elif n.type == COMM_COLL_NODE:
            assert rank in groups[attrs["pg_name"].string_val], (path, n.id)
            assert attrs["comm_size"].int64_val > 0, (path, n.id)
        else:
            assert n.type in (COMM_SEND_NODE, COMM_RECV_NODE), (path, n.id, n.type)
            end = "comm_src" if n.type == COMM_SEND_NODE else "comm_dst"
            assert attrs[end].int32_val == rank, (path, n.id)
print(len(files), "files")
PY
    then ok "Chakra's own reader decodes the exported traces, attributes as ASTRA-sim reads them"
    else not_ok "Chakra's own reader decodes the exported traces, attributes as ASTRA-sim reads them"; fi

    # ASTRA-sim's text workload: data parallel, two layers, times in microseconds.
    cat >"$tmp/dp.txt" <<'EOF'
DATA
2
l0 -1 100 NONE 0 80 NONE 0 90 ALLREDUCE 1048576 10
l1 -1 200 NONE 0 150 NONE 0 170 ALLREDUCE 2097152 10
EOF
    mkdir -p "$tmp/text"
    (cd "$tmp" && "$conv" --log-filename "$tmp/conv.log" Text --input dp.txt --output text/dp \
        --num-npus 4 --num-passes 1 >/dev/null 2>&1)
    "$bin" replay --chakra "$tmp/text" --system dgx-h100 --format csv >"$tmp/text.csv" 2>"$errf"
    "$bin" collective --system dgx-h100 --gpus 4 --op allreduce --min 1M --max 1M --mode sim \
        --format csv >"$tmp/c1.csv" 2>>"$errf"
    # Critical path: fwd 100 + 200, wg 170, ig 150, wg 90 = 710 us, then layer 0's 1 MiB all-reduce
    # (layer 1's 2 MiB one runs meanwhile and is over long before).
    want=$(python3 -c "import sys; print(710e-6 + float(sys.argv[1]) * 1e-6)" "$(field time_us "$tmp/c1.csv")")
    got=$(field iteration_s "$tmp/text.csv")
    echo "# Chakra Text converter, 4 ranks on dgx-h100: $got s (hand: $want s)"
    if [ -n "$got" ] && within "$got" "$want" 0.0001; then ok "Chakra's Text converter"
    else not_ok "Chakra's Text converter"; fi

    # A PyTorch execution trace (Chakra host + device JSON) of two ranks: a
    # matrix multiply and an all-reduce of 4 MiB over process group "0".
    for rank in 0 1; do
        python3 - "$tmp/pt.$rank.json" "$rank" <<'PY'
import json, sys
def node(i, name, parent, dur, **kw):
    attrs = [{"name": k, "type": "int", "value": 0} for k in ("rf_id", "fw_parent", "seq_id", "scope", "tid", "fw_tid")]
    attrs.append({"name": "op_schema", "type": "string", "value": ""})
    n = {"id": i, "name": name, "ctrl_deps": parent, "exclusive_dur": dur, "inclusive_dur": dur,
         "inputs": {"values": [], "shapes": [], "types": []}, "outputs": {"values": [], "shapes": [], "types": []},
         "attrs": attrs}
    n.update(kw)
    return n
tensor = {"values": [[7, 7, 0, 1048576, 4, "cuda:0"]], "shapes": [[1048576]], "types": ["Tensor(float)"]}
nodes = [node(1, "[pytorch|profiler|execution_trace|thread]", 0, 0),
         node(2, "aten::mm", 1, 20),
         node(3, "ampere_sgemm_128x64_nn", 2, 500, cat="kernel", stream=7),
         node(4, "nccl:all_reduce", 1, 10),
         node(5, "record_param_comms", 4, 5, pg_name="0"),
         node(6, "ncclDevKernel_AllReduce_Sum_f32_RING_LL", 5, 300, cat="kernel", stream=20,
              pg_name="0", inputs=tensor)]
json.dump({"schema": "1.0.2-chakra.0.0.4", "pid": 1000 + int(sys.argv[2]), "time": "2024-01-01",
           "start_ts": 0, "finish_ts": 1000, "nodes": nodes}, open(sys.argv[1], "w"))
PY
        mkdir -p "$tmp/pt"
        "$conv" --log-filename "$tmp/conv.log" PyTorch --input "$tmp/pt.$rank.json" \
            --output "$tmp/pt/pt.$rank.et" >/dev/null 2>&1
    done
    if "$bin" replay --chakra "$tmp/pt" --system dgx-h100 >"$out" 2>"$errf" &&
       grep -Eq "^collectives +1$" "$out" && grep -Eq "^iteration +0\.000[5-9]" "$out"
    then ok "Chakra's PyTorch converter"; else sed 's/^/#   /' "$out" | head -12; not_ok "Chakra's PyTorch converter"; fi
fi

tap_finish
