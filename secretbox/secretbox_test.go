package secretbox_test

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"concierge/secretbox"
)

func box(t *testing.T) *secretbox.Box {
	t.Helper()
	k, err := secretbox.ParseKey(secretbox.NewKey())
	require.NoError(t, err)
	b, err := secretbox.New(k)
	require.NoError(t, err)
	return b
}

func TestSealOpen(t *testing.T) {
	b := box(t)
	s1 := b.Seal([]byte("EAAB-secret-token"), []byte("row-1"))
	s2 := b.Seal([]byte("EAAB-secret-token"), []byte("row-1"))
	require.True(t, strings.HasPrefix(s1, "v1:"))
	require.NotEqual(t, s1, s2, "a fresh nonce each time")
	require.NotContains(t, s1, "secret-token")

	pt, err := b.Open(s1, []byte("row-1"))
	require.NoError(t, err)
	require.Equal(t, "EAAB-secret-token", string(pt))

	_, err = b.Open(s1, []byte("row-2"))
	require.ErrorIs(t, err, secretbox.ErrOpen, "bound to its additional data")
	_, err = box(t).Open(s1, []byte("row-1"))
	require.ErrorIs(t, err, secretbox.ErrOpen, "another key")
	raw := []byte(s1)
	raw[len(raw)-2] ^= 1
	_, err = b.Open(string(raw), []byte("row-1"))
	require.Error(t, err, "tampered")
	for _, bad := range []string{"", "v1:", "v1:!!!", "v2:" + s1[3:], "plain"} {
		_, err = b.Open(bad, nil)
		require.Error(t, err, bad)
	}
}

func TestParseKey(t *testing.T) {
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(i * 7)
	}
	for _, s := range []string{
		hex.EncodeToString(k), base64.StdEncoding.EncodeToString(k), base64.RawStdEncoding.EncodeToString(k),
		base64.URLEncoding.EncodeToString(k), " " + base64.StdEncoding.EncodeToString(k) + "\n",
	} {
		got, err := secretbox.ParseKey(s)
		require.NoError(t, err, s)
		require.Equal(t, k, got, s)
	}
	for _, s := range []string{"", "short", base64.StdEncoding.EncodeToString(k[:16]), hex.EncodeToString(k[:31]) + "zz",
		strings.Repeat("a", 100)} {
		_, err := secretbox.ParseKey(s)
		require.Error(t, err, s)
	}
	_, err := secretbox.New(k[:16])
	require.Error(t, err)
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var wg sync.WaitGroup
	keys := make([][]byte, 8)
	for i := range keys {
		wg.Go(func() {
			k, err := secretbox.LoadOrCreateKey("", dir)
			require.NoError(t, err)
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys {
		require.Len(t, k, 32)
		require.Equal(t, keys[0], k, "concurrent first starts agree on one key")
	}
	st, err := os.Stat(filepath.Join(dir, secretbox.KeyFileName))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	again, err := secretbox.LoadOrCreateKey("", dir)
	require.NoError(t, err)
	require.Equal(t, keys[0], again, "kept across restarts")

	env := secretbox.NewKey()
	k, err := secretbox.LoadOrCreateKey(env, dir)
	require.NoError(t, err)
	want, _ := base64.StdEncoding.DecodeString(env)
	require.Equal(t, want, k, "the environment wins")
	_, err = secretbox.LoadOrCreateKey("not a key", dir)
	require.ErrorContains(t, err, "ENCRYPTION_KEY")
}
