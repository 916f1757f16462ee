# tests/lib.sh: helpers for scenario scripts (tests/cli/t*.sh).
#
# A script sources this, runs the real binary ($WEIR) on small projects in a
# scratch folder, and checks exit codes and output. Every check is one test
# case; the script ends by calling `done_testing`, which prints
# "N passed, N failed" and exits non-zero on failures.
#
#   run weir check --project-dir p     # runs, keeps $out, $err, $rc
#   expect_rc 2 "check rejects a bad project"
#   expect_out_contains "rows"  "query prints its rows"
#   expect_err_contains "weir.yml:3:1: error:" "error names the place"
set -u
: "${WEIR:?set WEIR to the weir binary}"
T_PASSED=0
T_FAILED=0
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/weir-scenario-XXXXXX")
trap 'rm -rf "$T_DIR"' EXIT
cd "$T_DIR" || exit 1
out="" err="" rc=0

weir() { "$WEIR" "$@"; }

# run CMD...: runs it, capturing stdout in $out, stderr in $err, status in $rc.
run() {
    "$@" >"$T_DIR/.out" 2>"$T_DIR/.err" </dev/null
    rc=$?
    out=$(cat "$T_DIR/.out")
    err=$(cat "$T_DIR/.err")
}

pass() { T_PASSED=$((T_PASSED + 1)); echo "ok   $1"; }
fail() {
    T_FAILED=$((T_FAILED + 1))
    echo "FAIL $1"
    shift
    for line in "$@"; do echo "  $line"; done
    echo "  rc=$rc"
    echo "  stdout: $(head -c 2000 <<<"$out")"
    echo "  stderr: $(head -c 2000 <<<"$err")"
}

expect_rc() { # expect_rc CODE DESCRIPTION
    if [ "$rc" -eq "$1" ]; then pass "$2"; else fail "$2" "expected exit $1, got $rc"; fi
}
expect_out_contains() {
    if grep -qF -- "$1" <<<"$out"; then pass "$2"; else fail "$2" "stdout lacks: $1"; fi
}
expect_out_not_contains() {
    if grep -qF -- "$1" <<<"$out"; then fail "$2" "stdout has: $1"; else pass "$2"; fi
}
expect_err_contains() {
    if grep -qF -- "$1" <<<"$err"; then pass "$2"; else fail "$2" "stderr lacks: $1"; fi
}
expect_out_eq() {
    if [ "$out" = "$1" ]; then pass "$2"; else fail "$2" "expected stdout:" "$1"; fi
}
expect_true() { # expect_true DESCRIPTION CMD...
    local d=$1; shift
    if "$@"; then pass "$d"; else fail "$d" "command failed: $*"; fi
}
# A crash is never an acceptable answer to bad input.
expect_no_crash() {
    if [ "$rc" -ge 128 ] || grep -q "AddressSanitizer\|runtime error:" <<<"$err"; then
        fail "$1" "crashed or sanitizer report"
    else
        pass "$1"
    fi
}

done_testing() {
    echo "$T_PASSED passed, $T_FAILED failed"
    [ "$T_FAILED" -eq 0 ]
    exit $?
}
