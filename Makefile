# berth — thin wrapper around meson/ninja so that setup is two commands:
#   make demo    install what is missing, build, show berth-runtime at work
#   make check   install what is missing, build, run every test (ASan/UBSan)
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
ASAN    ?= build-asan
CLANG   ?= build-clang
MESON   ?= meson

.PHONY: all deps build demo check unit integration fuzz lint clang install clean bench

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=release -Dstatic=true --prefix=$(PREFIX)

$(ASAN)/build.ninja:
	$(MESON) setup $(ASAN) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

$(CLANG)/build.ninja:
	CC=clang $(MESON) setup $(CLANG) --buildtype=debug

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

asan: $(ASAN)/build.ninja
	ninja -C $(ASAN)

clang: $(CLANG)/build.ninja
	ninja -C $(CLANG)

demo: deps build
	@scripts/demo $(BUILD)

lint:
	@scripts/lint

unit: asan
	meson test -C $(ASAN)

integration: asan
	BERTH_BUILD=$(ASAN) bats tests/integration

check: deps build asan clang
	@scripts/check $(BUILD) $(ASAN)

install: build
	DESTDIR=$(DESTDIR) $(MESON) install -C $(BUILD) --no-rebuild

bench: deps build
	@bench/run $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN) $(CLANG)
