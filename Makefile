# berth — thin wrapper around meson/ninja so that setup is two commands:
#   make demo    install what is missing, build, show berth-runtime at work
#   make check   install what is missing, build, run every test (ASan/UBSan)
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
ASAN    ?= build-asan
CLANG   ?= build-clang
MUSL    ?= build-musl
FUZZ    ?= build-fuzz
MUSLDEPS ?= build-musl-deps
MESON   ?= meson

.PHONY: all deps build musl demo check unit integration fuzz fuzz-build fuzz-ninja fuzz-merge lint clang install clean bench

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=release -Dstatic=true --prefix=$(PREFIX)

$(ASAN)/build.ninja:
	$(MESON) setup $(ASAN) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

$(CLANG)/build.ninja:
	CC=clang $(MESON) setup $(CLANG) --buildtype=debug

# libFuzzer programs of tests/fuzz (docs/testing.md, "Fuzzing")
$(FUZZ)/build.ninja:
	CC=clang $(MESON) setup $(FUZZ) --buildtype=debugoptimized -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false

# The release berth-runtime: static with musl (glibc's startup costs ~0.4 ms of cpuid on a
# VM: docs/design/runtime.md, "Startup cost"), against jansson, libseccomp and libcap built
# from Debian's sources by scripts/musl-deps. Runtime side only (-Dengine=false).
MUSL_ENV = CC=musl-gcc CFLAGS="-isystem $(CURDIR)/$(MUSLDEPS)/include"
$(MUSL)/build.ninja:
	scripts/musl-deps $(MUSLDEPS)
	$(MUSL_ENV) $(MESON) setup $(MUSL) --buildtype=release -Dstatic=true -Dengine=false -Dtests=false \
	  -Dpkg_config_path=$(CURDIR)/$(MUSLDEPS)/lib/pkgconfig --prefix=$(PREFIX)

# every meson.build lists its sources: ninja reconfigures by itself when one changes
build: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	@$(MAKE) --no-print-directory musl || \
	  echo "make: no musl berth-runtime (see above): $(BUILD)'s glibc one is the release runtime" >&2

musl: $(MUSL)/build.ninja
	ninja -C $(MUSL)

asan: $(ASAN)/build.ninja
	ninja -C $(ASAN)

clang: $(CLANG)/build.ninja
	ninja -C $(CLANG)

# built only when clang links a libFuzzer program; otherwise says why (make check skips the part)
fuzz-build:
	@if why=$$(tests/fuzz/run --probe); then $(MAKE) --no-print-directory fuzz-ninja; \
	  else echo "make: $(FUZZ) not built: $$why" >&2; fi

fuzz-ninja: $(FUZZ)/build.ninja
	ninja -C $(FUZZ) fuzzers

# each target FUZZ_SECONDS (60), FUZZ_JOBS (2) at a time; FUZZ_TARGETS="sync manifest" for some
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
fuzz: fuzz-build
	@tests/fuzz/run --probe >/dev/null && tests/fuzz/run -t $(FUZZ_SECONDS) -j $(FUZZ_JOBS) $(FUZZ) $(FUZZ_TARGETS)

# inputs a `make fuzz` found that still add coverage join tests/fuzz/corpus (then commit them)
fuzz-merge:
	@tests/fuzz/run --merge $(FUZZ) $(FUZZ_TARGETS)

demo: deps build
	@scripts/demo $(BUILD)

lint:
	@scripts/lint

unit: asan
	meson test -C $(ASAN)

integration: asan
	BERTH_BUILD=$(ASAN) bats tests/integration

check: deps build asan clang fuzz-build
	@scripts/check $(BUILD) $(ASAN) $(MUSL) $(FUZZ)

# the release runtime, monitor and init ($(MUSL) when built) replace the glibc ones
install: build
	DESTDIR=$(DESTDIR) $(MESON) install -C $(BUILD) --no-rebuild
	@for p in runtime/berth-runtime monitor/berth-monitor init/berth-init; do \
	  if [ -x $(MUSL)/src/$$p ]; then \
	    install -m 0755 $(MUSL)/src/$$p $(DESTDIR)$(PREFIX)/bin/$${p#*/}; fi; done

# the build whose berth-runtime is the release one
REL = $$([ -x $(MUSL)/src/runtime/berth-runtime ] && echo $(MUSL) || echo $(BUILD))

# every benchmark, each writing its section of docs/benchmarks.md
bench: deps build
	@bench/run $(REL)
	@bench/exec $(REL)
	@bench/berth-run $(BUILD) $(MUSL)
	@bench/layer-extract $(BUILD)
	@bench/registry $(BUILD)
	@bench/networks $(BUILD)
	@bench/store $(BUILD)
	@bench/build $(BUILD)
	@bench/api $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN) $(CLANG) $(MUSL) $(MUSLDEPS) $(FUZZ)
