# The two commands of the README: `make run` and `make check`.
BUILDDIR ?= build
PORT ?= 8080
DB ?= ./mroute.db

.PHONY: all deps setup build run check memcheck bench clean

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

clean:
	rm -rf $(BUILDDIR)
