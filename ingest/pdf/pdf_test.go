package pdf

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	// The test binary doubles as the pure-Go child extractor.
	MaybeRunChild()
	os.Exit(m.Run())
}

var (
	page1 = []string{"Concierge test document.", "The quick brown fox jumps over the lazy dog.", "Refunds are processed within five business days."}
	page2 = []string{"Second page about shipping.", "Orders ship from Rotterdam every Tuesday morning."}
	page3 = []string{"Third page: warranty terms.", "Every kettle carries a two year warranty."}
)

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// requireTools skips the test when a tool is missing, except in CI (CI
// set), where it fails: .ci/run installs them.
func requireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s is not installed (apt-get install poppler-utils tesseract-ocr tesseract-ocr-eng)", tool)
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

func requireKind(t *testing.T, err error, kind error) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, kind, "got %v", err)
	var pe *Error
	require.ErrorAs(t, err, &pe)
	require.NotEmpty(t, pe.Error())
}

// noPoppler hides the poppler tools and tesseract from Extract.
func noPoppler(string) (string, error) { return "", exec.ErrNotFound }

type mode struct {
	name string
	opts Options
}

func modes() []mode {
	return []mode{
		{"pdftotext", Options{}},
		{"purego", Options{ForcePureGo: true}},
		{"purego-noPoppler", Options{LookPath: noPoppler}},
	}
}

func threePages(o pdfOpts) []byte {
	return buildPDF([]testPage{{lines: page1}, {lines: page2}, {lines: page3}}, o)
}

func TestCheck(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	require.ErrorIs(t, Check(nil), ErrEmpty)
	require.ErrorIs(t, Check(png), ErrNotPDF)
	require.ErrorIs(t, Check([]byte("<html>%PDF-")[:6]), ErrNotPDF)
	require.NoError(t, Check([]byte("%PDF-1.7\n")))
	require.NoError(t, Check(append(bytes.Repeat([]byte(" "), 1000), "%PDF-1.4"...)))
	require.ErrorIs(t, Check(append(bytes.Repeat([]byte(" "), 1020), "%PDF-1.4"...)), ErrNotPDF)
	require.Equal(t, "the file is not a PDF", Check(png).Error())
}

func TestValidate(t *testing.T) {
	doc := threePages(pdfOpts{})
	require.NoError(t, Validate(bytes.NewReader(doc), int64(len(doc)), Limits{}))
	err := Validate(bytes.NewReader(doc), int64(len(doc)), Limits{MaxBytes: 100})
	requireKind(t, err, ErrTooLarge)
	require.Contains(t, err.Error(), "limit is 100 bytes")
	requireKind(t, Validate(bytes.NewReader(nil), 0, Limits{}), ErrEmpty)
	png := []byte("\x89PNG\r\n\x1a\nrest-of-png")
	requireKind(t, Validate(bytes.NewReader(png), int64(len(png)), Limits{}), ErrNotPDF)
}

func TestLimitedReader(t *testing.T) {
	var out bytes.Buffer
	_, err := out.ReadFrom(NewLimitedReader(bytes.NewReader(make([]byte, 1000)), 999))
	require.ErrorIs(t, err, ErrTooLarge)
	require.LessOrEqual(t, out.Len(), 1000)
	out.Reset()
	_, err = out.ReadFrom(NewLimitedReader(bytes.NewReader(make([]byte, 1000)), 1000))
	require.NoError(t, err)
	require.Equal(t, 1000, out.Len())
}

func TestExtractMultiPage(t *testing.T) {
	requireTools(t, "pdftotext", "pdfinfo")
	for _, compress := range []bool{false, true} {
		path := writeFile(t, "policies.pdf", threePages(pdfOpts{title: "Store (policies)", compress: compress}))
		for _, m := range modes() {
			t.Run(fmt.Sprintf("%s/compress=%v", m.name, compress), func(t *testing.T) {
				doc, err := Extract(context.Background(), path, m.opts)
				require.NoError(t, err)
				want := "pdftotext"
				if m.name != "pdftotext" {
					want = "purego"
				}
				require.Equal(t, want, doc.Extractor)
				require.Equal(t, "Store (policies)", doc.Title)
				require.Len(t, doc.Pages, 3)
				for i, lines := range [][]string{page1, page2, page3} {
					require.Equal(t, i+1, doc.Pages[i].Number)
					require.Equal(t, strings.Join(lines, "\n"), doc.Pages[i].Text, "page %d", i+1)
				}
			})
		}
	}
}

func TestTitleFromFileName(t *testing.T) {
	requireTools(t, "pdftotext", "pdfinfo")
	path := writeFile(t, "Returns Handbook.pdf", threePages(pdfOpts{}))
	for _, m := range modes() {
		doc, err := Extract(context.Background(), path, m.opts)
		require.NoError(t, err, m.name)
		require.Equal(t, "Returns Handbook", doc.Title, m.name)
	}
}

func TestNotPDFEmptyTooLarge(t *testing.T) {
	png := writeFile(t, "x.pdf", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"))
	empty := writeFile(t, "empty.pdf", nil)
	good := writeFile(t, "good.pdf", threePages(pdfOpts{}))
	for _, m := range modes() {
		t.Run(m.name, func(t *testing.T) {
			_, err := Extract(context.Background(), png, m.opts)
			requireKind(t, err, ErrNotPDF)
			_, err = Extract(context.Background(), empty, m.opts)
			requireKind(t, err, ErrEmpty)
			o := m.opts
			o.Limits.MaxBytes = 200
			_, err = Extract(context.Background(), good, o)
			requireKind(t, err, ErrTooLarge)
		})
	}
}

func TestEncrypted(t *testing.T) {
	path := writeFile(t, "secret.pdf", threePages(pdfOpts{encrypt: true}))
	for _, m := range modes() {
		t.Run(m.name, func(t *testing.T) {
			_, err := Extract(context.Background(), path, m.opts)
			requireKind(t, err, ErrEncrypted)
			require.Equal(t, "the PDF is password-protected", err.Error())
		})
	}
}

func TestCorrupt(t *testing.T) {
	full := threePages(pdfOpts{compress: true})
	cases := map[string][]byte{
		"truncated":    full[:len(full)/3],
		"header-only":  []byte("%PDF-1.4\n"),
		"garbage-tail": append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 4096)...),
	}
	for name, data := range cases {
		path := writeFile(t, name+".pdf", data)
		for _, m := range modes() {
			t.Run(name+"/"+m.name, func(t *testing.T) {
				var doc *Document
				var err error
				require.NotPanics(t, func() { doc, err = Extract(context.Background(), path, m.opts) })
				require.Nil(t, doc)
				requireKind(t, err, ErrCorrupt)
				require.Equal(t, "the PDF is damaged and cannot be read", err.Error())
			})
		}
	}
}

func TestTooManyPages(t *testing.T) {
	path := writeFile(t, "five.pdf", buildPDF(paginate(wrapWords(strings.Repeat("lorem ipsum dolor sit amet ", 200), 80), 10), pdfOpts{}))
	for _, m := range modes() {
		t.Run(m.name, func(t *testing.T) {
			o := m.opts
			o.Limits.MaxPages = 3
			_, err := Extract(context.Background(), path, o)
			requireKind(t, err, ErrTooManyPages)
			require.Contains(t, err.Error(), "the limit is 3")
		})
	}
}

// One compressed content stream (~24 KB of text) shared by 100 pages: a
// small file that inflates to ~2.4 MB of text.
func TestBombHitsTextCap(t *testing.T) {
	var raw strings.Builder
	raw.WriteString("BT /F1 5 Tf 6 TL 10 780 Td\n")
	row := "(" + strings.Repeat("bomb ", 40) + ") Tj T*\n"
	for range 120 {
		raw.WriteString(row)
	}
	raw.WriteString("ET")
	pages := make([]testPage, 100)
	for i := range pages {
		pages[i].raw = raw.String()
	}
	data := buildPDF(pages, pdfOpts{compress: true})
	require.Less(t, len(data), 64<<10, "the bomb must be small on disk")
	path := writeFile(t, "bomb.pdf", data)
	for _, m := range modes() {
		t.Run(m.name, func(t *testing.T) {
			o := m.opts
			o.Limits.MaxTextBytes = 256 << 10
			start := time.Now()
			_, err := Extract(context.Background(), path, o)
			requireKind(t, err, ErrTooMuchText)
			require.Less(t, time.Since(start), 30*time.Second)
			// The same file passes with a generous cap: the cap is what tripped.
			o.Limits.MaxTextBytes = 8 << 20
			doc, err := Extract(context.Background(), path, o)
			require.NoError(t, err)
			require.Len(t, doc.Pages, 100)
			require.Greater(t, len(docText(doc)), 256<<10)
		})
	}
}

func TestChildTimeout(t *testing.T) {
	path := writeFile(t, "ok.pdf", threePages(pdfOpts{}))
	o := Options{ForcePureGo: true, Timeout: 500 * time.Millisecond}
	o.childEnv = []string{childTestSleepEnv + "=30s"}
	start := time.Now()
	_, err := Extract(context.Background(), path, o)
	requireKind(t, err, ErrTimeout)
	require.Less(t, time.Since(start), 5*time.Second)

	// A cancelled caller context stops the child too.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	o.Timeout = time.Minute
	start = time.Now()
	_, err = Extract(ctx, path, o)
	requireKind(t, err, ErrTimeout)
	require.Less(t, time.Since(start), 5*time.Second)
}

// The child's memory limit is real: with a small limit the
// child dies, and the parent reports a clean error instead of crashing.
func TestChildMemoryLimit(t *testing.T) {
	path := writeFile(t, "ok.pdf", threePages(pdfOpts{compress: true}))
	doc, err := Extract(context.Background(), path, Options{ForcePureGo: true, ChildMemoryLimit: 256 << 20})
	require.NoError(t, err)
	require.Len(t, doc.Pages, 3)

	var raw strings.Builder
	raw.WriteString("BT /F1 0.5 Tf 0.6 TL 10 780 Td\n")
	for range 2000 {
		raw.WriteString("(" + strings.Repeat("W", 2000) + ") Tj T*\n")
	}
	raw.WriteString("ET")
	bomb := writeFile(t, "bomb.pdf", buildPDF([]testPage{{raw: raw.String()}}, pdfOpts{compress: true}))
	_, err = Extract(context.Background(), bomb, Options{ForcePureGo: true, ChildMemoryLimit: 64 << 20, Limits: Limits{MaxTextBytes: 1 << 30}})
	requireKind(t, err, ErrCorrupt)
	var pe *Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "the PDF needs too much memory to read", err.Error(), "%.600s", pe.Detail)
}

func TestExtractNeverPanics(t *testing.T) {
	_, err := Extract(context.Background(), filepath.Join(t.TempDir(), "missing.pdf"), Options{})
	require.Error(t, err)
	require.True(t, errors.Is(err, os.ErrNotExist))
}

// renderGray rasterises page 1 of a PDF with pdftoppm into 8-bit gray pixels.
func renderGray(t *testing.T, pdfPath string, dpi int) *grayImage {
	out, err := exec.Command("pdftoppm", "-r", fmt.Sprint(dpi), "-gray", "-singlefile", "-f", "1", "-l", "1", pdfPath).Output()
	require.NoError(t, err)
	br := bufio.NewReader(bytes.NewReader(out))
	var magic string
	var w, h, maxv int
	_, err = fmt.Fscan(br, &magic, &w, &h, &maxv)
	require.NoError(t, err)
	require.Equal(t, "P5", magic)
	_, err = br.ReadByte() // single whitespace after header
	require.NoError(t, err)
	pix := make([]byte, w*h)
	_, err = io_ReadFull(br, pix)
	require.NoError(t, err)
	return &grayImage{w: w, h: h, pix: pix}
}

func scannedPDF(t *testing.T) string {
	requireTools(t, "pdftoppm")
	lines := []string{"INVOICE NUMBER 4711", "", "Thank you for shopping at Kettle World.", "Returns are accepted within thirty days."}
	text := writeFile(t, "text.pdf", buildPDF([]testPage{{lines: lines}}, pdfOpts{fontSize: 20}))
	img := renderGray(t, text, 100)
	return writeFile(t, "scan.pdf", buildPDF([]testPage{{img: img}, {img: img}}, pdfOpts{compress: true}))
}

func TestScannedOCR(t *testing.T) {
	requireTools(t, "pdftotext", "pdfinfo", "pdftoppm", "tesseract")
	path := scannedPDF(t)
	doc, err := Extract(context.Background(), path, Options{})
	require.NoError(t, err)
	require.Equal(t, "ocr", doc.Extractor)
	require.Len(t, doc.Pages, 2)
	for i, p := range doc.Pages {
		require.Equal(t, i+1, p.Number)
		lower := strings.ToLower(p.Text)
		for _, w := range []string{"invoice", "4711", "kettle", "returns", "thirty"} {
			require.Contains(t, lower, w, "page %d OCR text: %q", i+1, p.Text)
		}
	}
	// The pure-Go extractor also finds no text, then OCR takes over.
	doc, err = Extract(context.Background(), path, Options{ForcePureGo: true})
	require.NoError(t, err)
	require.Equal(t, "ocr", doc.Extractor)
}

func TestScannedWithoutOCR(t *testing.T) {
	path := scannedPDF(t)
	noTesseract := func(name string) (string, error) {
		if name == "tesseract" {
			return "", exec.ErrNotFound
		}
		return exec.LookPath(name)
	}
	for _, o := range []Options{{LookPath: noTesseract}, {DisableOCR: true}, {LookPath: noPoppler}} {
		_, err := Extract(context.Background(), path, o)
		requireKind(t, err, ErrNoText)
		require.ErrorIs(t, err, ErrScanned)
		require.Equal(t, "the PDF has no text layer and OCR is not available", err.Error())
	}
}

func TestOCRTimeout(t *testing.T) {
	requireTools(t, "pdftotext", "pdfinfo", "pdftoppm", "tesseract")
	path := scannedPDF(t)
	_, err := Extract(context.Background(), path, Options{OCRPageTimeout: time.Millisecond})
	requireKind(t, err, ErrTimeout)
}

// The pure-Go extractor must put spaces between words of pdfTeX output
// (which has no space glyphs); compare with pdftotext on real files.
func TestPureGoOnRealPDFs(t *testing.T) {
	files := realPDFs()
	if len(files) == 0 {
		t.Skip("no real PDFs on this machine")
	}
	requireTools(t, "pdftotext", "pdfinfo")
	for _, f := range files {
		ref, err := Extract(context.Background(), f, Options{})
		require.NoError(t, err)
		got, err := Extract(context.Background(), f, Options{ForcePureGo: true})
		require.NoError(t, err, f)
		require.Len(t, got.Pages, len(ref.Pages))
		r := wordRecall(docText(ref), docText(got))
		t.Logf("%s: pure-Go word recall vs pdftotext %.2f", filepath.Base(f), r)
		require.Greater(t, r, 0.6, f)
	}
}
