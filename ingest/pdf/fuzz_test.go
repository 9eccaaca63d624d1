package pdf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzExtract fuzzes the pure-Go parsing entry point that runs in the child
// process. It must never panic and must fail only with package errors.
// The seed corpus lives in testdata/fuzz/FuzzExtract plus the seeds below.
//
//	go test -run '^$' -fuzz FuzzExtract -fuzztime 30s ./ingest/pdf/
func FuzzExtract(f *testing.F) {
	f.Add(threePages(pdfOpts{}))
	f.Add(threePages(pdfOpts{compress: true, title: "t"}))
	f.Add(threePages(pdfOpts{encrypt: true}))
	f.Add([]byte("%PDF-1.4\n"))
	f.Add([]byte("%PDF-1.4\ntrailer\n<< /Root 1 0 R >>\nstartxref\n0\n%%EOF\n"))
	seeds, _ := filepath.Glob("testdata/seed/*.pdf")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	lim := Limits{MaxPages: 50, MaxTextBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		type result struct {
			doc *Document
			err error
		}
		done := make(chan result, 1)
		go func() {
			doc, err := ExtractPureGo(bytes.NewReader(data), int64(len(data)), lim)
			done <- result{doc, err}
		}()
		var doc *Document
		var err error
		select {
		case r := <-done:
			doc, err = r.doc, r.err
		case <-time.After(5 * time.Second):
			// In production the child process's timeout handles this.
			t.Skipf("pure-Go parser hangs on this input (%d bytes): the child timeout covers it", len(data))
		}
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error outside the package's kinds: %v", err)
			}
			return
		}
		if len(doc.Pages) == 0 || len(doc.Pages) > lim.MaxPages {
			t.Fatalf("bad page count %d", len(doc.Pages))
		}
		for i, p := range doc.Pages {
			if p.Number != i+1 {
				t.Fatalf("page %d numbered %d", i+1, p.Number)
			}
		}
	})
}
