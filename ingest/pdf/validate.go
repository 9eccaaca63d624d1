package pdf

import (
	"bytes"
	"fmt"
	"io"
)

// MagicWindow is how far into the file the %PDF- header may start.
const MagicWindow = 1024

var magic = []byte("%PDF-")

// Check validates the first bytes of an upload while it is streaming: pass
// at least min(MagicWindow, file size) bytes. It returns ErrEmpty or ErrNotPDF.
func Check(header []byte) error {
	if len(header) == 0 {
		return newErr(ErrEmpty, "", "")
	}
	if len(header) > MagicWindow {
		header = header[:MagicWindow]
	}
	if !bytes.Contains(header, magic) {
		return newErr(ErrNotPDF, "", "no %PDF- header in the first 1024 bytes")
	}
	return nil
}

// Validate checks size and magic bytes before a PDF is stored.
func Validate(r io.ReaderAt, size int64, lim Limits) error {
	lim = lim.withDefaults()
	if size <= 0 {
		return newErr(ErrEmpty, "", "")
	}
	if size > lim.MaxBytes {
		return newErr(ErrTooLarge, fmt.Sprintf("the PDF is too large (%s, the limit is %s)", humanBytes(size), humanBytes(lim.MaxBytes)), "")
	}
	n := int64(MagicWindow)
	if size < n {
		n = size
	}
	buf := make([]byte, n)
	got, err := r.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return newErr(ErrCorrupt, "", err.Error())
	}
	return Check(buf[:got])
}

// LimitWriter-style helper for streaming uploads: MaxBytesReader-like check.
// NewLimitedReader returns a reader that fails with ErrTooLarge once more than
// max bytes have been read, so a huge upload is rejected while streaming.
func NewLimitedReader(r io.Reader, max int64) io.Reader {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	return &limitedReader{r: r, left: max, max: max}
}

type limitedReader struct {
	r         io.Reader
	left, max int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, newErr(ErrTooLarge, fmt.Sprintf("the PDF is too large (the limit is %s)", humanBytes(l.max)), "")
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, newErr(ErrTooLarge, fmt.Sprintf("the PDF is too large (the limit is %s)", humanBytes(l.max)), "")
	}
	return n, err
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
