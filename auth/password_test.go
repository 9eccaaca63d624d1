package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHashAndVerifyPassword(t *testing.T) {
	t.Parallel()
	h1, err := HashPassword("correct horse battery")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$"), h1)
	require.NotContains(t, h1, "correct horse battery")

	require.True(t, VerifyPassword(h1, "correct horse battery"))
	require.False(t, VerifyPassword(h1, "correct horse batterY"))
	require.False(t, VerifyPassword(h1, ""))

	h2, err := HashPassword("correct horse battery")
	require.NoError(t, err)
	require.NotEqual(t, h1, h2, "each hash has its own salt")
	require.True(t, VerifyPassword(h2, "correct horse battery"))
}

func TestVerifyPasswordRefusesBadHashes(t *testing.T) {
	t.Parallel()
	good, err := HashPassword("correct horse battery")
	require.NoError(t, err)
	parts := strings.Split(good, "$")
	for name, h := range map[string]string{
		"empty (no such account)": "",
		"bcrypt":                  "$2a$10$abcdefghijklmnopqrstuuGZ4mH6yZ0PpX6c8wF9yqJ3q1o7n2s9i",
		"argon2i":                 strings.Replace(good, "$argon2id$", "$argon2i$", 1),
		"truncated":               strings.Join(parts[:5], "$"),
		"bad params":              strings.Replace(good, "m=19456", "m=x", 1),
		"bad salt":                strings.Replace(good, parts[4], "!!!", 1),
		"bad key":                 strings.Replace(good, parts[5], "!!!", 1),
		"other key":               strings.Replace(good, parts[5], strings.Repeat("A", len(parts[5])), 1),
	} {
		require.False(t, VerifyPassword(h, "correct horse battery"), name)
	}
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	for pw, ok := range map[string]bool{
		"":                         false,
		"1234567":                  false,
		"12345678":                 true,
		strings.Repeat("a", 256):   true,
		strings.Repeat("a", 257):   false,
		strings.Repeat("é", 8):     true,  // 8 characters, 16 bytes
		strings.Repeat("日", 7):     false, // 7 characters, 21 bytes
		strings.Repeat("é", 128):   true,  // 256 bytes
		strings.Repeat("é", 129):   false, // 258 bytes: hashing cost is bounded in bytes
		"correct horse battery":    true,
		"        ":                 true, // spaces are characters
		strings.Repeat("x", 1<<20): false,
	} {
		err := CheckPasswordPolicy(pw)
		if ok {
			require.NoError(t, err, "len %d", len(pw))
		} else {
			require.ErrorIs(t, err, ErrPasswordPolicy, "len %d", len(pw))
		}
	}
}
