#!/usr/bin/env bash
# clustersim set-up: installs what is missing (Debian 12), builds, and then
#   ./setup.sh quickstart   runs the quick-start
#   ./setup.sh test         runs every test, also under AddressSanitizer and
#                           UndefinedBehaviorSanitizer; builds the release (-O3) and
#                           clang variants and runs the unit tests in them; runs each
#                           fuzzer for FUZZ_SECONDS (default 20); ends with 'N passed, M failed'
#   ./setup.sh fuzz [S] [FLAGS...]  runs each libFuzzer harness (tests/fuzz) for S seconds
#                           (default 60), with FLAGS (libFuzzer's, e.g. -entropic=1) after ours
# Both are idempotent: with everything in place they only rebuild what changed.
set -euo pipefail
cd "$(dirname "$0")"

packages=(gcc g++ pkg-config meson ninja-build python3 liblua5.4-dev libgsl-dev libhwloc-dev libcsv-dev libglpk-dev
          librsvg2-bin   # rsvg-convert: the tests render every SVG the scenarios write
          libprotobuf-c-dev protobuf-c-compiler python3-pip python3-venv  # Chakra traces (traces/chakra*)
          libopenmpi-dev openmpi-bin  # MPI: sweeps, searches and Monte Carlo runs over ranks (tests: mpi)
          clang-14 libclang-rt-14-dev  # the clang variant and libFuzzer (tests/fuzz)
          libjson-c-dev)  # HuggingFace config.json (traces/hf_config.c)

# Chakra's schema comes from the mlc-chakra wheel on PyPI at build time (it is
# not copied into the tree); meson reads .cache/chakra/et_def.proto.
chakra_version=1.0.0
chakra_cache=.cache/chakra

install_missing() {
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "setup: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# fetch_chakra_proto: the wheel into the cache, et_def.proto out of it.
fetch_chakra_proto() {
    [ -f "$chakra_cache/et_def.proto" ] && return 0
    mkdir -p "$chakra_cache/wheel"
    echo "setup: fetching mlc-chakra $chakra_version (Chakra's et_def.proto) from PyPI"
    python3 -m pip download -q --no-deps --only-binary=:all: -d "$chakra_cache/wheel" \
        "mlc-chakra==$chakra_version" ||
        { echo "setup: pip download mlc-chakra==$chakra_version failed" >&2; exit 1; }
    python3 - "$chakra_cache" <<'PY'
import glob, sys, zipfile
cache = sys.argv[1]
wheel = glob.glob(cache + '/wheel/mlc_chakra-*.whl')[0]
with zipfile.ZipFile(wheel) as z, open(cache + '/et_def.proto', 'wb') as out:
    out.write(z.read('chakra/schema/protobuf/et_def.proto'))
PY
}

# chakra_tools: Chakra's own converter for the tests (tests/cli/test_chakra.sh),
# in a virtual environment: the wheel and protobuf, the only package its
# converters import (the wheel's other requirements serve its visualizers and
# trace linker).  A failure is written down; the test then skips and says why.
chakra_tools() {
    local venv=$chakra_cache/venv
    [ -x "$venv/bin/chakra_converter" ] && return 0
    rm -rf "$venv"
    if ! { python3 -m venv "$venv" &&
           "$venv/bin/pip" install -q --no-deps "$chakra_cache"/wheel/mlc_chakra-*.whl &&
           "$venv/bin/pip" install -q protobuf; } >"$chakra_cache/venv.log" 2>&1; then
        echo "setup: Chakra's converter did not install (see $chakra_cache/venv.log); its test will skip" >&2
        rm -rf "$venv"
    fi
}

# build DIR [meson options...]: configures once, then rebuilds what changed.
# Quiet when all is well; the whole log when a step fails.
build() {
    local dir=$1 log
    shift
    log=$(mktemp)
    if [ ! -f "$dir/build.ninja" ] && ! meson setup "$dir" "$@" >"$log" 2>&1; then
        cat "$log" >&2; rm -f "$log"; echo "setup: meson setup $dir failed" >&2; exit 1
    fi
    if ! ninja -C "$dir" >"$log" 2>&1; then
        cat "$log" >&2; rm -f "$log"; echo "setup: build in $dir failed" >&2; exit 1
    fi
    rm -f "$log"
}

quickstart() {
    fetch_chakra_proto
    build build
    echo "== clustersim system dgx-h100 --nodes 4"
    ./build/clustersim system dgx-h100 --nodes 4
    echo
    echo "== clustersim collective --system dgx-h100 --nodes 4 --op allreduce --min 1M --max 1G --mode both"
    ./build/clustersim collective --system dgx-h100 --nodes 4 --op allreduce --min 1M --max 1G --mode both
    echo
    echo "== clustersim estimate --system dgx-a100-80g --gpus 3072 --model megatron-1t --tp 8 --pp 64 --mbs 1 --gbs 3072 --recompute full"
    ./build/clustersim estimate --system dgx-a100-80g --gpus 3072 --model megatron-1t --tp 8 --pp 64 --mbs 1 --gbs 3072 --recompute full
    echo
    echo "== clustersim run scenarios/quickstart.lua"
    ./build/clustersim run scenarios/quickstart.lua
    echo
    echo "== clustersim search --system dgx-a100-80g --gpus 1024 --model gpt3-175b --gbs 1536 --top 10"
    ./build/clustersim search --system dgx-a100-80g --gpus 1024 --model gpt3-175b --gbs 1536 --top 10
    echo
    echo "== clustersim search --system dgx-h100 --gpus 256 --model llama3-70b --gbs 208 --top 5"
    echo "   (13 microbatches per pipeline: no interleaving; ZBV, the zero-bubble V-shape, wins)"
    ./build/clustersim search --system dgx-h100 --gpus 256 --model llama3-70b --gbs 208 --top 5
    echo
    echo "== clustersim validate megatron2021"
    ./build/clustersim validate megatron2021
    echo
    echo "== clustersim bench job --gpus 256 --steps 100 --compute-ms 1 --allreduce 16M"
    ./build/clustersim bench job --gpus 256 --steps 100 --compute-ms 1 --allreduce 16M
}

# The fuzzers: clang, ASan and UBSan, libFuzzer's coverage in every object.
build_fuzz() {
    fetch_chakra_proto
    CC=clang-14 build build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debugoptimized
}

# run_fuzz SECONDS [FLAGS...]: each harness on a copy of its seeds (tests/fuzz/corpus/NAME);
# one TAP case per harness with its executions; a crash, leak, sanitizer report
# or an input over 30 s (10 s without the sanitizers and coverage, which slow
# a run 3 to 10 times) fails it and keeps the input in build-fuzz/findings/.
run_fuzz() {
    local seconds=$1 n=0 failed=0 name log top=$PWD work max_len flags
    shift
    mkdir -p build-fuzz/findings
    work=$(mktemp -d "$( [ -w /dev/shm ] && echo /dev/shm || echo /tmp)/clustersim-fuzz.XXXXXX")
    for name in opgraph calib_csv faultlog profile lua_api chakra hf_config cli validate; do
        n=$((n + 1))
        rm -rf "build-fuzz/corpus-$name"
        cp -r "tests/fuzz/corpus/$name" "build-fuzz/corpus-$name"
        log=build-fuzz/fuzz-$name.log
        max_len=4096
        [ "$name" = chakra ] && max_len=16384 # four ranks' protobuf traces of a 2-layer model: 9 kB
        [ "$name" = validate ] && max_len=16384 # a study's table, its source columns included
        # the command line and the Lua API: libFuzzer's entropic schedule was about half
        # of their CPU, the plain one runs twice the inputs (validate/robustness.md)
        flags=()
        case $name in cli | lua_api | validate) flags=(-entropic=0) ;; esac
        if CLUSTERSIM_FUZZ_DIR=$work UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
            "build-fuzz/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=30 \
            -rss_limit_mb=4096 -max_len="$max_len" -print_final_stats=1 -close_fd_mask=3 "${flags[@]}" "$@" \
            -artifact_prefix="$top/build-fuzz/findings/$name-" "$top/build-fuzz/corpus-$name" >"$log" 2>&1; then
            echo "ok $n - fuzz_$name: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') executions, no finding"
        else
            failed=$((failed + 1))
            echo "not ok $n - fuzz_$name: a finding ($(grep -m1 -E 'ERROR|runtime error|timeout' "$log")); see $log"
        fi
    done
    rm -rf "$work"
    n=$((n + 1)) # SIGINT stops a campaign with its statistics (fuzz_cli's searches took it)
    bash tests/fuzz/sigint.sh build-fuzz/tests/fuzz/fuzz_cli "$top/tests/fuzz/corpus/cli" "$n" ||
        failed=$((failed + 1))
    n=$((n + 1)) # the bound on the combinations a search judges (SEARCH_MAX_SPACE)
    bash tests/fuzz/bounds.sh build-fuzz/clustersim "$n" || failed=$((failed + 1))
    echo "1..$n"
    [ "$failed" -eq 0 ]
}

run_tests() {
    fetch_chakra_proto
    chakra_tools
    build build
    build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
    # The other build types must compile warning-free too (-O3 finds what -O2
    # does not; clang what GCC does not); their unit tests run, the rest
    # only in the two builds above.
    build build-release -Dbuildtype=release
    CC=clang-14 build build-clang -Dbuildtype=release
    build_fuzz
    local status=0
    meson test -C build --print-errorlogs >/dev/null || status=1
    # The sanitized run stops on the first error report so none slips by.
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-asan --print-errorlogs >/dev/null || status=1
    meson test -C build-release --suite unit >/dev/null || status=1
    meson test -C build-clang --suite unit >/dev/null || status=1
    run_fuzz "${FUZZ_SECONDS:-20}" >build-fuzz/fuzz.tap || status=1
    grep -v '^ok' build-fuzz/fuzz.tap | grep -v '^1\.\.' || true
    python3 tests/summary.py build/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
        build-release/meson-logs/testlog.json build-clang/meson-logs/testlog.json \
        build-fuzz/fuzz.tap || status=1
    return $status
}

case "${1:-}" in
quickstart) install_missing; quickstart ;;
test) install_missing; run_tests ;;
fuzz) install_missing; build_fuzz; run_fuzz "${2:-60}" "${@:3}" ;;
*) echo "usage: ./setup.sh quickstart|test|fuzz [SECONDS]" >&2; exit 2 ;;
esac
