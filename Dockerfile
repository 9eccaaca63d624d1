# Concierge in one image: `concierge serve` (the default command),
# `concierge worker`, `concierge migrate`, `concierge superadmin create`.
#
#   docker build -t concierge .
#   docker compose up -d          (compose.yaml: PostgreSQL, Weaviate, two replicas, a worker)
#
# The stages run what `make build` runs: the dashboard (npm ci, vite build)
# and the word vectors (make vectors: npm ci, go run ./pack) are built with
# Node 20, then embedded into the Go binary.

ARG GO_IMAGE=golang:1.26-bookworm
ARG NODE_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${GO_IMAGE} AS go

# --- the dashboard and the word vectors (Node 20, and Go for ./pack) --------
FROM ${NODE_IMAGE} AS assets
COPY --from=go /usr/local/go /usr/local/go
ENV PATH=/usr/local/go/bin:/root/go/bin:$PATH GOFLAGS=-mod=readonly
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# REQUIRE_NODE=1: fail rather than skip when npm is missing.
RUN make dashboard vectors REQUIRE_NODE=1

# --- the binary --------------------------------------------------------------
FROM go AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=assets /src/web/dashboard/dist/app web/dashboard/dist/app
COPY --from=assets /src/retrieval/embed/wordvec/dist retrieval/embed/wordvec/dist
RUN go build -trimpath -ldflags='-s -w' -o /out/concierge ./cmd/concierge

# --- the runtime ---------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
# poppler-utils (pdftotext, pdfinfo, pdftoppm) and tesseract read PDFs, OCR
# included; the crawler renders JavaScript with Chromium at /usr/bin/chromium
# (CHROME_BIN to change it); curl answers the healthchecks; the PostgreSQL
# client and sqlite3 run scripts/backup.sh and scripts/restore.sh.
RUN apt-get update \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		ca-certificates tzdata curl \
		poppler-utils tesseract-ocr tesseract-ocr-eng \
		chromium fonts-liberation \
		postgresql-client sqlite3 \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --uid 10001 --home-dir /var/lib/concierge --create-home concierge \
	&& mkdir -p /var/lib/concierge/files /backups \
	&& chown concierge:concierge /var/lib/concierge/files /backups
COPY --from=build /out/concierge /usr/local/bin/concierge
COPY scripts/backup.sh scripts/restore.sh /usr/local/bin/
USER concierge
WORKDIR /var/lib/concierge
# The data directory: SQLite (default mode), uploaded files (files/, shared
# by every replica and worker in production), generated secrets. files/ and
# /backups exist, owned by concierge, so named volumes mounted there start
# writable.
ENV CONCIERGE_DATA_DIR=/var/lib/concierge CONCIERGE_ADDR=:8080
VOLUME /var/lib/concierge
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
	CMD curl -fsS -o /dev/null http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["concierge"]
CMD ["serve"]
