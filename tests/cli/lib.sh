# lib.sh: what every CLI test script shares (sourced, not run).
# A script does:   source "$(dirname "$0")/lib.sh" "$1"   ...cases...   tap_finish
# and gets $bin (the clustersim under test), $tmp (a scratch folder removed at
# exit), $out and $errf (the last command's stdout and stderr), and the helpers.
bin=$1
tap_n=0
tap_failed=0
tmp=$(mktemp -d)
out=$tmp/.stdout
errf=$tmp/.stderr
trap 'rm -rf "$tmp"' EXIT

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $1"; sed 's/^/# /' "$errf" | head -5; }

# expect_ok NAME PATTERN ARGS...: exit 0 and stdout matches the extended regex.
expect_ok() {
    local name=$1 pattern=$2
    shift 2
    if "$bin" "$@" >"$out" 2>"$errf" && grep -Eq -- "$pattern" "$out"; then ok "$name"
    else echo "# stdout:"; sed 's/^/#   /' "$out" | head -5; not_ok "$name"; fi
}

# expect_bad NAME PATTERN ARGS...: exit 2, nothing on stdout, stderr matches.
expect_bad() {
    local name=$1 pattern=$2
    shift 2
    "$bin" "$@" >"$out" 2>"$errf"
    local rc=$?
    if [ "$rc" -eq 2 ] && [ ! -s "$out" ] && grep -Eq -- "$pattern" "$errf"; then ok "$name"
    else echo "# exit status $rc"; not_ok "$name"; fi
}

# check_svg NAME FILE: well-formed enough for librsvg to render.
check_svg() {
    if [ -s "$2" ] && grep -q "</svg>" "$2" && { ! command -v rsvg-convert >/dev/null ||
        rsvg-convert -o "$tmp/render.png" "$2" 2>"$errf"; }; then ok "$1"; else not_ok "$1"; fi
}

# tap_finish: the plan line; the exit status says whether every case passed.
tap_finish() {
    echo "1..$tap_n"
    [ "$tap_failed" -eq 0 ]
}
