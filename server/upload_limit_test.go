package server_test

import (
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ent/resource"
)

// countingZeros yields n bytes of a fake PDF and counts what was read.
type countingZeros struct {
	left int64
	read *atomic.Int64
}

func (z *countingZeros) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.left {
		p = p[:z.left]
	}
	for i := range p {
		p[i] = ' '
	}
	z.left -= int64(len(p))
	z.read.Add(int64(len(p)))
	return len(p), nil
}

// A 2 GB upload is refused while it streams: the server stops reading long
// before the end, nothing is stored, and no row is written.
func TestHugeUploadRefusedWhileStreaming(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("alpha")
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		var sent atomic.Int64
		go func() {
			_ = mw.WriteField("operations", `{"query":"mutation($f: Upload!) { uploadPdf(file: $f) { id } }","variables":{"f":null}}`)
			_ = mw.WriteField("map", `{"0":["variables.f"]}`)
			w, _ := mw.CreateFormFile("0", "huge.pdf")
			_, _ = w.Write([]byte("%PDF-1.7\n"))
			_, err := io.Copy(w, &countingZeros{left: 2 << 30, read: &sent})
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
		}()
		req, err := http.NewRequest(http.MethodPost, e.URL, pr)
		require.NoError(t, err)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+a.AdminToken)
		start := time.Now()
		res, err := e.Server.Client().Do(req)
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			require.NotEqual(t, http.StatusOK, res.StatusCode, "%s", body)
			require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
			require.Contains(t, string(body), `"code":"BAD_USER_INPUT"`, fmt.Sprintf("%s", body))
			require.Contains(t, string(body), "larger than 60 MB")
		}
		t.Logf("client sent %d MB before the server stopped reading (err=%v)", sent.Load()>>20, err)
		require.Less(t, sent.Load(), int64(200<<20), "the server stopped reading early (read %d MB)", sent.Load()>>20)
		require.Less(t, time.Since(start), 60*time.Second)
		n, err := d.Client.Resource.Query().Where(resource.TypeEQ(resource.TypePDF)).Count(apitest.Bypass())
		require.NoError(t, err)
		require.Zero(t, n)
	})
}
