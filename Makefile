# Silo — `make up` sets up a fresh Debian 12 machine and runs a first container;
# `make test` runs the whole suite.
BUILD ?= build
JOBS ?= $(shell nproc)
ROOTFS := $(BUILD)/rootfs/busybox

.PHONY: all deps build rootfs test unit integration up bench stress clean format

all: build

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(ROOTFS)/bin/busybox:
	scripts/make-rootfs.sh $(ROOTFS)

rootfs: $(ROOTFS)/bin/busybox

test: deps build rootfs
	@scripts/run-tests.sh $(BUILD)

unit: build
	cd $(BUILD) && ctest --output-on-failure

integration: build rootfs
	@SILO_SUITES=integration scripts/run-tests.sh $(BUILD)

up: deps build rootfs
	@scripts/up.sh $(BUILD)

bench: deps build rootfs
	@bench/run.sh $(BUILD)

stress: build rootfs
	@bench/stress-8mib.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD)
