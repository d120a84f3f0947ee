#!/usr/bin/env bash
# Integration tests of `clustersim faults` beyond one failure rate: classes,
# spares, replayed logs, checkpoints from a layout, the job's picture, and
# the bad input each of those can get.  TAP.
set -u
source "$(dirname "$0")/lib.sh" "$1"

csv_field() { # FILE COLUMN: the first row's value
    python3 -c 'import csv,sys; print(next(csv.DictReader(open(sys.argv[1])))[sys.argv[2]])' "$1" "$2"
}
l3=(faults --gpus 16384 --days 54 --system dgx-h100 --fault-model llama3 --checkpoint-s 120 --runs 40)

expect_ok "faults --help names the classes" "gpu_memory" faults --help
expect_ok "llama3 fault model: interruptions by class" "by class +gpu [0-9.]+ gpu_memory" "${l3[@]}"
"$bin" "${l3[@]}" --format csv >"$tmp/l3.csv" 2>"$errf"
n=$(csv_field "$tmp/l3.csv" interruptions_mean)
if awk -v n="$n" 'BEGIN {exit !(n > 405 && n < 433)}'; then ok "llama3 fault model: $n interruptions (419 in 54 days)"
else not_ok "llama3 fault model: $n interruptions (419 in 54 days)"; fi
expect_ok "--rate overrides one class" "by class +gpu [0-9.]+ gpu_memory [0-9.]+ nic [0-9.]+" \
    "${l3[@]}" --rate nic=1e-5
expect_ok "--rate alone fails only that class" "by class +gpu [0-9.]+$" \
    faults --gpus 1024 --days 10 --system dgx-h100 --rate gpu=1e-5 --checkpoint-s 60 --runs 10

# spares: none, and a slow repair, cost goodput; the wait is reported
"$bin" "${l3[@]}" --format csv --spares 0 --repair-h 2 >"$tmp/none.csv" 2>"$errf"
a=$(csv_field "$tmp/l3.csv" goodput_mean); b=$(csv_field "$tmp/none.csv" goodput_mean)
w=$(csv_field "$tmp/none.csv" spare_wait_hours_mean)
if awk -v a="$a" -v b="$b" -v w="$w" 'BEGIN {exit !(b < a - 0.05 && w > 100)}'; then
    ok "no spares, 2 h repairs: goodput $b against $a, $w h waiting"
else not_ok "no spares, 2 h repairs: goodput $b against $a, $w h waiting"; fi
expect_ok "spares are printed" "8 hot spare nodes, repair 24 h" "${l3[@]}" --spares 8

# a replayed log, worked by hand (see test_goodput log_replay_by_hand)
printf '# two interruptions\ntime_s,component,kind\n2500,node3/gpu1,gpu\n6000,,planned\n' >"$tmp/log.csv"
rargs=(faults --gpus 8 --days 1 --log "$tmp/log.csv" --interval-s 1000 --checkpoint-s 100
       --detect-s 0 --restart-s 500 --reload-s 0 --format csv)
expect_ok "log replay: 1 failure, 1 planned, 0.306 h lost" "^1,1.000,0.000,[0-9.]+,0.000000,1000.0,0.306,.*,1.000," "${rargs[@]}"
printf 'time_h,kind,component,note\n0.5,software,rank7,hang\n' >"$tmp/logh.csv"
expect_ok "log in hours with extra columns" "interruptions +1.0" \
    faults --gpus 8 --days 1 --log "$tmp/logh.csv" --checkpoint-s 100

# bad logs: the file, the line, the cause; exit 2
bad_log() { # NAME PATTERN CONTENT
    printf '%b' "$3" >"$tmp/bad.csv"
    expect_bad "$1" "$2" faults --gpus 8 --days 1 --log "$tmp/bad.csv" --checkpoint-s 100
}
bad_log "log times going backwards" "bad.csv: line 3: time 10 goes backwards" 'time_h,component,kind\n20,a,gpu\n10,b,gpu\n'
bad_log "log unknown kind" "bad.csv: line 2: kind 'cosmic' is not a component class" 'time_h,component,kind\n1,a,cosmic\n'
bad_log "log missing column" "bad.csv: line 1: the header needs the columns time_h" 'time_h,kind\n1,gpu\n'
bad_log "log text in a time" "bad.csv: line 2: time 'soon' is not a number" 'time_h,component,kind\nsoon,a,gpu\n'
bad_log "log negative time" "bad.csv: line 2: time '-1'" 'time_h,component,kind\n-1,a,gpu\n'
bad_log "log empty" "bad.csv: empty" ''
expect_bad "log missing file" "cannot open" faults --gpus 8 --days 1 --log "$tmp/missing.csv" --checkpoint-s 10

# bad rates and flags
expect_bad "negative rate" "--rate: -1e-5 must be" faults --gpus 8 --days 1 --system dgx-h100 --rate gpu=-1e-5 --checkpoint-s 10
expect_bad "zero rate" "--rate: 0 must be" faults --gpus 8 --days 1 --system dgx-h100 --rate gpu=0 --checkpoint-s 10
expect_bad "zero failures per GPU-day" "--failures-per-gpu-day" faults --gpus 8 --days 1 --failures-per-gpu-day 0 --checkpoint-s 10
expect_bad "unknown class" "'dimm' is not a component class" faults --gpus 8 --days 1 --system dgx-h100 --rate dimm=1e-5 --checkpoint-s 10
expect_bad "rate without CLASS=" "is not CLASS=RATE" faults --gpus 8 --days 1 --system dgx-h100 --rate 1e-5 --checkpoint-s 10
expect_bad "rates need a system" "give --system NAME" faults --gpus 8 --days 1 --rate gpu=1e-5 --checkpoint-s 10
expect_bad "failures two ways" "give the failures one way" faults --gpus 8 --days 1 --system dgx-h100 --rate gpu=1e-5 --failures-per-gpu-day 0.1 --checkpoint-s 10
expect_bad "unknown fault model" "'meta' is not a fault model" faults --gpus 8 --days 1 --system dgx-h100 --fault-model meta --checkpoint-s 10
expect_bad "negative spares" "--spares" faults --gpus 8 --days 1 --failures-per-gpu-day 0.1 --checkpoint-s 10 --spares -2
expect_bad "checkpoint given twice" "not both" faults --gpus 8 --days 1 --failures-per-gpu-day 0.1 --checkpoint-s 10 --system dgx-h100 --model llama2-7b --mbs 1 --gbs 8

# the checkpoint from a layout: 14 bytes per parameter, tokens trained
lay=(faults --gpus 16128 --days 54 --system dgx-h100 --fault-model llama3 --model llama3-405b
     --tp 8 --pp 14 --mbs 1 --gbs 2016 --runs 10)
expect_ok "layout: checkpoint size from the model" "checkpoint 568[0-9]\.[0-9] GB" "${lay[@]}"
expect_ok "layout: tokens trained" "^tokens trained" "${lay[@]}" --checkpoint async
"$bin" "${lay[@]}" --format csv >"$tmp/sync.csv" 2>"$errf"
"$bin" "${lay[@]}" --format csv --checkpoint async >"$tmp/async.csv" 2>"$errf"
a=$(csv_field "$tmp/sync.csv" tokens_mean); b=$(csv_field "$tmp/async.csv" tokens_mean)
if awk -v a="$a" -v b="$b" 'BEGIN {exit !(a > 1e12 && b > a)}'; then ok "layout: async trains more tokens ($b > $a)"
else not_ok "layout: async trains more tokens ($b > $a)"; fi
expect_bad "layout that does not divide" "not divisible by pp 16" faults --gpus 16384 --days 1 --system dgx-h100 \
    --fault-model llama3 --model llama3-405b --tp 8 --pp 16 --mbs 1 --gbs 2048

# the picture of one job
expect_ok "--svg writes the job's picture" "goodput" "${l3[@]}" --svg "$tmp/job.svg"
check_svg "the job's picture renders" "$tmp/job.svg"
rows=$(grep -o 'day [0-9]*<' "$tmp/job.svg" | wc -l)
if [ "$rows" -eq 54 ]; then ok "the job's picture has a row per day"; else not_ok "the job's picture has $rows rows, not 54"; fi
touch "$tmp/afile"
expect_bad "--svg into a folder that is a file" "is a file, not a folder" "${l3[@]}" --svg "$tmp/afile/job.svg"
a=$("$bin" "${rargs[@]}" | md5sum); b=$("$bin" "${rargs[@]}" | md5sum)
if [ "$a" = "$b" ]; then ok "replay is deterministic"; else not_ok "replay is deterministic"; fi

# search --objective goodput: ranked by tokens per day under failures
sargs=(search --system dgx-a100-80g --gpus 1024 --model gpt3-175b --gbs 1536 --top 5 --objective goodput)
expect_ok "search --objective goodput prints tokens/day" "tokens/day" "${sargs[@]}"
"$bin" "${sargs[@]}" --format csv >"$tmp/s.csv" 2>"$errf"
"$bin" "${sargs[@]}" --format csv --storage-gbs 20 >"$tmp/slow.csv" 2>"$errf"
if python3 - "$tmp/s.csv" "$tmp/slow.csv" >"$errf" 2>&1 <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
slow = list(csv.DictReader(open(sys.argv[2])))
tpd = [float(r["tokens_per_day"]) for r in rows]
assert len(rows) == 5 and tpd == sorted(tpd, reverse=True), tpd
for r in rows:  # tokens/day = simulated tokens/s x 86400 x goodput
    assert abs(float(r["tokens_per_day"]) / (float(r["tokens_per_s"]) * 86400 * float(r["goodput"])) - 1) < 1e-4, r
assert float(slow[0]["goodput"]) < float(rows[0]["goodput"]) - 0.01, (slow[0], rows[0])
PY
then ok "search goodput: ranked by tokens/day; slower storage costs goodput"
else not_ok "search goodput: ranked by tokens/day; slower storage costs goodput"; fi
expect_bad "search --checkpoint memory is not offered" "'memory' is not one of sync, async" "${sargs[@]}" --checkpoint memory
expect_bad "search zero failure rate" "--failures-per-gpu-day" "${sargs[@]}" --failures-per-gpu-day 0

# stragglers: every rank simulated, the distribution, who held the others up
st=(stragglers --system dgx-h100 --gpus 32 --model llama2-7b --tp 4 --pp 2 --mbs 1 --gbs 32)
expect_ok "stragglers --help" "held the others up" stragglers --help
expect_ok "stragglers: a slow GPU is named" "held up by +GPU 5 \\(stage 0, tp 1, dp 1\\): 5; none: 10" \
    "${st[@]}" --slow gpu:5:1.5:3-7 --slow link:2:4:10-12 --iterations 15
"$bin" "${st[@]}" --slow gpu:5:2:2-3 --iterations 6 --format csv >"$tmp/st.csv" 2>"$errf"
if python3 - "$tmp/st.csv" >"$errf" 2>&1 <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [int(r["held_up_by"]) for r in rows] == [-1, -1, 5, 5, -1, -1], rows
slow = rows[2]
assert abs(float(slow["its_compute_s"]) / float(slow["its_unslowed_compute_s"]) - 2) < 1e-4, slow
assert float(slow["vs_baseline_percent"]) > 20 and float(rows[0]["vs_baseline_percent"]) == 0, rows
PY
then ok "stragglers csv: half speed doubles that GPU's compute, only in its iterations"
else not_ok "stragglers csv: half speed doubles that GPU's compute, only in its iterations"; fi
a=$("$bin" "${st[@]}" --slow-prob 0.05 --seed 3 --iterations 5 --format csv | md5sum)
b=$("$bin" "${st[@]}" --slow-prob 0.05 --seed 3 --iterations 5 --format csv | md5sum)
if [ "$a" = "$b" ]; then ok "random stragglers: the same seed, the same iterations"; else not_ok "random stragglers: the same seed, the same iterations"; fi
expect_bad "stragglers: rank out of range" "GPU 32 does not exist; the job has 32" "${st[@]}" --slow gpu:32:2
expect_bad "stragglers: bad spec" "'disk' is not gpu or link" "${st[@]}" --slow disk:1:2
expect_bad "stragglers: factor below 1" "factor must be a number >= 1" "${st[@]}" --slow gpu:1:0.5
expect_bad "stragglers: probability above 1" "is not a probability" "${st[@]}" --slow-prob 2
expect_bad "stragglers: node out of range" "node 9 does not exist" "${st[@]}" --slow link:9:2

# stragglers{} in Lua: the same job gives the CLI's figures, to the digit both print
sl=(--slow gpu:5:1.5:3-7 --slow link:2:4:10-12 --slow-prob 0.02 --seed 4 --iterations 15)
"$bin" "${st[@]}" "${sl[@]}" >"$tmp/st.txt" 2>"$errf"
"$bin" "${st[@]}" "${sl[@]}" --format csv >"$tmp/st.csv" 2>>"$errf"
cat >"$tmp/st.lua" <<'LUA'
local r = stragglers{system = "dgx-h100", gpus = 32, model = "llama2-7b", tp = 4, pp = 2, mbs = 1,
                     gbs = 32, slow = {{gpu = 5, factor = 1.5, from = 3, to = 7},
                                       {link = 2, factor = 4, from = 10, to = 12}},
                     slow_prob = 0.02, seed = 4, iterations = 15}
print(string.format("baseline        %.4f s (no straggler)", r.baseline_s))
print(string.format("iteration time  min %.4f  median %.4f  p90 %.4f  max %.4f  mean %.4f s",
                    r.min_s, r.median_s, r.p90_s, r.max_s, r.mean_s))
for _, c in ipairs(r.held_up_by) do
  print(string.format("held GPU %d (stage %d, tp %d, dp %d): %d;", c.gpu, c.stage, c.tp, c.dp,
                      c.iterations))
end
print("none " .. r.held_up_by.none)
for _, it in ipairs(r.iterations) do
  print(string.format("row %d,%.6f,%d,%d,%d", it.iteration, it.step_s, it.gpus_slowed,
                      it.links_slowed, it.held_up_by))
end
LUA
"$bin" run --out "$tmp/so" "$tmp/st.lua" >"$tmp/st_lua.txt" 2>>"$errf"
if python3 - "$tmp/st.txt" "$tmp/st.csv" "$tmp/st_lua.txt" >>"$errf" 2>&1 <<'PY'
import csv, sys
cli = open(sys.argv[1]).read().splitlines()
rows = list(csv.DictReader(open(sys.argv[2])))
lua = open(sys.argv[3]).read().splitlines()
assert lua[0] == cli[1], (lua[0], cli[1])                 # baseline
assert cli[2].startswith(lua[1]), (lua[1], cli[2])         # min median p90 max mean
held = [l[5:] for l in lua if l.startswith("held ")]      # who held the others up: the CLI
more = sum(int(h.split(": ")[1][:-1]) for h in held[5:])   # names five, then counts the rest
line = " ".join(["held up by     "] + held[:5] + (["%d more ranks: %d;" % (len(held) - 5, more)]
                                                   if len(held) > 5 else []))
none = [l for l in lua if l.startswith("none ")][0].split()[1]
assert cli[3] == line + " none: %s (iterations)" % none, (line, cli[3])
want = ["row %s,%s,%s,%s,%s" % (r["iteration"], r["time_s"], r["gpus_slowed"], r["links_slowed"],
                                r["held_up_by"]) for r in rows]
assert [l for l in lua if l.startswith("row ")] == want, (lua, want)
assert len(want) == 15 and any(r["held_up_by"] == "5" for r in rows), rows
PY
then ok "stragglers{} gives the CLI's baseline, median, p90, culprits and every iteration"
else not_ok "stragglers{} gives the CLI's baseline, median, p90, culprits and every iteration"; fi
# bad_strag NAME PATTERN FIELDS: stragglers{} on the job with FIELDS added exits 2 naming the cause
bad_strag() {
    printf 'stragglers{system = "dgx-h100", gpus = 32, model = "llama2-7b", tp = 4, pp = 2, mbs = 1, gbs = 32, %s}\n' \
        "$3" >"$tmp/b.lua"
    expect_bad "$1" "$2" run --out "$tmp/bo" "$tmp/b.lua"
}
bad_strag "stragglers{} unknown key" "b.lua:1: stragglers: unknown key 'slow_gpu'" 'slow_gpu = 5'
bad_strag "stragglers{} unknown key in a straggler" "stragglers: slow\[1\]: unknown key 'rank'" \
    'slow = {{rank = 5, factor = 2}}'
bad_strag "stragglers{} factor 0" "stragglers: slow\[1\]: factor 0 is below 1" 'slow = {{gpu = 5, factor = 0}}'
bad_strag "stragglers{} factor missing" "slow\[1\]: 'factor' is required" 'slow = {{gpu = 5}}'
bad_strag "stragglers{} rank out of range" "slow\[2\]: GPU 32 does not exist; the job has 32" \
    'slow = {{gpu = 1, factor = 2}, {gpu = 32, factor = 2}}'
bad_strag "stragglers{} node out of range" "slow\[1\]: node 4 does not exist; the job has 4" \
    'slow = {{link = 4, factor = 2}}'
bad_strag "stragglers{} from after to" "slow\[1\]: from 7 is after to 3" \
    'slow = {{gpu = 5, factor = 2, from = 7, to = 3}}'
bad_strag "stragglers{} gpu and link both" "slow\[1\]: give one of 'gpu'" 'slow = {{gpu = 5, link = 1, factor = 2}}'
bad_strag "stragglers{} probability above 1" "stragglers: 'slow_prob' is 2" 'slow_prob = 2'
bad_strag "stragglers{} no iterations" "stragglers: 'iterations' is 0" 'iterations = 0'

# the Lua faces: goodput{} by class with spares and a picture, estimate{}.checkpoint
cat >"$tmp/g.lua" <<'LUA'
local c = estimate{system = "dgx-h100", gpus = 64, model = "llama2-7b", tp = 8, mbs = 1, gbs = 64,
                   mode = "analytic", storage_gbs = 100}.checkpoint
assert(math.abs(c.total_gb / (6738415616 * 14 / 1e9) - 1) < 0.001, c.total_gb)
local g = goodput{system = "dgx-h100", gpus = 16384, days = 10, fault_model = "llama3",
                  rates = {nic = 1e-6}, checkpoint_s = c.sync_s, spares = 2, repair_h = 12,
                  runs = 20, svg = "job.svg"}
print(string.format("%.1f %.1f %.1f", g.interruptions_mean, g.by_class.nic, g.spare_wait_hours_mean))
LUA
expect_ok "goodput{} by class with spares" "^[0-9.]+ [0-9.]+ [0-9.]+$" run --out "$tmp/lo" "$tmp/g.lua"
check_svg "goodput{} svg renders" "$tmp/lo/job.svg"
printf 'goodput{system = "dgx-h100", gpus = 64, days = 1, rates = {dimm = 1}, checkpoint_s = 1}\n' >"$tmp/b.lua"
expect_bad "goodput{} unknown class" "b.lua:1: goodput: rates: 'dimm' is not a component class" run --out "$tmp/bo" "$tmp/b.lua"
printf 'goodput{system = "dgx-h100", gpus = 64, days = 1, rates = {gpu = 0}, checkpoint_s = 1}\n' >"$tmp/b.lua"
expect_bad "goodput{} zero rate" "rates.gpu must be a positive number" run --out "$tmp/bo" "$tmp/b.lua"

tap_finish
