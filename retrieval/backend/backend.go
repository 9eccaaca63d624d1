// Package backend builds a retrieval.Service from configuration: it picks
// the store (embedded, or Weaviate when WeaviateURL is set) and the embedder
// (local, gemini, openai). It lives outside package retrieval because the
// stores and embedders import retrieval.
package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"concierge/retrieval"
	"concierge/retrieval/embed"
	"concierge/retrieval/embedded"
	"concierge/retrieval/weaviate"
)

// Config selects and configures the store and the embedder.
type Config struct {
	// DataDir holds the embedded index and the embedding cache.
	DataDir string
	// WeaviateURL selects the Weaviate store when set; WeaviateGRPC
	// (host:port, optional) sends batch imports over gRPC.
	WeaviateURL  string
	WeaviateGRPC string
	// Embedder is "local" (default), "gemini" or "openai".
	Embedder string
	// Gemini configures the "gemini" embedder (APIKey required).
	Gemini embed.GeminiConfig
	// OpenAI configures the "openai" embedder (BaseURL and Model required).
	OpenAI embed.OpenAIConfig
	// Threshold overrides retrieval.DefaultThreshold when > 0.
	Threshold float64
}

// ErrNotConfigured: the configuration names a store or embedder this build
// cannot construct yet.
var ErrNotConfigured = errors.New("retrieval: backend not configured")

// Open builds the Service cfg describes. The embedding cache is persisted
// in the data directory whatever the store.
func Open(ctx context.Context, cfg Config) (*retrieval.Service, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("retrieval: data directory: %w", err)
	}
	emb, err := openEmbedder(ctx, cfg)
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cache, err := embedded.OpenCache(ctx, filepath.Join(cfg.DataDir, embedded.CacheFileName))
	if err != nil {
		store.Close()
		return nil, err
	}
	opts := []retrieval.Option{retrieval.WithCache(cache)}
	if cfg.Threshold > 0 {
		opts = append(opts, retrieval.WithThreshold(cfg.Threshold))
	}
	return retrieval.NewService(closeBoth{store, cache}, emb, opts...), nil
}

// openEmbedder builds the configured embedder.
func openEmbedder(ctx context.Context, cfg Config) (retrieval.Embedder, error) {
	switch cfg.Embedder {
	case "", "local":
		if ok, err := embed.Semantic(); !ok {
			slog.WarnContext(ctx, "the local embedder is lexical only: paraphrases without shared words will not be found", slog.Any("reason", err))
		}
		return embed.NewLocal(), nil
	case "gemini":
		if cfg.Gemini.APIKey == "" {
			return nil, fmt.Errorf("%w: EMBEDDING_PROVIDER=gemini needs GEMINI_API_KEY", ErrNotConfigured)
		}
		return embed.NewGemini(ctx, cfg.Gemini)
	case "openai":
		if cfg.OpenAI.BaseURL == "" || cfg.OpenAI.Model == "" {
			return nil, fmt.Errorf("%w: EMBEDDING_PROVIDER=openai needs LLM_BASE_URL and EMBEDDING_MODEL", ErrNotConfigured)
		}
		return embed.NewOpenAI(cfg.OpenAI)
	default:
		return nil, fmt.Errorf("%w: unknown embedder %q (local, gemini, openai)", ErrNotConfigured, cfg.Embedder)
	}
}

// openStore opens Weaviate when configured, else the embedded store. A
// Weaviate that is down at start still yields a store: the server starts
// and reports not ready until Weaviate answers.
func openStore(ctx context.Context, cfg Config) (retrieval.Store, error) {
	if cfg.WeaviateURL != "" {
		st, err := weaviate.New(ctx, weaviate.Config{URL: cfg.WeaviateURL, GRPC: cfg.WeaviateGRPC})
		if err != nil && st != nil && errors.Is(err, retrieval.ErrUnavailable) {
			slog.WarnContext(ctx, "Weaviate is not reachable yet", slog.String("url", cfg.WeaviateURL), slog.Any("err", err))
			return st, nil
		}
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	return embedded.Open(ctx, filepath.Join(cfg.DataDir, embedded.FileName))
}

// closeBoth closes the cache with the store.
type closeBoth struct {
	retrieval.Store
	cache *embedded.Cache
}

func (c closeBoth) Close() error { return errors.Join(c.Store.Close(), c.cache.Close()) }
