# nerasense — two commands do all set-up on a fresh machine:
#   make demo   create .venv, install, run the main job on the bundled examples (writes out/)
#   make test   create .venv, install, lint, type-check and run the tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck venv clean bench fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/run_demo.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples fuzz

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache

# fuzz (issue 17): 20,000 damaged inputs over every reader through the CLI (fuzz/harness.py), then atheris on the
# byte-level readers for FUZZ_ATHERIS_SECONDS each when atheris is installed (pip install -e '.[fuzz]').
# Not part of `make test`; tests/test_fuzz_properties.py runs a short smoke run in CI.
FUZZ_INPUTS ?= 20000
FUZZ_ATHERIS_SECONDS ?= 60
fuzz: $(STAMP)
	$(BIN)/python fuzz/harness.py --inputs $(FUZZ_INPUTS) --crashes out/fuzz-crashes
	@if $(BIN)/python -c "import atheris" 2>/dev/null; then \
	  mkdir -p out/fuzz-atheris && cd out/fuzz-atheris && for r in maf vcf cna patient ctdna lesions; do \
	    echo "== atheris $$r ($(FUZZ_ATHERIS_SECONDS) s)"; \
	    ../../$(BIN)/python ../../fuzz/atheris_readers.py $$r -max_total_time=$(FUZZ_ATHERIS_SECONDS) -rss_limit_mb=3000 \
	      2>&1 | grep -E "^(Done|==[0-9]+== ERROR|=== Uncaught)" || exit 1; \
	  done; \
	else echo "atheris not installed: pip install -e '.[fuzz]' for the coverage-guided runs"; fi
