// Package pdf extracts per-page text from uploaded PDF files.
//
// The primary extractor is poppler's pdftotext (run with a timeout and an
// output cap); when poppler is absent a pure-Go extractor
// (github.com/ledongthuc/pdf) runs in a child process of the current binary
// with a timeout and a memory limit. PDFs without a text layer are OCRed with
// pdftoppm + tesseract when both are installed.
//
// The main binary must call MaybeRunChild() first thing in main().
package pdf

import (
	"errors"
	"time"
)

// Sentinel errors. Every error returned by Validate and Extract wraps exactly
// one of them (errors.Is) and its Error() text is safe to show to users.
var (
	ErrNotPDF       = errors.New("the file is not a PDF")
	ErrEmpty        = errors.New("the file is empty")
	ErrTooLarge     = errors.New("the PDF is too large")
	ErrEncrypted    = errors.New("the PDF is password-protected")
	ErrCorrupt      = errors.New("the PDF is damaged and cannot be read")
	ErrTooManyPages = errors.New("the PDF has too many pages")
	ErrTooMuchText  = errors.New("the PDF expands to more text than allowed")
	ErrNoText       = errors.New("the PDF has no text layer and OCR is not available")
	ErrTimeout      = errors.New("reading the PDF took too long")
)

// ErrScanned is an alias of ErrNoText: a scanned PDF that could not be OCRed.
var ErrScanned = ErrNoText

// Error carries a user-facing message and an internal detail (stderr of a
// tool, parser message) for logs. errors.Is(err, ErrX) works on it.
type Error struct {
	Kind   error  // one of the sentinels above
	Msg    string // user-facing; defaults to Kind.Error()
	Detail string // for logs only
}

func (e *Error) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return e.Kind.Error()
}

func (e *Error) Unwrap() error { return e.Kind }

func newErr(kind error, msg, detail string) error {
	return &Error{Kind: kind, Msg: msg, Detail: detail}
}

// Defaults.
const (
	DefaultMaxBytes        int64 = 50 << 20
	DefaultMaxPages              = 2000
	DefaultMaxTextBytes    int64 = 50 << 20
	DefaultTimeout               = 60 * time.Second
	DefaultOCRPageTimeout        = 60 * time.Second
	DefaultMinCharsPerPage       = 20
	DefaultChildMemory     int64 = 1 << 30
)

// Limits bounds what a PDF may cost. Zero fields take the defaults.
type Limits struct {
	MaxBytes     int64 // file size
	MaxPages     int   // page count
	MaxTextBytes int64 // extracted (decompressed) text, all pages together
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPages <= 0 {
		l.MaxPages = DefaultMaxPages
	}
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = DefaultMaxTextBytes
	}
	return l
}

// Options configures Extract. The zero value is ready to use.
type Options struct {
	Limits Limits
	// Timeout bounds the whole text extraction (pdftotext or the child).
	Timeout time.Duration
	// OCRPageTimeout bounds rasterising + recognising one page.
	OCRPageTimeout time.Duration
	// MinCharsPerPage: below this average of non-space characters per page
	// the PDF is treated as scanned.
	MinCharsPerPage int
	// OCRLanguage is tesseract's -l argument (default "eng").
	OCRLanguage string
	// DisableOCR never runs OCR, even when the tools are installed.
	DisableOCR bool
	// ForcePureGo skips poppler and uses the pure-Go child extractor.
	ForcePureGo bool
	// ChildMemoryLimit bounds the memory of the child extractor: its
	// GOMEMLIMIT is half of it, it ends itself (a clean "needs too much
	// memory" error) once its runtime holds more, and the parent kills it
	// if its resident size passes 1.5 times the limit.
	ChildMemoryLimit int64
	// LookPath finds external tools (pdftotext, pdfinfo, pdftoppm,
	// tesseract); tests override it to simulate missing tools.
	LookPath func(string) (string, error)

	childEnv []string // tests only: extra env for the child process
}

func (o Options) withDefaults() Options {
	o.Limits = o.Limits.withDefaults()
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.OCRPageTimeout <= 0 {
		o.OCRPageTimeout = DefaultOCRPageTimeout
	}
	if o.MinCharsPerPage <= 0 {
		o.MinCharsPerPage = DefaultMinCharsPerPage
	}
	if o.OCRLanguage == "" {
		o.OCRLanguage = "eng"
	}
	if o.ChildMemoryLimit <= 0 {
		o.ChildMemoryLimit = DefaultChildMemory
	}
	if o.LookPath == nil {
		o.LookPath = lookPath
	}
	return o
}

// Document is the extracted text of a PDF.
type Document struct {
	Title     string `json:"title"`
	Pages     []Page `json:"pages"`
	Extractor string `json:"extractor"` // "pdftotext", "purego" or "ocr"
}

// Page is one page's text; Number is 1-based.
type Page struct {
	Number int    `json:"number"`
	Text   string `json:"text"`
}
