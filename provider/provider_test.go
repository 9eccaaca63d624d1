package provider

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckBaseURL(t *testing.T) {
	require.NoError(t, CheckBaseURL("http://127.0.0.1:11434"))
	require.NoError(t, CheckBaseURL("https://generativelanguage.googleapis.com/"))
	require.Error(t, CheckBaseURL("127.0.0.1:11434"))
	require.ErrorContains(t, CheckBaseURL("localhost:11434"), "not an http(s) URL")
	require.ErrorContains(t, CheckBaseURL("ftp://example.com"), "not an http(s) URL")
	require.ErrorContains(t, CheckBaseURL("http://u:secret@/x"), "xxxxx")
	require.NotContains(t, CheckBaseURL("http://u:secret@/x").Error(), "secret")
}

func TestOpenAIEndpoint(t *testing.T) {
	for base, want := range map[string]string{
		"http://127.0.0.1:11434":      "http://127.0.0.1:11434/v1/embeddings",
		"http://127.0.0.1:11434/":     "http://127.0.0.1:11434/v1/embeddings",
		"https://api.example.com/v1":  "https://api.example.com/v1/embeddings",
		"https://api.example.com/v1/": "https://api.example.com/v1/embeddings",
		"https://proxy/openai":        "https://proxy/openai/v1/embeddings",
	} {
		got, err := OpenAIEndpoint(base, "/embeddings")
		require.NoError(t, err, base)
		require.Equal(t, want, got, base)
	}
	_, err := OpenAIEndpoint("localhost", "/embeddings")
	require.Error(t, err)
}

func TestGeminiModel(t *testing.T) {
	m, err := GeminiModel(" models/gemini-2.5-flash ", "def")
	require.NoError(t, err)
	require.Equal(t, "gemini-2.5-flash", m)
	m, err = GeminiModel("", "def")
	require.NoError(t, err)
	require.Equal(t, "def", m)
	for _, bad := range []string{"a/b", "a?x=1", "a:generate", "a#b", "a%2Fb", "a b", "../x"} {
		_, err := GeminiModel(bad, "def")
		require.ErrorContains(t, err, "invalid model name", bad)
	}
}

func TestRedact(t *testing.T) {
	require.Equal(t, "key [redacted] and [redacted]", Redact("key sk-1 and sk-1", "sk-1"))
	require.Equal(t, "no key", Redact("no key", ""))
}
