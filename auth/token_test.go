package auth

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"concierge/viewer"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

var testSecret = []byte(strings.Repeat("s", 32))

func newTestSigner(t *testing.T, secret []byte) *Signer {
	t.Helper()
	s, err := NewSigner(secret)
	require.NoError(t, err)
	return s
}

func userClaims() Claims {
	c := Claims{Type: SubjectUser, CompanyID: uuid.NewString(), Role: viewer.RoleAgent, Version: 3, Session: uuid.NewString()}
	c.Subject = uuid.NewString()
	return c
}

func TestNewSignerNeedsLongSecret(t *testing.T) {
	t.Parallel()
	_, err := NewSigner([]byte(strings.Repeat("s", 31)))
	require.Error(t, err)
	_, err = NewSigner(nil)
	require.Error(t, err)
	s, err := NewSigner(testSecret)
	require.NoError(t, err)
	require.Equal(t, 15*time.Minute, s.AccessTTL)
}

func TestSignAndParse(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, testSecret)
	in := userClaims()
	tok, exp, err := s.Sign(in, time.Minute)
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(time.Minute), exp, 2*time.Second)

	out, err := s.Parse(tok)
	require.NoError(t, err)
	require.Equal(t, in.Subject, out.Subject)
	require.Equal(t, in.Type, out.Type)
	require.Equal(t, in.CompanyID, out.CompanyID)
	require.Equal(t, in.Role, out.Role)
	require.Equal(t, in.Version, out.Version)
	require.Equal(t, in.Session, out.Session)
	require.Equal(t, "concierge", out.Issuer)
	require.NotEmpty(t, out.ID)

	tok2, _, err := s.Sign(in, time.Minute)
	require.NoError(t, err)
	require.NotEqual(t, tok, tok2, "every token has its own id")
}

func TestParseRefusesExpired(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, testSecret)
	tok, _, err := s.Sign(userClaims(), time.Minute)
	require.NoError(t, err)

	start := time.Now()
	s.now = func() time.Time { return start.Add(59 * time.Second) }
	_, err = s.Parse(tok)
	require.NoError(t, err, "still valid just before expiry")

	s.now = func() time.Time { return start.Add(2 * time.Minute) }
	_, err = s.Parse(tok)
	require.ErrorIs(t, err, errTokenExpired)

	// Signed already expired.
	s.now = time.Now
	tok, _, err = s.Sign(userClaims(), -time.Second)
	require.NoError(t, err)
	_, err = s.Parse(tok)
	require.ErrorIs(t, err, errTokenExpired)
}

func TestParseRefusesForgedTokens(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, testSecret)
	c := userClaims()
	c.Issuer = "concierge"
	c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(time.Hour))

	sign := func(m jwt.SigningMethod, key any, claims jwt.Claims) string {
		tok, err := jwt.NewWithClaims(m, claims).SignedString(key)
		require.NoError(t, err)
		return tok
	}
	good := sign(jwt.SigningMethodHS256, testSecret, c)
	_, err := s.Parse(good)
	require.NoError(t, err, "the hand-made token is well formed")

	// Same claims with the payload changed but the signature kept.
	parts := strings.Split(good, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(payload, &m))
	m["role"] = viewer.RoleCompanyAdmin
	m["cid"] = uuid.NewString()
	tampered, err := json.Marshal(m)
	require.NoError(t, err)
	tamperedTok := parts[0] + "." + base64.RawURLEncoding.EncodeToString(tampered) + "." + parts[2]

	noExp := c
	noExp.ExpiresAt = nil
	otherIssuer := c
	otherIssuer.Issuer = "someone-else"

	for name, tok := range map[string]string{
		"other secret":     sign(jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), c),
		"tampered payload": tamperedTok,
		"alg none":         sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, c),
		"HS512 same key":   sign(jwt.SigningMethodHS512, testSecret, c),
		"no expiry":        sign(jwt.SigningMethodHS256, testSecret, noExp),
		"other issuer":     sign(jwt.SigningMethodHS256, testSecret, otherIssuer),
		"signature cut":    parts[0] + "." + parts[1] + ".",
		"garbage":          "not.a.token",
		"empty":            "",
	} {
		_, err := s.Parse(tok)
		require.ErrorIs(t, err, errTokenInvalid, name)
	}
}

func TestHashTokenAndRandom(t *testing.T) {
	t.Parallel()
	require.Len(t, HashToken("a"), 64)
	require.Equal(t, HashToken("a"), HashToken("a"))
	require.NotEqual(t, HashToken("a"), HashToken("b"))
	require.NotEqual(t, RandomToken(32), RandomToken(32))
	require.Len(t, RandomHex(6), 12)
	require.True(t, ConstantTimeEqual("abc", "abc"))
	require.False(t, ConstantTimeEqual("abc", "abd"))
	require.False(t, ConstantTimeEqual("abc", "ab"))

	key, prefix, hash := NewAPIKey()
	require.True(t, strings.HasPrefix(key, APIKeyPrefix+prefix+"_"), key)
	require.Len(t, prefix, 12)
	require.Equal(t, HashToken(key), hash)
	require.NotContains(t, hash, prefix)
}

func TestLoadOrCreateSecret(t *testing.T) {
	t.Parallel()
	t.Run("environment wins", func(t *testing.T) {
		dir := t.TempDir()
		s, err := LoadOrCreateSecret("from-env", dir, "jwt_secret")
		require.NoError(t, err)
		require.Equal(t, []byte("from-env"), s)
		_, err = os.Stat(filepath.Join(dir, "jwt_secret"))
		require.ErrorIs(t, err, os.ErrNotExist, "nothing written when the environment has it")
	})
	t.Run("generated once, kept 0600", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data", "nested")
		s1, err := LoadOrCreateSecret("", dir, "jwt_secret")
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(s1), 32)
		_, err = NewSigner(s1)
		require.NoError(t, err, "a generated secret is long enough to sign with")

		fi, err := os.Stat(filepath.Join(dir, "jwt_secret"))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		di, err := os.Stat(dir)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o700), di.Mode().Perm())

		s2, err := LoadOrCreateSecret("", dir, "jwt_secret")
		require.NoError(t, err)
		require.Equal(t, s1, s2, "the secret persists across restarts")

		other, err := LoadOrCreateSecret("", dir, "encryption_key")
		require.NoError(t, err)
		require.NotEqual(t, s1, other)

		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Len(t, entries, 2, "no temporary files left behind")
	})
	t.Run("existing file is read and trimmed", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "jwt_secret"), []byte("  kept-secret\n"), 0o600))
		s, err := LoadOrCreateSecret("", dir, "jwt_secret")
		require.NoError(t, err)
		require.Equal(t, []byte("kept-secret"), s)
	})
	t.Run("empty file is an error, not a loop", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "jwt_secret")
		require.NoError(t, os.WriteFile(path, []byte("\n"), 0o600))
		_, err := LoadOrCreateSecret("", dir, "jwt_secret")
		require.ErrorContains(t, err, "empty")
	})
	t.Run("concurrent first starts agree", func(t *testing.T) {
		dir := t.TempDir()
		const n = 8
		got := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { got[i], errs[i] = LoadOrCreateSecret("", dir, "jwt_secret") })
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i])
			require.Equal(t, got[0], got[i])
		}
	})
}
