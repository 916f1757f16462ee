#!/usr/bin/env bash
# Scenario: `make install` honours PREFIX and DESTDIR, and the installed
# binary finds its DuckDB library next to itself.
. "$(dirname "$0")/../lib.sh"
: "${WEIR_SRCDIR:?}"
build=$(basename "$(dirname "$WEIR")")

run make -s -C "$WEIR_SRCDIR" install BUILD="$build" PREFIX=/opt/weir DESTDIR="$T_DIR/root"
expect_rc 0 "make install with PREFIX and DESTDIR"
expect_true "the binary is under DESTDIR/PREFIX/bin" test -x "$T_DIR/root/opt/weir/bin/weir"
expect_true "the DuckDB library is under DESTDIR/PREFIX/lib/weir" \
    test -f "$T_DIR/root/opt/weir/lib/weir/libduckdb.so"

# Move the installed tree elsewhere: the binary must still find its library
# (the rpath is relative to the binary), and the build's copy must not be the
# one it uses.
mv "$T_DIR/root/opt/weir" "$T_DIR/moved"
run ldd "$T_DIR/moved/bin/weir"
expect_out_contains "$T_DIR/moved/bin/../lib/weir/libduckdb.so" "the installed binary resolves its own libduckdb"
run "$T_DIR/moved/bin/weir" version
expect_rc 0 "the installed binary runs"
expect_out_contains "duckdb v1.4.4" "and reports DuckDB"

run make -s -C "$WEIR_SRCDIR" uninstall BUILD="$build" PREFIX=/opt/weir DESTDIR="$T_DIR/root2"
expect_rc 0 "uninstall of a tree that is not there is harmless"

done_testing
