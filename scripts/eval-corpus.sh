#!/usr/bin/env bash
# Fetches the real public documents of the answer-quality eval's second
# corpus (assistant/eval, "realdocs") into a cache directory, outside the
# repository: no document is committed. Idempotent: once complete (the stamp
# file names this script's CORPUS_VERSION) it does nothing.
#
#   scripts/eval-corpus.sh [DIR]     DIR default: $EVAL_CORPUS_DIR, else
#                                    ~/.cache/concierge/eval-corpus
#
# Everything comes from Debian's archive with apt-get download (no web):
#
#   debian-faq 11.1           the Debian FAQ, 17 HTML pages (a documentation
#                             website; copyright SPI, verbatim/modified copying
#                             permitted: LICENSES/debian-faq.copyright)
#   r-doc-pdf 4.2.2.20221110  R-FAQ.pdf (52 pages), R-admin.pdf (R
#                             Installation and Administration, 85 pages) and
#                             R-data.pdf (R Core Team, permission notice of
#                             the GNU manuals: LICENSES/r-doc-pdf.copyright)
#
# and the scanned PDF is made here: pages 21-23 of R-data.pdf (chapter 4,
# Relational databases) rasterised by pdftoppm (poppler-utils) and wrapped
# as image-only pages by assistant/eval/imgpdf, so the eval exercises the
# OCR path of ingest/pdf. Needs apt-get, dpkg-deb, pdftoppm and go.
set -euo pipefail

CORPUS_VERSION=2
DIR="$(realpath -m "${1:-${EVAL_CORPUS_DIR:-$HOME/.cache/concierge/eval-corpus}}")"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD
STAMP="$DIR/.complete"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$CORPUS_VERSION" ]]; then
	exit 0
fi

for tool in apt-get dpkg-deb pdftoppm go; do
	command -v "$tool" >/dev/null || {
		echo "eval-corpus: $tool is needed (pdftoppm: apt-get install poppler-utils)" >&2
		exit 1
	}
done

# Pinned versions (bookworm) so that the questions match the documents; a
# version gone from the archive falls back to the current one, with a warning.
PACKAGES=(debian-faq=11.1 r-doc-pdf=4.2.2.20221110-2)

mkdir -p "$DIR"
WORK="$(mktemp -d "$DIR/.fetch.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK" # apt-get download runs as _apt when it can

download() { # pkg=version
	local spec=$1 name=${1%%=*}
	(cd "$WORK" && apt-get download -qq "$spec" 2>/dev/null) && return 0
	# The package lists may be missing or stale (a fresh machine).
	if [[ -z "${updated:-}" ]]; then
		updated=1
		echo "eval-corpus: apt-get update" >&2
		apt-get update -qq >/dev/null 2>&1 || true
		(cd "$WORK" && apt-get download -qq "$spec" 2>/dev/null) && return 0
	fi
	echo "eval-corpus: warning: $spec is not in the archive; taking the current $name (questions may no longer match)" >&2
	(cd "$WORK" && apt-get download -qq "$name")
}

for spec in "${PACKAGES[@]}"; do
	download "$spec"
done

OUT="$WORK/out"
mkdir -p "$OUT/debian-faq" "$OUT/pdf" "$OUT/scanned" "$OUT/LICENSES"
: >"$OUT/MANIFEST"
for deb in "$WORK"/*.deb; do
	name=$(dpkg-deb -f "$deb" Package)
	echo "$name $(dpkg-deb -f "$deb" Version)" >>"$OUT/MANIFEST"
	dpkg-deb -x "$deb" "$WORK/root"
	cp "$WORK/root/usr/share/doc/$name/copyright" "$OUT/LICENSES/$name.copyright"
done

# The FAQ's English pages (the site's links point to *.en.html) with its
# stylesheet; the other names are symlinks to them.
FAQ="$WORK/root/usr/share/doc/debian/FAQ"
cp "$FAQ"/*.en.html "$FAQ/debian.css" "$OUT/debian-faq/"

cp "$WORK/root/usr/share/R/doc/manual/R-FAQ.pdf" "$OUT/pdf/r-faq.pdf"
cp "$WORK/root/usr/share/R/doc/manual/R-admin.pdf" "$OUT/pdf/r-admin.pdf"

pdftoppm -r 150 -gray -jpeg -f 21 -l 23 "$WORK/root/usr/share/R/doc/manual/R-data.pdf" "$WORK/scan"
go run "$REPO/assistant/eval/imgpdf" -o "$OUT/scanned/r-data-databases.pdf" -dpi 150 "$WORK"/scan-*.jpg

rm -rf "$DIR/debian-faq" "$DIR/pdf" "$DIR/scanned" "$DIR/LICENSES"
mv "$OUT/debian-faq" "$OUT/pdf" "$OUT/scanned" "$OUT/LICENSES" "$OUT/MANIFEST" "$DIR/"
echo "$CORPUS_VERSION" >"$STAMP"
echo "eval-corpus: documents in $DIR" >&2
