# Everything installs into .venv; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint bench clean venv test-floor

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check soviet_art_bot scripts tests bench
	$(BIN)/python -m pytest -q

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

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(FLOOR_VENV) build demo outbox .pytest_cache
