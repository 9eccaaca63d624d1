package server_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ent/chunk"
	"concierge/ent/resource"
	"concierge/viewer"
)

const uploadPDF = `mutation($f: Upload!, $t: String) { uploadPdf(file: $f, title: $t) { id type title fileName status companyID } }`

func readSeedPDF(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "ingest", "pdf", "testdata", "seed", "three-pages.pdf"))
	require.NoError(t, err)
	return b
}

// A PDF uploaded through the GraphQL multipart request is stored under its
// company, extracted page by page and searchable with its page numbers.
func TestUploadPDF(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("alpha")
		r := e.Upload(a.AdminToken, uploadPDF, map[string]any{"f": nil, "t": nil},
			map[string]apitest.File{"f": {Name: "handbook.pdf", Content: readSeedPDF(t)}}).OK(t)
		require.Equal(t, "PDF", r.Str("uploadPdf.type"))
		require.Equal(t, "handbook", r.Str("uploadPdf.title"))
		require.Equal(t, "handbook.pdf", r.Str("uploadPdf.fileName"))
		id := uuid.MustParse(r.Str("uploadPdf.id"))
		waitResource(t, e, a.AdminToken, id, "COMPLETED")

		hits, err := e.App.Retrieval.Search(viewer.SystemContext(context.Background(), a.CompanyID), "which day do orders ship", 5, nil)
		require.NoError(t, err)
		require.NotEmpty(t, hits)
		require.Equal(t, id, hits[0].ResourceID)
		require.Contains(t, hits[0].Text, "Rotterdam")
		require.Equal(t, 2, hits[0].Page, "the shipping text is on page 2")

		pages, err := d.Client.Chunk.Query().Where(chunk.ResourceID(id)).Select(chunk.FieldPage).Ints(apitest.Bypass())
		require.NoError(t, err)
		require.Contains(t, pages, 3)
		res, err := d.Client.Resource.Get(apitest.Bypass(), id)
		require.NoError(t, err)
		require.Contains(t, res.ExtractedContent, "kettle carries a two year warranty")
		stored := filepath.Join(e.App.Files.Dir(), res.FilePath)
		require.FileExists(t, stored)
		require.Contains(t, stored, a.CompanyID.String())

		// Deleting the resource removes its file.
		e.Do(a.AdminToken, `mutation($id: ID!) { deleteResource(id: $id) }`, map[string]any{"id": id}).OK(t)
		require.NoFileExists(t, stored)
	})
}

// Bad uploads are refused before anything is stored; other callers than
// the company's admins and knowledge:write keys are refused.
func TestUploadPDFRefused(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("alpha")
		count := func() int {
			n, err := d.Client.Resource.Query().Where(resource.TypeEQ(resource.TypePDF)).Count(apitest.Bypass())
			require.NoError(t, err)
			return n
		}
		for name, content := range map[string][]byte{
			"png":   {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0},
			"empty": {},
			"text":  []byte("just some text, not a PDF"),
		} {
			r := e.Upload(a.AdminToken, uploadPDF, map[string]any{"f": nil}, map[string]apitest.File{"f": {Name: name + ".pdf", Content: content}})
			require.Equal(t, "BAD_USER_INPUT", r.Code(), name)
		}
		require.Zero(t, count())
		entries, _ := os.ReadDir(filepath.Join(e.App.Files.Dir(), a.CompanyID.String(), "pdf"))
		require.Empty(t, entries, "nothing left on disk")

		pdf := readSeedPDF(t)
		require.Equal(t, "FORBIDDEN", e.Upload(a.AgentToken, uploadPDF, map[string]any{"f": nil}, map[string]apitest.File{"f": {Name: "x.pdf", Content: pdf}}).Code())
		require.Equal(t, "UNAUTHENTICATED", e.Upload("", uploadPDF, map[string]any{"f": nil}, map[string]apitest.File{"f": {Name: "x.pdf", Content: pdf}}).Code())
		require.Zero(t, count())
		// A partner key with knowledge:write may upload, into its own company.
		r := e.Upload(a.APIKey, uploadPDF, map[string]any{"f": nil}, map[string]apitest.File{"f": {Name: "x.pdf", Content: pdf}}).OK(t)
		require.Equal(t, a.CompanyID.String(), r.Str("uploadPdf.companyID"))
	})
}
