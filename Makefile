# Two commands: `make run` (set up, analyse the demo corpus, serve the app) and
# `make test` (set up, run the tests). Both bootstrap .venv on first use.
# The first of python3.11, 3.12, 3.13 found (3.11 is the tested one).
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501
DEMO := corpora/demo
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test bench lint demo browser clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -c 'import sys; sys.exit("insight needs Python 3.11, 3.12 or 3.13, found " + sys.version.split()[0]) if not (3, 11) <= sys.version_info[:2] <= (3, 13) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(DEMO)/feedback.csv: | $(STAMP)
	$(BIN)/python -m corpora.generate --size demo --seed 0 --out $(DEMO)

$(DEMO)/out/summary.json: $(DEMO)/feedback.csv
	$(BIN)/insight analyze --feedback $(DEMO)/feedback.csv --customers $(DEMO)/customers.csv \
		--codeframe models/codeframe_default.yaml --out $(DEMO)/out --seed 0

demo: $(DEMO)/out/summary.json

run: $(STAMP) demo
	@echo "insight is starting at http://127.0.0.1:$(PORT)  (Ctrl+C to stop)"
	$(BIN)/streamlit run app.py --server.headless true --server.address 127.0.0.1 --server.port $(PORT)

browser:
	@bash scripts/install_browser.sh

# pytest's exit code 5 (no test collected) is reported and fails like any other.
test: $(STAMP) browser
	$(BIN)/python -m pytest -q; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$status

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/python -m compileall -q insight corpora bench tests app.py

clean:
	rm -rf $(VENV) $(DEMO) corpora/large corpora/scale
