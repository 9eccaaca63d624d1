package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"concierge/ent"
	"concierge/ent/resource"
	"concierge/fault"
	"concierge/ingest/chunk"
	"concierge/ingest/pdf"
	"concierge/viewer"
)

// MaxPDFBytes is the largest PDF accepted (50 MB).
const MaxPDFBytes = pdf.DefaultMaxBytes

// UploadPDF stores an uploaded PDF under the company's directory, streaming
// it with a size cap (an oversized upload is refused while it arrives, not
// after buffering), checks that it is a PDF, and adds a PDF resource with
// its ingestion job. Company admins and knowledge:write keys may.
func (s *Service) UploadPDF(ctx context.Context, file io.Reader, fileName string, title *string) (*ent.Resource, error) {
	cid, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	if s.files == nil {
		return nil, errors.New("ingest: no file store configured")
	}
	// Refuse early those who may never add knowledge, before storing
	// anything; privacy decides again on the insert.
	switch v := viewer.FromContext(ctx); {
	case v.CompanyAdmin(), v.HasScope(viewer.ScopeKnowledgeWrite):
	case v.Kind == viewer.KindAPIKey:
		return nil, &viewer.MissingScopeError{Scope: viewer.ScopeKnowledgeWrite}
	default:
		return nil, fault.Forbidden("only company admins and knowledge:write keys add knowledge")
	}
	name := cleanFileName(fileName)
	t := strings.TrimSuffix(name, filepath.Ext(name))
	if title != nil && strings.TrimSpace(*title) != "" {
		t = *title
	}
	if t, err = cleanTitle(t); err != nil {
		return nil, err
	}
	id := uuid.New()
	rel := filepath.Join(cid.String(), "pdf", id.String()+".pdf")
	path := filepath.Join(s.files.Dir(), rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := storePDF(path, file); err != nil {
		return nil, err
	}
	r, err := s.create(ctx, func(tx *ent.Client) *ent.ResourceCreate {
		return tx.Resource.Create().SetID(id).SetCompanyID(cid).SetType(resource.TypePDF).SetTitle(t).
			SetFileName(name).SetFilePath(rel).SetStatus(resource.StatusPENDING)
	})
	if err != nil {
		_ = os.Remove(path)
		return nil, err
	}
	return r, nil
}

// storePDF streams r into path, refusing non-PDFs and files over
// MaxPDFBytes; nothing is left behind on failure.
func storePDF(path string, r io.Reader) error {
	tmp := path + ".part"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	header := make([]byte, 1024)
	n, err := io.ReadFull(r, header)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fail(err)
	}
	header = header[:n]
	if n == 0 {
		return fail(fault.Invalid("file", "the file is empty"))
	}
	if err := pdf.Check(header); err != nil {
		return fail(fault.Invalid("file", "the file is not a PDF"))
	}
	if _, err := f.Write(header); err != nil {
		return fail(err)
	}
	if _, err := io.Copy(f, pdf.NewLimitedReader(r, MaxPDFBytes-int64(n))); err != nil {
		if errors.Is(err, pdf.ErrTooLarge) {
			return fail(fault.Invalid("file", "the PDF is larger than %d MB", MaxPDFBytes>>20))
		}
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// cleanFileName keeps a display name for an uploaded file: its base name,
// valid UTF-8, one line, at most 255 bytes.
func cleanFileName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	if name == "." || name == "/" || strings.TrimSpace(name) == "" {
		name = "document.pdf"
	}
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

// pdfExtractor reads a stored PDF page by page; page numbers go with the
// passages for citations.
type pdfExtractor struct {
	dir  string
	opts pdf.Options
}

func (e pdfExtractor) Extract(ctx context.Context, r *ent.Resource, p Progress) (chunk.Document, error) {
	if r.FilePath == "" {
		return chunk.Document{}, Permanentf("the PDF file is missing")
	}
	base := filepath.Join(e.dir, r.CompanyID.String()) + string(filepath.Separator)
	path := filepath.Join(e.dir, filepath.Clean(r.FilePath))
	if !strings.HasPrefix(path, base) {
		return chunk.Document{}, Permanentf("the PDF file is outside its company's directory")
	}
	doc, err := pdf.Extract(ctx, path, e.opts)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return chunk.Document{}, Permanentf("the PDF file is missing")
		}
		if ctx.Err() != nil {
			return chunk.Document{}, err // shutting down: retry later
		}
		// Every pdf error is about the file itself and says so for users.
		return chunk.Document{}, Permanent(err)
	}
	out := chunk.Document{Title: r.Title}
	for i, pg := range doc.Pages {
		out.Sections = append(out.Sections, chunk.Section{Page: pg.Number, Text: pg.Text})
		if p != nil {
			p(ctx, i+1, len(doc.Pages))
		}
	}
	if len(out.Sections) == 0 {
		return chunk.Document{}, Permanent(fmt.Errorf("the PDF has no text"))
	}
	return out, nil
}
