package pdf

import (
	"io"
	"os"
	"path/filepath"
	"strings"
)

var io_ReadFull = io.ReadFull

func realPDFs() []string {
	var out []string
	for _, pat := range []string{"/usr/share/doc/*/*.pdf", "/usr/share/doc/*/*/*.pdf"} {
		m, _ := filepath.Glob(pat)
		out = append(out, m...)
	}
	var ok []string
	for _, f := range out {
		if st, err := os.Stat(f); err == nil && st.Size() < 20<<20 {
			ok = append(ok, f)
		}
	}
	return ok
}

func docText(d *Document) string {
	var b strings.Builder
	for _, p := range d.Pages {
		b.WriteString(p.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		w = strings.ToLower(strings.Trim(w, ".,;:()[]{}\"'!?"))
		if len(w) > 2 {
			m[w] = true
		}
	}
	return m
}

// wordRecall is the share of ref's distinct words (3+ letters) found in got.
func wordRecall(ref, got string) float64 {
	r, g := wordSet(ref), wordSet(got)
	if len(r) == 0 {
		return 0
	}
	n := 0
	for w := range r {
		if g[w] {
			n++
		}
	}
	return float64(n) / float64(len(r))
}
