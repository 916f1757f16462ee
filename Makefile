# weir's build. Plain make, pkg-config for Debian's libraries, DuckDB from
# scripts/setup (which writes build/config.mk).
#
#   make            build build/weir
#   make test       set up what is missing, build, run every test
#   make asan       the same suite under AddressSanitizer + UBSan (build-asan/)
#   make demo       set up, build, run the demo project in examples/
#   make fuzz       build the libFuzzer targets (clang) and run each briefly
#   make bench      build and run bench/*/bench_*.c (figures, no assertions)
#   make bench-orchestrate, make bench-monitor   the scheduler's and the
#                   monitor's benchmarks; bench/template/run and
#                   bench/transform/run.sh are scripts
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc
SAN ?=

-include build/config.mk
DUCKDB_INC ?= deps/duckdb/include
DUCKDB_LIB ?= deps/duckdb/lib

PKGS := yaml-0.1 sqlite3 jansson libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wformat=2 -Wno-format-nonliteral -Wvla
OPT := -O2
ifeq ($(SAN),1)
OPT := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SANDEF := -DWEIR_ARENA_DEBUG
endif

CPPFLAGS_ALL := -Isrc -Itests -isystem $(DUCKDB_INC) -D_XOPEN_SOURCE=700 $(SANDEF) $(PKG_CFLAGS)
CFLAGS_ALL := -std=c11 -g $(OPT) $(WARN) -pthread -MMD -MP $(CFLAGS)
# The installed binary looks for libduckdb next to itself first
# ($PREFIX/lib/weir), then where the build found it.
RPATH := -Wl,-rpath,'$$ORIGIN/../lib/weir' -Wl,-rpath,$(abspath $(DUCKDB_LIB))
LDLIBS_ALL := -L$(DUCKDB_LIB) -lduckdb $(PKG_LIBS) -lm -pthread
LDFLAGS_ALL := $(OPT) $(RPATH) $(LDFLAGS)

SRCS := $(shell find src -name '*.c' | sort)
MAIN_SRC := src/cli/main.c
LIB_SRCS := $(filter-out $(MAIN_SRC),$(SRCS))
TEST_SRCS := $(shell find tests -name '*.c' | sort)

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(MAIN_SRC:%.c=$(BUILD)/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)

BIN := $(BUILD)/weir
LIB := $(BUILD)/libweir.a
TEST_BIN := $(BUILD)/weir-unit

.PHONY: all setup test check-tests asan demo fuzz bench bench-monitor bench-orchestrate install uninstall clean
all: $(BIN) $(TEST_BIN)

setup:
	@scripts/setup --quiet

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(TEST_BIN): $(TEST_OBJS) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

# The README's test command. Sets up what is missing, builds, runs everything.
test: setup
	@$(MAKE) --no-print-directory all
	@WEIR=$(abspath $(BIN)) WEIR_UNIT=$(abspath $(TEST_BIN)) tests/run

# Runs the tests of an existing build without setup (used by asan).
check-tests: all
	@WEIR=$(abspath $(BIN)) WEIR_UNIT=$(abspath $(TEST_BIN)) tests/run

asan: setup
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(MAKE) --no-print-directory BUILD=build-asan SAN=1 check-tests

demo: setup
	@$(MAKE) --no-print-directory all
	@WEIR=$(abspath $(BIN)) scripts/demo

# Benchmarks print figures; nothing is asserted. BENCH_ARGS: e.g. the workers.
BENCH_ARGS ?=
bench-orchestrate: setup
	@$(MAKE) --no-print-directory $(BUILD)/bench/orchestrate
	@$(BUILD)/bench/orchestrate $(BENCH_ARGS)

$(BUILD)/bench/orchestrate: $(BUILD)/bench/orchestrate.o $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=build-fuzz/%)
FUZZ_SECONDS ?= 30
fuzz: setup
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	    CFLAGS="-fsanitize=fuzzer-no-link,address,undefined" build-fuzz/libweir.a
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang fuzz-bins
	@for f in $(FUZZ_BINS); do \
	    n=$$(basename $$f); mkdir -p build-fuzz/corpus/$$n; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	    dict=; [ -f fuzz/$$n.dict ] && dict=-dict=fuzz/$$n.dict; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $$dict build-fuzz/corpus/$$n fuzz/corpus/$$n \
	        || exit 1; \
	done

.PHONY: fuzz-bins
fuzz-bins: $(FUZZ_BINS)
build-fuzz/fuzz_%: fuzz/fuzz_%.c build-fuzz/libweir.a
	clang $(CPPFLAGS_ALL) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
	    $(RPATH) -o $@ $^ $(LDLIBS_ALL)

# Benchmarks: one program per bench/<area>/bench_*.c, run from the top.
BENCH_SRCS := $(shell find bench -name 'bench_*.c' 2>/dev/null | sort)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
bench: setup
	@$(MAKE) --no-print-directory $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS_ALL)

# The monitor's benchmark and chart example (bench/monitor/), built against
# the library. BENCH_ARGS passes options, e.g. BENCH_ARGS="--speed 1000".
MONITOR_BENCH_BINS := $(BUILD)/bench/monitor-bench $(BUILD)/bench/plot-school
$(BUILD)/bench/monitor-bench: bench/monitor/bench.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(LIB) -lm -pthread
$(BUILD)/bench/plot-school: bench/monitor/plot_school.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(LIB) -lm -pthread
bench-monitor: $(MONITOR_BENCH_BINS)
	$(BUILD)/bench/plot-school $(BUILD)/bench/monitor.svg
	$(BUILD)/bench/monitor-bench $(BENCH_ARGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/weir
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/weir
	install -m 644 $(DUCKDB_LIB)/libduckdb.so $(DESTDIR)$(PREFIX)/lib/weir/libduckdb.so

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/weir $(DESTDIR)$(PREFIX)/lib/weir/libduckdb.so
	-rmdir $(DESTDIR)$(PREFIX)/lib/weir

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJS:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJS:.o=.d)
# the benchmarks are rebuilt when a header they include changes
-include $(wildcard $(BUILD)/bench/*.d $(BUILD)/bench/*/*.d)
