package server_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/dbtest"
)

// BenchmarkPDFUploadToSearchable measures the time from uploadPdf to the
// resource being COMPLETED (extracted, chunked, embedded and indexed) for a
// 53-page real PDF: two manuals Debian ships, joined with pdfunite. Run:
//
//	go test -run '^$' -bench PDFUploadToSearchable -benchtime 3x ./server/
func BenchmarkPDFUploadToSearchable(b *testing.B) {
	parts := []string{"/usr/share/doc/libtasn1-doc/libtasn1.pdf", "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"}
	for _, p := range parts {
		if _, err := os.Stat(p); err != nil {
			b.Skipf("%s not installed (apt-get install libtasn1-doc shared-mime-info)", p)
		}
	}
	joined := filepath.Join(b.TempDir(), "joined.pdf")
	out, err := exec.Command("pdfunite", append(parts, joined)...).CombinedOutput()
	require.NoError(b, err, "%s", out)
	content, err := os.ReadFile(joined)
	require.NoError(b, err)

	d := dbtest.Open(b, "sqlite3")
	e := apitest.New(b, d)
	a := e.Register("bench")
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		r := e.Upload(a.AdminToken, uploadPDF, map[string]any{"f": nil}, map[string]apitest.File{"f": {Name: "manuals.pdf", Content: content}}).OK(b)
		id := uuid.MustParse(r.Str("uploadPdf.id"))
		require.Eventually(b, func() bool {
			st := e.Do(a.AdminToken, `query($id: ID!) { resource(id: $id) { status } }`, map[string]any{"id": id}).OK(b).Str("resource.status")
			require.NotEqual(b, "FAILED", st)
			return st == "COMPLETED"
		}, 2*time.Minute, 10*time.Millisecond)
		total += time.Since(start)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/pdf")
}
