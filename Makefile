# hippo's front door. Everything real lives in CMake (build) and hack/ (scripts).
BUILD       ?= build
PREFIX      ?= /usr/local
JOBS        ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all build configure deps images unit fuzz lint format integration test test-cgroup2 check-fresh demo bench soak install clean

all: build

# The generated Makefile, not CMakeCache.txt, marks a finished configure: a configure that
# failed half-way leaves a cache behind, and the next `make` must redo it.
$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

configure: $(BUILD)/Makefile

build: configure
	cmake --build $(BUILD) -j$(JOBS)

deps:
	hack/install-deps.sh

images:
	hack/make-test-images.sh $(BUILD)/images

unit: build
	hack/run-tests.sh unit $(BUILD)

# Every fuzz target for FUZZ_SECONDS each (make unit runs them for 10 s); a crash fails it and
# keeps the input in $(BUILD)/fuzz/.
FUZZ_SECONDS ?= 300
# The static checks: clang-format over the tree (also part of `make unit`) and clang-tidy with
# .clang-tidy's checks over every translation unit; `make format` applies .clang-format.
lint: build
	hack/lint.sh all $(BUILD)

format:
	hack/lint.sh fix-format

fuzz: configure
	FUZZ_SECONDS=$(FUZZ_SECONDS) hack/fuzz.sh $(BUILD)

integration: build
	hack/run-tests.sh integration $(BUILD)

# Installs what is missing, builds, runs unit then integration tests; one summary line per layer.
test: deps
	$(MAKE) build
	hack/run-tests.sh all $(BUILD)

# The cgroup suites on a pure cgroup v2 host: a QEMU VM (image built on first use into
# /var/tmp/hippo-cg2vm, outside the tree), sharing this tree so it runs the binaries just built.
test-cgroup2: deps
	$(MAKE) build
	hack/test-cgroup2.sh $(BUILD)

# The README's promise on a fresh machine: a minimal Debian 12 root (mmdebstrap) with a clone of
# HEAD runs install-deps, make, make unit and make demo, with nothing installed beforehand.
check-fresh: deps
	hack/check-fresh.sh

demo: deps
	$(MAKE) build
	hack/demo.sh $(BUILD)

# Churn soak (issue 18, docs/reliability.md): SOAK_ITERATIONS container lifecycles through a private
# containerd (create, start, exec, kill, delete; terminals, binary:// loggers, OOM kills; grouped
# and separate shims), then the leak accounting; the results table goes into docs/reliability.md.
# integration/soak.bats runs the short version (hack/soak.sh --short) in `make integration`.
# Then the same with the systemd driver inside a real systemd (hack/systemd-sandbox.sh), which
# counts the scope units too: SOAK_SYSTEMD_ITERATIONS (0 skips it).
SOAK_ITERATIONS ?= 1000
SOAK_SYSTEMD_ITERATIONS ?= 1000
soak: build
	hack/soak.sh $(BUILD) --iterations $(SOAK_ITERATIONS) --update-doc docs/reliability.md
	if [ "$(SOAK_SYSTEMD_ITERATIONS)" != 0 ]; then \
	  hack/soak.sh $(BUILD) --systemd --iterations $(SOAK_SYSTEMD_ITERATIONS) --update-doc docs/reliability.md; fi

# Benchmarks measure the release build (MinSizeRel + LTO) in its own directory, whatever
# configuration $(BUILD) holds.
RELEASE_BUILD ?= build-release
bench: deps
	$(MAKE) build BUILD=$(RELEASE_BUILD) CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=MinSizeRel -DHIPPO_BUILD_TESTS=OFF"
	hack/bench-run.sh $(RELEASE_BUILD)
	hack/bench-shim.sh $(RELEASE_BUILD)
	hack/bench-cri.sh $(RELEASE_BUILD)
	HIPPO_CRI_GROUPING=node hack/bench-cri.sh $(RELEASE_BUILD)
	hack/bench-nesting.sh $(RELEASE_BUILD)
	hack/bench-node.sh $(RELEASE_BUILD)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(RELEASE_BUILD)
