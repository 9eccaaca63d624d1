# Concierge — run `make help` for the list of targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

GO ?= go
BIN := bin/concierge

.PHONY: help build run test generate migration lint weaviate-start weaviate-stop

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

build: ## Build the binary into bin/concierge
	$(GO) build -o $(BIN) ./cmd/concierge

run: ## Run the server (embedded defaults: SQLite in ./data)
	$(GO) run ./cmd/concierge serve

test: ## Vet and run all tests (PostgreSQL tests need TEST_DATABASE_URL or a local server; see .ci/run)
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 25m ./...

.PHONY: eval
eval: ## Retrieval quality check: recall@1/@5, MRR@10, decline rates per store+embedder (Weaviate with WEAVIATE_URL; ARGS=-v lists misses)
	$(GO) run ./retrieval/eval $(ARGS)

.PHONY: eval-answers
eval-answers: ## Answer quality check: cited-source recall, fact recall, answered/declined rates, latency per LLM provider (gemini with GEMINI_API_KEY; openai with LLM_BASE_URL+LLM_MODEL; ARGS=-v lists misses)
	$(GO) run ./assistant/eval $(ARGS)

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
