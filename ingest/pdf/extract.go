package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode"
)

var lookPath = exec.LookPath

// Extract reads the text of the PDF at path, page by page, and repairs it
// (Repair: ligatures, accents, line-end hyphenation) whichever way it was
// read. It validates the file first and never panics; every error wraps one of the package's
// sentinel errors and carries a user-facing message.
func Extract(ctx context.Context, path string, opts Options) (doc *Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, newErr(ErrCorrupt, "", fmt.Sprintf("panic: %v\n%s", r, debug.Stack()))
		}
	}()
	opts = opts.withDefaults()

	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pdf: open: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("pdf: stat: %w", err)
	}
	err = Validate(f, st.Size(), opts.Limits)
	f.Close()
	if err != nil {
		return nil, err
	}

	usePoppler := !opts.ForcePureGo && has(opts, "pdftotext") && has(opts, "pdfinfo")
	if usePoppler {
		doc, err = extractPoppler(ctx, path, opts)
	} else {
		doc, err = extractChild(ctx, path, opts)
	}
	if err != nil {
		return nil, err
	}
	if doc.Title == "" {
		doc.Title = titleFromName(path)
	}
	if !looksScanned(doc, opts.MinCharsPerPage) {
		Repair(doc)
		return doc, nil
	}
	// Almost no text: a scanned PDF.
	if opts.DisableOCR || !has(opts, "pdftoppm") || !has(opts, "tesseract") {
		return nil, newErr(ErrNoText, "", "")
	}
	ocr, err := extractOCR(ctx, path, len(doc.Pages), opts)
	if err != nil {
		return nil, err
	}
	ocr.Title = doc.Title
	if looksEmpty(ocr) {
		return nil, newErr(ErrNoText, "the PDF has no text layer and OCR found no readable text", "")
	}
	Repair(ocr)
	return ocr, nil
}

func has(opts Options, tool string) bool {
	_, err := opts.LookPath(tool)
	return err == nil
}

func titleFromName(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

func countChars(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsSpace(r) && unicode.IsPrint(r) {
			n++
		}
	}
	return n
}

func looksScanned(doc *Document, minPerPage int) bool {
	if len(doc.Pages) == 0 {
		return true
	}
	total := 0
	for _, p := range doc.Pages {
		total += countChars(p.Text)
	}
	return total < minPerPage*len(doc.Pages)
}

func looksEmpty(doc *Document) bool {
	for _, p := range doc.Pages {
		if countChars(p.Text) > 0 {
			return false
		}
	}
	return true
}

// ---- poppler ----

type info struct {
	pages     int
	encrypted bool
	title     string
}

func pdfInfo(ctx context.Context, path string, opts Options) (info, error) {
	out, stderr, err := runCapped(ctx, opts, nil, 1<<20, "pdfinfo", "-enc", "UTF-8", path)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, ErrTimeout) {
			return info{}, newErr(ErrTimeout, "", stderr)
		}
		if strings.Contains(stderr, "Incorrect password") || strings.Contains(stderr, "ncrypt") {
			return info{}, newErr(ErrEncrypted, "", stderr)
		}
		return info{}, newErr(ErrCorrupt, "", strings.TrimSpace(stderr+" "+err.Error()))
	}
	var in info
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Pages":
			in.pages, _ = strconv.Atoi(v)
		case "Encrypted":
			in.encrypted = strings.HasPrefix(v, "yes")
		case "Title":
			in.title = v
		}
	}
	return in, nil
}

func extractPoppler(ctx context.Context, path string, opts Options) (*Document, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	in, err := pdfInfo(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	if in.encrypted {
		// pdfinfo opens files with an empty user password; text may still
		// be readable, but a protected upload is refused as the user expects.
		return nil, newErr(ErrEncrypted, "", "pdfinfo: Encrypted: yes")
	}
	if in.pages <= 0 {
		return nil, newErr(ErrCorrupt, "", "pdfinfo reports no pages")
	}
	if in.pages > opts.Limits.MaxPages {
		return nil, tooManyPages(in.pages, opts.Limits.MaxPages)
	}
	// Plain (reading-order) mode: -layout pads with spaces and interleaves
	// columns, which hurts chunking and retrieval of prose.
	out, stderr, err := runCapped(ctx, opts, nil, opts.Limits.MaxTextBytes, "pdftotext",
		"-enc", "UTF-8", "-eol", "unix", "-f", "1", "-l", strconv.Itoa(in.pages), path, "-")
	if err != nil {
		if errors.Is(err, ErrTooMuchText) {
			return nil, err
		}
		if ctx.Err() != nil || errors.Is(err, ErrTimeout) {
			return nil, newErr(ErrTimeout, "", stderr)
		}
		if strings.Contains(stderr, "Incorrect password") {
			return nil, newErr(ErrEncrypted, "", stderr)
		}
		return nil, newErr(ErrCorrupt, "", strings.TrimSpace(stderr+" "+err.Error()))
	}
	parts := strings.Split(string(out), "\f")
	doc := &Document{Title: in.title, Extractor: "pdftotext"}
	for i := 0; i < in.pages; i++ {
		t := ""
		if i < len(parts) {
			t = cleanText(parts[i])
		}
		doc.Pages = append(doc.Pages, Page{Number: i + 1, Text: t})
	}
	return doc, nil
}

func tooManyPages(n, max int) error {
	return newErr(ErrTooManyPages, fmt.Sprintf("the PDF has too many pages (%d, the limit is %d)", n, max), "")
}

func tooMuchText(max int64) error {
	return newErr(ErrTooMuchText, fmt.Sprintf("the PDF expands to more text than allowed (the limit is %s)", humanBytes(max)), "")
}

// cleanText normalises line endings and trims trailing spaces on each line.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ToValidUTF8(s, "")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// runCapped runs a tool, reading at most max bytes of stdout; when the tool
// writes more it is killed and ErrTooMuchText returned. stderr is capped too.
func runCapped(ctx context.Context, opts Options, stdin io.Reader, max int64, name string, args ...string) ([]byte, string, error) {
	bin, err := opts.LookPath(name)
	if err != nil {
		return nil, "", fmt.Errorf("%s not found: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = stdin
	cmd.WaitDelay = 2 * time.Second
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	if os.Getenv("OMP_THREAD_LIMIT") == "" {
		// tesseract's OpenMP threads fight each other and the other jobs:
		// on 2 cores a page took 11.8 s with them and 2.4 s with one.
		cmd.Env = append(cmd.Env, "OMP_THREAD_LIMIT=1")
	}
	var stderr cappedBuffer
	stderr.max = 64 << 10
	cmd.Stderr = &stderr
	return readCapped(ctx, cmd, max, &stderr)
}

func readCapped(ctx context.Context, cmd *exec.Cmd, max int64, stderr *cappedBuffer) ([]byte, string, error) {
	return readCappedStarted(ctx, cmd, max, stderr, nil)
}

// readCappedStarted is readCapped calling started with the process id once
// it runs.
func readCappedStarted(ctx context.Context, cmd *exec.Cmd, max int64, stderr *cappedBuffer, started func(pid int)) ([]byte, string, error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	if started != nil {
		started(cmd.Process.Pid)
	}
	var buf bytes.Buffer
	n, rerr := io.Copy(&buf, io.LimitReader(stdout, max+1))
	if n > max {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, stderr.String(), tooMuchText(max)
	}
	werr := cmd.Wait()
	if ctx.Err() != nil {
		return nil, stderr.String(), newErr(ErrTimeout, "", stderr.String())
	}
	if werr != nil {
		return nil, stderr.String(), werr
	}
	if rerr != nil {
		return nil, stderr.String(), rerr
	}
	return buf.Bytes(), stderr.String(), nil
}

type cappedBuffer struct {
	bytes.Buffer
	max int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		if len(p) > room {
			c.Buffer.Write(p[:room])
		} else {
			c.Buffer.Write(p)
		}
	}
	return len(p), nil
}

// ---- OCR ----

const maxPageImage = 64 << 20

func extractOCR(ctx context.Context, path string, pages int, opts Options) (*Document, error) {
	if pages > opts.Limits.MaxPages {
		return nil, tooManyPages(pages, opts.Limits.MaxPages)
	}
	doc := &Document{Extractor: "ocr"}
	var total int64
	for n := 1; n <= pages; n++ {
		text, err := ocrPage(ctx, path, n, opts)
		if err != nil {
			return nil, err
		}
		total += int64(len(text))
		if total > opts.Limits.MaxTextBytes {
			return nil, tooMuchText(opts.Limits.MaxTextBytes)
		}
		doc.Pages = append(doc.Pages, Page{Number: n, Text: text})
	}
	return doc, nil
}

func ocrPage(ctx context.Context, path string, n int, opts Options) (string, error) {
	if ctx.Err() != nil {
		return "", newErr(ErrTimeout, "", ctx.Err().Error())
	}
	pctx, cancel := context.WithTimeout(ctx, opts.OCRPageTimeout)
	defer cancel()
	page := strconv.Itoa(n)
	png, stderr, err := runCapped(pctx, opts, nil, maxPageImage, "pdftoppm",
		"-r", "200", "-gray", "-png", "-singlefile", "-f", page, "-l", page, path)
	if err != nil {
		return "", ocrErr(pctx, err, stderr)
	}
	out, stderr, err := runCapped(pctx, opts, bytes.NewReader(png), opts.Limits.MaxTextBytes,
		"tesseract", "stdin", "stdout", "-l", opts.OCRLanguage)
	if err != nil {
		return "", ocrErr(pctx, err, stderr)
	}
	return cleanText(strings.ReplaceAll(string(out), "\f", "")), nil
}

func ocrErr(ctx context.Context, err error, stderr string) error {
	var pe *Error
	if errors.As(err, &pe) {
		if pe.Kind == ErrTimeout {
			return newErr(ErrTimeout, "OCR of the scanned PDF took too long", stderr)
		}
		return err
	}
	if ctx.Err() != nil {
		return newErr(ErrTimeout, "OCR of the scanned PDF took too long", stderr)
	}
	return newErr(ErrCorrupt, "", "ocr: "+strings.TrimSpace(stderr+" "+err.Error()))
}
