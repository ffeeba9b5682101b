# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
# Both create a local virtual environment (.venv) and install requirements.txt first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test wheel-check lint clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)  ## the main job: binary MNIST transfer at the paper's settings
	$(BIN)/python binary_mnist_pathnet.py $(ARGS)

test: $(STAMP)  ## lint, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

wheel-check: $(STAMP)  ## the installed wheel in a fresh environment, outside the checkout
	bash tools/check_wheel.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
