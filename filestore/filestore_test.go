package filestore_test

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/filestore"
)

func tinyImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	return img
}

func pngBytes(t *testing.T) []byte {
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, tinyImage()))
	return b.Bytes()
}

func newStore(t *testing.T) *filestore.Store {
	t.Helper()
	s, err := filestore.New(filepath.Join(t.TempDir(), "files"))
	require.NoError(t, err)
	fi, err := os.Stat(s.Dir())
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	return s
}

// serve runs the store's logo route as the server mounts it.
func serve(s *filestore.Store) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /files/logos/{company}/{name}", s.LogoHandler())
	return httptest.NewServer(mux)
}

func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, []byte) {
	t.Helper()
	// Requests are built by hand so the path reaches the server as written.
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	req.URL.Opaque = path
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, body
}

func TestPutLogoSniffsType(t *testing.T) {
	t.Parallel()
	var jpg, gf bytes.Buffer
	require.NoError(t, jpeg.Encode(&jpg, tinyImage(), nil))
	require.NoError(t, gif.Encode(&gf, tinyImage(), nil))
	webp := append([]byte("RIFF\x1a\x00\x00\x00WEBPVP8 "), make([]byte, 16)...)

	s := newStore(t)
	srv := serve(s)
	defer srv.Close()
	cid := uuid.New()
	for _, c := range []struct {
		name, ext, mime string
		data            []byte
	}{
		// The name a client gives never decides the type: content does.
		{"logo.svg", ".png", "image/png", pngBytes(t)},
		{"logo.png", ".jpg", "image/jpeg", jpg.Bytes()},
		{"logo", ".gif", "image/gif", gf.Bytes()},
		{"logo.webp", ".webp", "image/webp", webp},
	} {
		u, err := s.PutLogo(cid, bytes.NewReader(c.data))
		require.NoError(t, err, c.name)
		require.True(t, strings.HasPrefix(u, "/files/logos/"+cid.String()+"/"), u)
		require.Equal(t, c.ext, filepath.Ext(u))

		p := filepath.Join(s.Dir(), cid.String(), "logo", filepath.Base(u))
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

		res, body := get(t, srv, u)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, c.mime, res.Header.Get("Content-Type"))
		require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
		require.Equal(t, "default-src 'none'", res.Header.Get("Content-Security-Policy"))
		require.Equal(t, c.data, body)
	}
}

func TestPutLogoRefusesNonImages(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	cid := uuid.New()
	for name, data := range map[string]string{
		"svg":          `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
		"svg with xml": `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`,
		"html":         `<html><body><script>alert(1)</script></body></html>`,
		"pdf":          "%PDF-1.4\n%...",
		"text":         "hello",
		"empty":        "",
	} {
		_, err := s.PutLogo(cid, strings.NewReader(data))
		require.ErrorIs(t, err, filestore.ErrNotImage, name)
	}
	_, err := os.Stat(filepath.Join(s.Dir(), cid.String()))
	require.ErrorIs(t, err, os.ErrNotExist, "nothing written for refused files")
}

func TestPutLogoSizeLimit(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	cid := uuid.New()
	img := pngBytes(t)
	atLimit := append(append([]byte{}, img...), make([]byte, filestore.MaxLogoSize-len(img))...)
	_, err := s.PutLogo(cid, bytes.NewReader(atLimit))
	require.NoError(t, err, "exactly the limit is accepted")

	over := append(atLimit, 0)
	_, err = s.PutLogo(cid, bytes.NewReader(over))
	require.ErrorIs(t, err, filestore.ErrTooLarge)

	// A huge stream is refused without reading it all.
	r := &countingReader{r: io.MultiReader(bytes.NewReader(img), zeroes{})}
	_, err = s.PutLogo(cid, io.LimitReader(r, 1<<40))
	require.ErrorIs(t, err, filestore.ErrTooLarge)
	require.LessOrEqual(t, r.n, int64(filestore.MaxLogoSize+64<<10))

	entries, err := os.ReadDir(filepath.Join(s.Dir(), cid.String(), "logo"))
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the accepted logo is on disk")
}

type zeroes struct{}

func (zeroes) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestLogoHandlerServesOnlyLogos(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	srv := serve(s)
	defer srv.Close()
	cid := uuid.New()
	u, err := s.PutLogo(cid, bytes.NewReader(pngBytes(t)))
	require.NoError(t, err)
	name := filepath.Base(u)

	// Files that exist beside and above the logo directory.
	secret := filepath.Join(s.Dir(), cid.String(), "resources", "contract.pdf")
	require.NoError(t, os.MkdirAll(filepath.Dir(secret), 0o700))
	require.NoError(t, os.WriteFile(secret, []byte("%PDF-1.4 secret"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), "top.txt"), []byte("secret"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), cid.String(), "logo", "."+name), []byte("hidden"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), cid.String(), "logo", name+".tmp"), []byte("partial"), 0o600))

	res, _ := get(t, srv, u)
	require.Equal(t, http.StatusOK, res.StatusCode)

	base := "/files/logos/" + cid.String() + "/"
	for _, p := range []string{
		base + "..%2Fresources%2Fcontract.pdf",
		base + "..%2F..%2Ftop.txt",
		base + "%2E%2E%2F%2E%2E%2Ftop.txt",
		base + "..%5C..%5Ctop.txt",
		base + "." + name,
		base + name + ".tmp",
		base + "missing.png",
		"/files/logos/" + uuid.NewString() + "/" + name, // another company's directory
		"/files/logos/..%2F" + cid.String() + "/" + name,
		"/files/logos/not-a-uuid/" + name,
		"/files/logos/" + cid.String() + "/..%2F..%2F" + cid.String() + "%2Flogo%2F" + name,
	} {
		res, body := get(t, srv, p)
		require.NotEqual(t, http.StatusOK, res.StatusCode, "%s served %q", p, body)
		require.NotContains(t, string(body), "secret", p)
		require.NotContains(t, string(body), "PDF", p)
	}

	// The handler on its own, with hostile path values as a router might pass them.
	for _, name := range []string{"../resources/contract.pdf", "../../top.txt", "/etc/passwd", "", ".", ".."} {
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.SetPathValue("company", cid.String())
		req.SetPathValue("name", name)
		rec := httptest.NewRecorder()
		s.LogoHandler().ServeHTTP(rec, req)
		require.Equal(t, http.StatusNotFound, rec.Code, "name %q", name)
	}
}

func TestRemoveLogoAndCompany(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	a, b := uuid.New(), uuid.New()
	ua, err := s.PutLogo(a, bytes.NewReader(pngBytes(t)))
	require.NoError(t, err)
	ub, err := s.PutLogo(b, bytes.NewReader(pngBytes(t)))
	require.NoError(t, err)
	pa := filepath.Join(s.Dir(), a.String(), "logo", filepath.Base(ua))
	pb := filepath.Join(s.Dir(), b.String(), "logo", filepath.Base(ub))

	// RemoveLogo only removes a URL of the company named.
	s.RemoveLogo(a, ub)
	require.FileExists(t, pb)
	s.RemoveLogo(a, "")
	s.RemoveLogo(a, "/files/logos/"+a.String()+"/../../"+b.String()+"/logo/"+filepath.Base(ub))
	require.FileExists(t, pb)
	s.RemoveLogo(a, ua)
	require.NoFileExists(t, pa)

	require.NoError(t, s.RemoveCompany(b))
	require.NoDirExists(t, filepath.Join(s.Dir(), b.String()))
	require.DirExists(t, filepath.Join(s.Dir(), a.String()), "other companies keep their files")
	require.NoError(t, s.RemoveCompany(b), "removing twice is fine")
	require.NoError(t, s.RemoveCompany(uuid.New()))
	require.DirExists(t, s.Dir())
}
