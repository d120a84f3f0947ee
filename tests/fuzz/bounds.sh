#!/usr/bin/env bash
# bounds.sh CLUSTERSIM N: TAP case N, on the fuzzing build's clustersim.  Its
# bound on the combinations a search judges (SEARCH_MAX_SPACE, meson.build):
# a 96-GPU search of 198,528 combinations judges at most 4,096 of them (every
# k-th, so more than one tp and pp meet the rules), keeps some and reports
# itself interrupted.  Until session 5 it judged them all: a fifth of
# fuzz_lua_api's CPU (validate/robustness.md).
bin=$1 n=$2
out=$(ASAN_OPTIONS=detect_leaks=0 "$bin" search --system dgx-a100-80g --gpus 96 --model gpt3-175b \
    --gbs 1488 --threads 1 2>/dev/null)
judged=$(printf '%s\n' "$out" | awk '/^# space:/ {on = 1; next} /^# valid:/ {sub(";", "", $3); s += $3; on = 0}
    on && /^#   / {s += $NF} END {print s + 0}')
space=$(printf '%s\n' "$out" | awk '/^# space:/ {print $3}')
valid=$(printf '%s\n' "$out" | awk '/^# valid:/ {sub(";", "", $3); print $3}')
if [ "$space" = 198528 ] && [ "$judged" -le 4096 ] && [ "${valid:-0}" -gt 0 ] &&
    printf '%s\n' "$out" | grep -q '^# interrupted: ranking'; then
    echo "ok $n - fuzzing build: a search of $space combinations judges $judged ($valid valid), interrupted"
else
    echo "not ok $n - fuzzing build: a search of ${space:-?} combinations judged ${judged:-?} (valid ${valid:-?}), want at most 4096 and an interrupted ranking"
    exit 1
fi
