# Two commands for users: `make report` (suite on the local backend, ci profile) and `make test`
# (every test). Both set up what they need and are quick when nothing changed. Set-up prints one line
# per step and a step's output only when it fails (`make V=1 ...` shows everything).
# `make lab` opens the notebooks in JupyterLab (installed into the venv on first use).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BUILD_DIR := cpp/build
ASAN_BUILD_DIR := cpp/build-asan
# Python tests that drive the engine with valid and bad input (run by `make asan` against the ASan build).
ASAN_PYTESTS := tests/engine tests/test_corrupt_validate.py tests/test_fault_cases.py tests/test_external_table.py tests/test_formats_builtin.py tests/test_formats_object_stores.py \
  tests/test_reader_take.py tests/test_reader_scan_units.py tests/test_writer_layout.py tests/fuzz
# The fuzzing suite's input count under ASan (multiplies the 2,100 inputs of `make test`; at 3,
# 6,300 inputs took 17 min on 2 shared cores, 0 findings).
ASAN_FUZZ_SCALE ?= 1.5
LIB := $(BUILD_DIR)/libmilvus-storage.so
REPORT_DIR ?= reports/latest
PROFILE ?= ci
BACKEND ?= local
JOBS ?= 2
STEP := tools/step.sh
JUNIT_XSD := $(VENV)/share/loon/junit-10.xsd
DEBIAN_PACKAGES := cmake g++ make libfiu-dev libavro-dev libcurl4-openssl-dev libssl-dev
# Azure emulator for the object-store tests, installed with npm into the project-local .emulators
# (moto and fake-gcs-server come from requirements.txt).
AZURITE_VERSION := 3.35.0
EMULATORS_DIR := .emulators
APT := $(shell [ "$$(id -u)" = 0 ] && echo apt-get || echo sudo apt-get)

.PHONY: setup build report test lint test-engine test-python asan bench clean lab

setup: .stamps/debian $(VENV)/.requirements build $(VENV)/.loon-installed $(JUNIT_XSD) $(EMULATORS_DIR)/.azurite-$(AZURITE_VERSION)

# Debian packages: the fault-injection library, Avro (manifests), libcurl + OpenSSL (object-store
# commits) and the toolchain; node/npm too when the machine has no node (Azurite runs on it).
.stamps/debian: Makefile
	@mkdir -p .stamps
	@if ! dpkg -s $(DEBIAN_PACKAGES) >/dev/null 2>&1; then \
	  $(STEP) "Debian packages ($(DEBIAN_PACKAGES))" bash -c \
	    '$(APT) update -qq && DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq $(DEBIAN_PACKAGES)'; \
	fi
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
	  $(STEP) "Debian packages (nodejs npm)" bash -c \
	    '$(APT) update -qq && DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq nodejs npm'; \
	fi
	@touch $@

$(EMULATORS_DIR)/.azurite-$(AZURITE_VERSION): .stamps/debian
	@$(STEP) "Azurite $(AZURITE_VERSION) ($(EMULATORS_DIR))" \
	  npm install --prefix $(EMULATORS_DIR) --no-audit --no-fund --loglevel=error azurite@$(AZURITE_VERSION)
	@touch $@

$(VENV)/bin/python:
	@$(STEP) "virtualenv $(VENV)" python3 -m venv $(VENV)

$(VENV)/.requirements: requirements.txt | $(VENV)/bin/python
	@$(STEP) "pip requirements" bash -c '$(PY) -m pip install -q --upgrade pip && $(PY) -m pip install -q -r requirements.txt'
	@touch $@

# lib/ goes on the venv's path with a path file (tools/dev_path.py says why not `pip install -e .`);
# the build target builds the engine.
$(VENV)/.loon-installed: pyproject.toml $(VENV)/.requirements tools/dev_path.py
	@$(STEP) "loon package (lib/ on the venv's path)" $(PY) tools/dev_path.py
	@touch $@

# The JUnit schema junit.xml is validated against (taken from the sdist of the installed pytest).
$(JUNIT_XSD): $(VENV)/.requirements tools/junit_xsd.py
	@$(STEP) "JUnit schema" $(PY) tools/junit_xsd.py $@

$(BUILD_DIR)/CMakeCache.txt: cpp/CMakeLists.txt cpp/tests/CMakeLists.txt .stamps/debian $(VENV)/.requirements
	@$(STEP) "configure engine" cmake -S cpp -B $(BUILD_DIR) -DPython3_EXECUTABLE=$(abspath $(PY)) -DCMAKE_BUILD_TYPE=Release

build: $(BUILD_DIR)/CMakeCache.txt
	@$(STEP) "build engine ($(BUILD_DIR))" cmake --build $(BUILD_DIR) -j$$(nproc)

report: setup
	$(PY) runner.py --backend $(BACKEND) --profile $(PROFILE) --jobs $(JOBS) --output $(REPORT_DIR)

# JupyterLab on notebooks/ with the suite's kernel ("loon suite (Python 3)": lib/ importable, asserts
# rewritten from the first cell); installed into the venv on first use.
$(VENV)/.jupyterlab: $(VENV)/.requirements tools/lab_kernel.py runner.py
	@$(STEP) "JupyterLab and the suite's kernel" bash -c '$(PY) -m pip install -q jupyterlab && $(PY) tools/lab_kernel.py'
	@touch $@

lab: setup $(VENV)/.jupyterlab
	$(PY) -m jupyter lab --notebook-dir=notebooks

lint: $(VENV)/.requirements
	$(PY) -m ruff check lib tests runner.py tools benchmarks notebooks
	$(PY) tools/gen_cdef.py --check
	$(VENV)/bin/actionlint .github/workflows/*.yml

test-engine: build
	cd $(BUILD_DIR) && ctest --output-on-failure

# Ray, optional for users (runner.py --executor ray, the cluster commit race), is needed by the tests.
$(VENV)/.distributed: requirements-distributed.txt $(VENV)/.requirements
	@$(STEP) "Ray (requirements-distributed.txt)" $(PY) -m pip install -q -r requirements-distributed.txt
	@touch $@

# LOON_REQUIRE_EMULATORS / LOON_REQUIRE_RAY: the object-store and Ray tests fail instead of skipping
# when an emulator or Ray is missing.
test-python: setup $(VENV)/.distributed
	PYTHONPATH=$(abspath lib)$${PYTHONPATH:+:$$PYTHONPATH} LOON_REQUIRE_EMULATORS=1 LOON_REQUIRE_RAY=1 $(PY) -m pytest tests -q

test: setup lint test-engine test-python

# Benchmarks of the workloads that matter beside Lance and pyarrow (benchmarks/bench_workloads.py):
# prints ratios and appends the figures to reports/bench/<time>-workloads.jsonl for the run history.
# BENCH_ARGS passes options, e.g. `make bench BENCH_ARGS="--rows 200000 --only take"`.
BENCH_ARGS ?=
bench: setup $(VENV)/.bench-requirements
	PYTHONPATH=$(abspath lib) LOON_LIBRARY=$(abspath $(LIB)) $(PY) benchmarks/bench_workloads.py $(BENCH_ARGS)

$(VENV)/.bench-requirements: requirements-bench.txt $(VENV)/.requirements
	$(PY) -m pip install -q -r requirements-bench.txt $$(grep -E '^pyarrow==' requirements.txt)  # keeps the pinned pyarrow
	@touch $@

# The engine's C++ tests under AddressSanitizer (leaks and invalid accesses fail the run).
asan: .stamps/debian $(VENV)/.requirements
	cmake -S cpp -B $(ASAN_BUILD_DIR) -DPython3_EXECUTABLE=$(abspath $(PY)) -DCMAKE_BUILD_TYPE=Debug -DLOON_ASAN=ON >/dev/null
	cmake --build $(ASAN_BUILD_DIR) -j$$(nproc)
	# allocator_may_return_null: libavro probes absurd sizes from damaged manifests and handles NULL,
	# as it does under glibc (the bit-flip tests feed it such files).
	cd $(ASAN_BUILD_DIR) && ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	  LSAN_OPTIONS=suppressions=$(abspath cpp/tests/lsan.supp) ctest --output-on-failure
	# The Python FFI tests against the ASan engine (invalid accesses abort the run; leaks are checked
	# by ctest above, the interpreter's own would drown them). libstdc++ is preloaded with the ASan
	# runtime because python does not link it and ASan's __cxa_throw interceptor needs it at start.
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libstdc++.so.6)" \
	  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 LOON_LIBRARY=$(abspath $(ASAN_BUILD_DIR))/libmilvus-storage.so \
	  LOON_FUZZ_SCALE=$(ASAN_FUZZ_SCALE) \
	  $(PY) -m pytest -q -p no:cacheprovider $(ASAN_PYTESTS) \
	  --deselect tests/engine/test_abi.py::test_library_finds_arrow_without_pyarrow_imported  # its child has no ASan runtime

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) reports .stamps $(EMULATORS_DIR)
