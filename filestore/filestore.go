// Package filestore keeps uploaded files on disk, one directory per company,
// under the data directory and outside any served path. Only logos are
// served, through Handler.
package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"concierge/auth"
)

// Store is a directory of per-company files.
type Store struct{ dir string }

// New returns a Store rooted at dir (created 0700 if missing).
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating file directory: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir returns the root directory.
func (s *Store) Dir() string { return s.dir }

// MaxLogoSize is the largest logo accepted.
const MaxLogoSize = 2 << 20

// ErrNotImage is returned for a logo that is not a PNG, JPEG, GIF or WebP.
var ErrNotImage = errors.New("logo must be a PNG, JPEG, GIF or WebP image")

// ErrTooLarge is returned for a file over its size limit.
var ErrTooLarge = errors.New("file is too large")

var logoExt = map[string]string{"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}

// PutLogo stores a company logo after sniffing its type and returns the
// URL path it is served at. SVG is refused: it can carry scripts.
func (s *Store) PutLogo(companyID uuid.UUID, r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxLogoSize+1))
	if err != nil {
		return "", fmt.Errorf("reading logo: %w", err)
	}
	if len(data) > MaxLogoSize {
		return "", ErrTooLarge
	}
	ext, ok := logoExt[http.DetectContentType(data)]
	if !ok {
		return "", ErrNotImage
	}
	dir := filepath.Join(s.dir, companyID.String(), "logo")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	name := auth.RandomHex(12) + ext
	if err := writeAtomic(filepath.Join(dir, name), data); err != nil {
		return "", err
	}
	return "/files/logos/" + companyID.String() + "/" + name, nil
}

// RemoveLogo deletes the logo behind a URL that PutLogo returned.
func (s *Store) RemoveLogo(companyID uuid.UUID, url string) {
	name := filepath.Base(url)
	if url == "" || !strings.HasPrefix(url, "/files/logos/"+companyID.String()+"/") {
		return
	}
	_ = os.Remove(filepath.Join(s.dir, companyID.String(), "logo", name))
}

// RemoveCompany deletes every file of a company.
func (s *Store) RemoveCompany(companyID uuid.UUID) error {
	return os.RemoveAll(filepath.Join(s.dir, companyID.String()))
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// LogoHandler serves /files/logos/{company}/{name}: logos are public (the
// widget shows them); nothing else in the store is reachable over HTTP.
func (s *Store) LogoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cid, err := uuid.Parse(r.PathValue("company"))
		name := r.PathValue("name")
		if err != nil || name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		w.Header().Set("Cache-Control", "public, max-age=86400, immutable")
		http.ServeFile(w, r, filepath.Join(s.dir, cid.String(), "logo", name))
	})
}
