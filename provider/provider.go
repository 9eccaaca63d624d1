// Package provider holds the configuration rules shared by the clients of
// model providers: the assistant's language models and the remote
// embedders, on Gemini's API or an OpenAI-compatible server. It checks base
// URLs and model names, builds the OpenAI-compatible endpoints, and keeps
// API keys out of error messages.
package provider

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// CheckBaseURL accepts absolute http(s) URLs.
func CheckBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("base URL is not a valid URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base URL %q is not an http(s) URL", u.Redacted())
	}
	return nil
}

// OpenAIEndpoint is the URL of path ("/chat/completions", "/embeddings")
// on the OpenAI-compatible server at base: {base}/v1{path}, or {base}{path}
// when base already ends in /v1. base must pass CheckBaseURL.
func OpenAIEndpoint(base, path string) (string, error) {
	if err := CheckBaseURL(base); err != nil {
		return "", err
	}
	u, _ := url.Parse(base)
	u.Path = strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(u.Path, "/v1") {
		u.Path += "/v1"
	}
	u.Path += path
	u.RawPath = ""
	return u.String(), nil
}

// GeminiModel is a Gemini model name as the API's paths take it: trimmed,
// without a "models/" prefix, def when empty. A name that would change the
// request's path or query (with "/", "?", "&", ":", "#", "%", a space or
// "..") is refused.
func GeminiModel(name, def string) (string, error) {
	model := strings.TrimPrefix(strings.TrimSpace(name), "models/")
	if model == "" {
		model = def
	}
	if strings.ContainsAny(model, "/?&:#% ") || strings.Contains(model, "..") {
		return "", fmt.Errorf("invalid model name %q", model)
	}
	return model, nil
}

// Redact replaces secret (an API key) in s by "[redacted]".
func Redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}
