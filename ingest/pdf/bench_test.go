package pdf

import (
	"context"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// benchPDFs returns real PDFs shipped by Debian plus a generated 50-page PDF
// of real prose (the Go spec, when the Go tree is present).
func benchPDFs(b *testing.B) []string {
	files := realPDFs()
	{
		spec, _ := os.ReadFile(filepath.Join(runtime.GOROOT(), "doc", "go_spec.html"))
		if len(spec) > 0 {
			text := html.UnescapeString(regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(string(spec), " "))
			var ascii strings.Builder
			for _, r := range text {
				if r < 128 {
					ascii.WriteRune(r)
				}
			}
			pages := paginate(wrapWords(ascii.String(), 95), 55)
			if len(pages) > 50 {
				pages = pages[:50]
			}
			data := buildPDF(pages, pdfOpts{title: "The Go Programming Language Specification", compress: true, fontSize: 10})
			files = append(files, writeFile(b, "go_spec_50p.pdf", data))
		}
	}
	if len(files) == 0 {
		b.Skip("no PDFs to benchmark")
	}
	return files
}

func benchExtract(b *testing.B, opts Options) {
	opts.DisableOCR = true
	for _, f := range benchPDFs(b) {
		ref, err := Extract(context.Background(), f, Options{DisableOCR: true})
		require.NoError(b, err)
		refText := docText(ref)
		b.Run(filepath.Base(f), func(b *testing.B) {
			var doc *Document
			var err error
			start := time.Now()
			for b.Loop() {
				doc, err = Extract(context.Background(), f, opts)
				require.NoError(b, err)
			}
			elapsed := time.Since(start)
			text := docText(doc)
			b.ReportMetric(float64(len(doc.Pages)*b.N)/elapsed.Seconds(), "pages/s")
			b.ReportMetric(float64(len(strings.Fields(text))), "words")
			b.ReportMetric(wordRecall(refText, text), "recall")
		})
	}
}

// BenchmarkPdftotext: the primary extractor (pdfinfo + pdftotext).
func BenchmarkPdftotext(b *testing.B) {
	requireTools(b, "pdftotext", "pdfinfo")
	benchExtract(b, Options{})
}

// BenchmarkPureGo: the fallback, in its child process (spawn included).
func BenchmarkPureGo(b *testing.B) {
	requireTools(b, "pdftotext", "pdfinfo") // for the reference text
	benchExtract(b, Options{ForcePureGo: true})
}
