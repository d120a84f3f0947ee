# CLI tests: NAME:nvme=N on every --system (issue 17 review): a drive-sweep row of
# `validate offload` reruns by hand through estimate with the same figure; system,
# search, collective and Lua take the spec; a malformed spec exits 2 naming the spec
# and the rule, writing nothing; the carried CPU rates print their kind and range.
source "$(dirname "$0")/lib.sh" "$1"

expect_ok "system NAME:nvme=N names the spec" "^system +fuyou-server:nvme=3$" \
    system fuyou-server:nvme=3
expect_ok "system NAME:nvme=N counts N drives at the datasheet rates" \
    "^nvme +3 x 3\.84 TB, read 6\.5 GB/s, write 3\.4 GB/s each \(19\.5 / 10\.2 GB/s" \
    system fuyou-server:nvme=3

# Fuyou's Fig. 10(b) row with 3 SSDs (validate/offload_papers.csv), by hand
ssd3="--system fuyou-server:nvme=3 --gpus 1 --layers 40 --hidden 5120 --heads 40 --seq 1024
      --vocab 50257 --mbs 32 --gbs 32 --recompute full --zero 0 --offload all --offload-to nvme
      --offload-engine fuyou --framework megatron-core --attention flash"
row=$("$bin" validate offload | awk '$1 == "fuyou-13b-b32-ssd3" { print $7 }')
# shellcheck disable=SC2086
hand=$("$bin" estimate $ssd3 | awk '$1 == "iteration" { print $2 }')
if [ -n "$row" ] && [ -n "$hand" ] &&
   awk -v a="$row" -v b="$hand" 'BEGIN { d = a - b; exit !(d * d < 1e-6) }'; then ok "estimate reruns validate's 3-SSD row ($hand s)"
else not_ok "estimate reruns validate's 3-SSD row (validate $row s, estimate $hand s)"; fi
# shellcheck disable=SC2086
twelve=$("$bin" estimate ${ssd3/nvme=3/nvme=12} | awk '$1 == "iteration" { print $2 }')
if [ -n "$twelve" ] && awk -v a="$twelve" -v b="$hand" 'BEGIN { exit !(a < b) }'
then ok "twelve drives beat three ($twelve s < $hand s)"
else not_ok "twelve drives beat three ($twelve s vs $hand s)"; fi

expect_ok "search takes NAME:nvme=N" "^ +1 +tp1 pp1 dp1 .*offload-all-nvme" \
    search --system rtx4090-box:nvme=1 --gpus 1 --model llama2-7b --gbs 8 --top 1 \
    --offload all --offload-to nvme
expect_ok "collective takes NAME:nvme=N" "all_reduce|allreduce" \
    collective --system dgx-h100:nvme=2 --gpus 8
cat >"$tmp/spec.lua" <<'LUA'
local r = estimate{system = "fuyou-server:nvme=3", gpus = 1, model = "llama2-7b",
                   layout = {gpus = 1, mbs = 1, gbs = 1, offload = "all", offload_to = "nvme",
                             offload_engine = "fuyou"}}
print(string.format("lua iteration %.3f s", r.iteration_s))
LUA
expect_ok "Lua: estimate{system = \"NAME:nvme=N\"}" "^lua iteration [0-9]+\.[0-9]+ s" \
    run "$tmp/spec.lua"

# bad specs: exit 2, nothing on stdout, the spec and the rule named
expect_bad "system: a sign before the count" \
    "system 'fuyou-server:nvme=\+3': ':nvme=' needs a whole number of drives from 1 to 64" \
    system fuyou-server:nvme=+3
expect_bad "system: a space before the count" \
    "system 'fuyou-server:nvme= 3': ':nvme=' needs a whole number of drives from 1 to 64" \
    system "fuyou-server:nvme= 3"
long=fuyou-server-fuyou-server-fuyou-server-fuyou-server-fuyou-server
expect_bad "a 64-character name is an unknown system" "unknown system '$long'" \
    system "$long:nvme=3"
expect_bad "estimate names a bad spec" \
    "estimate: system 'fuyou-server:nvme=0': ':nvme=' needs a whole number" \
    estimate ${ssd3/nvme=3/nvme=0}
# shellcheck disable=SC2086
expect_bad "estimate --out writes nothing for a bad spec" "needs a whole number of drives" \
    estimate ${ssd3/nvme=3/nvme=+3} --out "$tmp/run"
if [ ! -e "$tmp/run" ]; then ok "no half-written --out folder"; else not_ok "no half-written --out folder"; fi
expect_bad "search names a bad spec" "system 'dgx2-v100:ssd=2': the one override is ':nvme=N'" \
    search --system dgx2-v100:ssd=2 --gpus 1 --model llama2-7b --gbs 8
expect_bad "a system without drives has none to count" "dgx-h800 has no NVMe drives to count" \
    collective --system dgx-h800:nvme=2

for cmd in system estimate search collective replay; do
    expect_ok "$cmd --help names NAME:nvme=N" "NAME:nvme=N" "$cmd" --help
done

# the CPU optimizer's rates: their kind and, where carried, the range as uncertainty
expect_ok "fuyou-server's CPU Adam prints its base-to-turbo range" \
    "^cpu adam +1\.43e9 parameters/s per node, derived, uncertain: 1\.43e9 to 1\.61e9" \
    system fuyou-server
expect_ok "fuyou-server's gradient pass is labelled assumed, with its range" \
    "^cpu grads +7\.98e9 .*, assumed, uncertain: 7\.98e9 to 9\.00e9" system fuyou-server
expect_ok "the DGX-2's measured rates carry no range" \
    "^cpu adam +1\.62e9 parameters/s per node, measured$" system dgx2-v100
expect_ok "validate offload's assumptions say the artifact never waits for its CPU step" \
    "the authors' code \(Ratel\) never waits for its optimizer process" validate offload

tap_finish
