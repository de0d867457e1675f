# The two commands of the README: `make run` and `make check`.
BUILDDIR ?= build
PORT ?= 8080
DB ?= ./mroute.db

.PHONY: all deps setup build run check memcheck bench fuzz clean

all: build

deps:
	@sh scripts/install-deps.sh

$(BUILDDIR)/build.ninja:
	meson setup $(BUILDDIR) --buildtype=debugoptimized

setup: deps $(BUILDDIR)/build.ninja

build: setup
	meson compile -C $(BUILDDIR)

run: build
	GST_PLUGIN_PATH=$(CURDIR)/$(BUILDDIR)/plugins $(BUILDDIR)/controller/mroute --port $(PORT) --db $(DB)

check: build
	meson test -C $(BUILDDIR) --print-errorlogs
	meson test -C $(BUILDDIR) --setup valgrind --suite elements --suite unit --print-errorlogs --logbase memcheck
	@python3 scripts/test-summary.py $(BUILDDIR)/meson-logs/testlog.json $(BUILDDIR)/meson-logs/memcheck-valgrind.json

# the element and unit tests under valgrind (also part of `make check`)
memcheck: build
	meson test -C $(BUILDDIR) --setup valgrind --suite elements --suite unit --print-errorlogs --logbase memcheck

bench: build
	python3 bench/fanout.py --build $(BUILDDIR)
	python3 bench/failover.py --build $(BUILDDIR)
	python3 bench/merge.py --build $(BUILDDIR)
	python3 bench/content.py --build $(BUILDDIR)

# the merge window's libFuzzer target (tests/fuzz) with ASan and UBSan, for
# FUZZ_SECONDS; clang comes with libFuzzer (libclang-rt, a recommends)
FUZZDIR ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz: deps
	@command -v clang >/dev/null || { SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang; }
	@[ -f $(FUZZDIR)/build.ninja ] || CC=clang meson setup $(FUZZDIR) -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C $(FUZZDIR) tests/fuzz/fuzz-merge-window
	mkdir -p $(FUZZDIR)/fuzz-corpus
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(FUZZDIR)/tests/fuzz/fuzz-merge-window \
	  -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
	  -artifact_prefix=$(FUZZDIR)/ $(FUZZDIR)/fuzz-corpus tests/fuzz/corpus

clean:
	rm -rf $(BUILDDIR)
