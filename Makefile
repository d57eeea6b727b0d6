# publisher: `make all` builds every artifact (creating .venv on first use), `make test` runs the suite.
PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
CONTENT ?= content
OUT     ?= build
STAMP   := $(VENV)/.installed

.PHONY: all anki pdf epub check stats test test-fast bench fuzz preview system-deps clean

all: $(STAMP)
	@bash scripts/system-deps.sh runtime  # pango and the Noto fonts for every script, when it can install them
	$(BIN)/publisher build $(CONTENT) --out $(OUT)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q publisher >/dev/null  # editable installs compile nothing; saves 0.1 s a command
	touch $@

anki pdf epub: $(STAMP)
	$(BIN)/publisher build $(CONTENT) --out $(OUT) --format $@

check: $(STAMP)
	$(BIN)/publisher check $(CONTENT)

stats: $(STAMP)
	$(BIN)/publisher stats $(CONTENT)

# Debian packages the renderers and the tests need (installed when run as root).
system-deps:
	bash scripts/system-deps.sh

test: $(STAMP) system-deps
	$(BIN)/pytest -q

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow and not ace"

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m compileall -q publisher >/dev/null  # measure what users run: compiled modules
	$(BIN)/python bench/bench.py

# sheet page 1, an EPUB chapter and a card, day and night, as PNGs in $(OUT)/preview/ (tests/look.py)
preview: $(STAMP)
	$(BIN)/python tests/look.py $(CONTENT) $(OUT)/preview

fuzz: $(STAMP)
	$(BIN)/python tests/fuzz.py --minutes 10

clean:
	rm -rf $(OUT)
