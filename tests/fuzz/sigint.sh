#!/usr/bin/env bash
# sigint.sh FUZZ_CLI SEED_DIR N: TAP case N.  SIGINT stops a fuzz_cli
# campaign with libFuzzer's final statistics, as it stops the other
# harnesses.  The seed folder holds searches, which until session 5 took
# SIGINT for their own (stop and print the best so far) and the campaign
# went on; the command's clean-up handlers chain to libFuzzer's
# (traces/report.c) and the fuzzing build leaves SIGINT to libFuzzer
# during a search (cli/cli_search.c).
fuzzer=$1 seeds=$2 n=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/clustersim-sigint.XXXXXX")
cp -r "$seeds" "$work/corpus"
log=$work/fuzz.log
CLUSTERSIM_FUZZ_DIR=$work "$fuzzer" -max_total_time=120 -timeout=60 -max_len=4096 \
    -print_final_stats=1 -close_fd_mask=3 "$work/corpus" >"$log" 2>&1 &
pid=$!
sleep 3 # libFuzzer has read the seeds and runs them, or mutants of them
kill -INT "$pid"
for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    echo "not ok $n - fuzz_cli stops on SIGINT: still running 30 s after it (see $log)"
    exit 1
fi
wait "$pid"
if grep -q "run interrupted" "$log" && grep -q "stat::number_of_executed_units" "$log"; then
    echo "ok $n - fuzz_cli stops on SIGINT with its final statistics"
    rm -rf "$work"
else
    echo "not ok $n - fuzz_cli stops on SIGINT: no 'run interrupted' and final statistics in $log"
    exit 1
fi
