# The two commands of the README: `make run` and `make check`.
BUILDDIR ?= build
PORT ?= 8080
DB ?= ./mroute.db

.PHONY: all deps setup build run check memcheck bench soak fuzz clean

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
	python3 bench/websocket.py --build $(BUILDDIR)
	python3 bench/rtsp_viewers.py --build $(BUILDDIR)
	python3 bench/density.py --build $(BUILDDIR)
	python3 bench/cluster.py --build $(BUILDDIR)

# soak and fault figures (bench/README.md), not part of `make check`: about
# 75 minutes at the default counts (most of it part 3); SOAK_ARGS="--part 1 --cycles 100" etc.
soak: build
	python3 bench/soak.py --build $(BUILDDIR) $(SOAK_ARGS)

# the libFuzzer targets of tests/fuzz with ASan and UBSan (merge-window,
# flow-spec, mpegts-rap, packet-counter, frame-types, rtmp-chunk), each for FUZZ_SECONDS one after
# the other, or FUZZ_TARGET=name alone; clang comes with libFuzzer
# (libclang-rt, a recommends).  New inputs go to $(FUZZDIR)/fuzz-corpus
# (merge-window) or $(FUZZDIR)/fuzz-corpus-NAME, crashes to $(FUZZDIR)/.
FUZZDIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = merge-window flow-spec mpegts-rap packet-counter frame-types rtmp-chunk
FUZZ_TARGET ?= $(FUZZ_TARGETS)
# per target: -max_len, the seeds, the dictionary
FUZZ_MAX_LEN_merge-window = 4096
FUZZ_MAX_LEN_flow-spec = 4096
FUZZ_MAX_LEN_mpegts-rap = 13058
FUZZ_MAX_LEN_packet-counter = 4096
FUZZ_MAX_LEN_frame-types = 16384
FUZZ_MAX_LEN_rtmp-chunk = 16384
FUZZ_SEEDS_merge-window = tests/fuzz/corpus
FUZZ_CORPUS_merge-window = $(FUZZDIR)/fuzz-corpus
FUZZ_DICT_flow-spec = -dict=tests/fuzz/flow-spec.dict
fuzz: deps
	@command -v clang >/dev/null || { SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang; }
	@[ -f $(FUZZDIR)/build.ninja ] || CC=clang meson setup $(FUZZDIR) -Db_sanitize=address,undefined -Db_lundef=false
	@$(if $(filter-out $(FUZZ_TARGETS),$(FUZZ_TARGET)),echo "unknown FUZZ_TARGET $(filter-out $(FUZZ_TARGETS),$(FUZZ_TARGET)) (one of $(FUZZ_TARGETS))"; exit 2,true)
	ninja -C $(FUZZDIR) $(foreach t,$(FUZZ_TARGET),tests/fuzz/fuzz-$(t))
	$(foreach t,$(FUZZ_TARGET),$(call fuzz_run,$(t)))

# $(1): the target's name
define fuzz_run
	mkdir -p $(or $(FUZZ_CORPUS_$(1)),$(FUZZDIR)/fuzz-corpus-$(1))
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(FUZZDIR)/tests/fuzz/fuzz-$(1) \
	  -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN_$(1)) -print_final_stats=1 \
	  $(FUZZ_DICT_$(1)) -artifact_prefix=$(FUZZDIR)/$(if $(filter merge-window,$(1)),,$(1)-) \
	  $(or $(FUZZ_CORPUS_$(1)),$(FUZZDIR)/fuzz-corpus-$(1)) \
	  $(or $(FUZZ_SEEDS_$(1)),tests/fuzz/corpus-$(1))

endef

clean:
	rm -rf $(BUILDDIR)
