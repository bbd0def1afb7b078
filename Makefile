# ramp — the two commands of the README, and the inner loop.
#   make demo   ramp's main job on the embedded defaults
#   make test   install, build and run every test (what CI runs)
#   make unit   the fast inner loop: build + unit tests only
#   make kube-build  the Kubernetes test cluster's programs (once per version, cached outside
#                    the checkout; docs/platforms/kubernetes.md)
#   make cosign-build  the real cosign for src/supply's tests (once per version, cached like
#                    kube-build; docs/supply-chain.md)
#   make argo-build  Argo's `kubectl argo rollouts` plugin for the plugin test (once per version,
#                    cached like kube-build; docs/platforms/kubernetes.md)
#                    `make test` runs these three in the background (scripts/test.sh)
#   make tidy   clang-tidy on the files changed since main (scripts/tidy.py; TIDY_ARGS=--all)
PRESET ?= asan-ubsan
BUILD_DIR ?= build/$(PRESET)
JOBS ?= 2
# In CI each fuzz target gets longer; locally a short smoke run.
FUZZ_SECONDS ?= $(if $(CI),20,10)
export CCACHE_NOHASHDIR := true
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_MAXSIZE := 5G

.PHONY: all bootstrap configure build unit test integration format format-check tidy fuzz \
        fuzz-build bench demo clean kube-build cosign-build argo-build

all: build

bootstrap:
	@./scripts/bootstrap.sh

configure:
	@cmake --preset $(PRESET) -B $(BUILD_DIR) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

unit: build
	@cd $(BUILD_DIR) && ctest -L unit -j $(JOBS) --output-on-failure

integration: build kube-build cosign-build argo-build
	@cd $(BUILD_DIR) && ctest -L '^(integration|go)$$' -j 1 --output-on-failure

# The build, tidy, the tests and fuzzing, with the Go-built test components building in the
# background (scripts/test.sh).
test: bootstrap format-check
	@PRESET=$(PRESET) BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) TIDY_ARGS="$(TIDY_ARGS)" \
	  ./scripts/test.sh $(BUILD_DIR) $(JOBS)

# In CI a failed build fails `make test`; elsewhere the kube tests then report themselves skipped.
kube-build:
	@./scripts/kube-cluster.sh build >/dev/null || { \
	  if [ -n "$(CI)" ]; then exit 1; fi; \
	  echo "kube-build failed: the Kubernetes tests (label kube) will be skipped"; }

# The real cosign for src/supply's tests (tools/cosign; skipped when it cannot be built).
cosign-build:
	@./scripts/cosign.sh build >/dev/null || { \
	  if [ -n "$(CI)" ]; then exit 1; fi; \
	  echo "cosign-build failed: the real-cosign test (CosignCli) will be skipped"; }

# Argo's kubectl-argo-rollouts plugin (tools/argo-rollouts; skipped when it cannot be built).
argo-build:
	@./scripts/argo-rollouts.sh build >/dev/null || { \
	  if [ -n "$(CI)" ]; then exit 1; fi; \
	  echo "argo-build failed: the plugin test (ArgoRolloutsPluginOnACluster) will be skipped"; }

format:
	@./scripts/format.sh fix

format-check:
	@./scripts/format.sh check

tidy: configure
	@./scripts/tidy.py --jobs $(JOBS) $(TIDY_ARGS) $(BUILD_DIR)

fuzz-build:
	@cmake --preset fuzz >/dev/null
	@cmake --build build/fuzz -j $(JOBS) --target fuzz_all

fuzz: fuzz-build
	@./scripts/fuzz.sh build/fuzz $(FUZZ_SECONDS)

bench: bootstrap
	@cmake --preset release >/dev/null
	@cmake --build build/release -j $(JOBS)
	@./scripts/bench.sh build/release

demo: bootstrap
	@./scripts/demo.sh $(ARGS)

clean:
	rm -rf build
