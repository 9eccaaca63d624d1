package main

import (
	"concierge/assistant"
	"concierge/auth"
	"concierge/chat"
	"concierge/ingest"
	"concierge/retrieval/backend"
	"concierge/retrieval/embed"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"
)

// config is the whole configuration; flags win over environment variables
// and everything has a working default.
type config struct {
	Addr        string
	DataDir     string
	Env         string
	DatabaseURL string
	TrustProxy  bool
	JWTSecret   string
	SuperUser   string
	SuperPass   string
	Retrieval   backend.Config
	Ingest      ingest.Config
	LLM         assistant.ProviderConfig
	LLMTimeout  time.Duration
	Chat        chat.Config
}

func (c config) production() bool { return c.Env == "production" }

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// parseConfig reads the environment, then flags from args.
func parseConfig(name string, args []string) (config, *flag.FlagSet, error) {
	return parseConfigWith(name, args, nil)
}

// parseConfigWith also registers a command's own flags through add.
func parseConfigWith(name string, args []string, add func(*flag.FlagSet)) (config, *flag.FlagSet, error) {
	c := config{
		DatabaseURL: os.Getenv("DATABASE_URL"),
		JWTSecret:   os.Getenv("JWT_SECRET"),
		SuperUser:   os.Getenv("SUPERADMIN_USERNAME"),
		SuperPass:   os.Getenv("SUPERADMIN_PASSWORD"),
	}
	var env envReader
	c.TrustProxy = env.boolean("CONCIERGE_TRUST_PROXY")
	dim := env.count("EMBEDDING_DIMENSION")
	threshold := env.fraction("RETRIEVAL_THRESHOLD")
	c.Retrieval = backend.Config{
		WeaviateURL:  os.Getenv("WEAVIATE_URL"),
		WeaviateGRPC: os.Getenv("WEAVIATE_GRPC"),
		Embedder:     os.Getenv("EMBEDDING_PROVIDER"),
		Threshold:    threshold,
		Gemini: embed.GeminiConfig{
			APIKey: os.Getenv("GEMINI_API_KEY"), BaseURL: os.Getenv("GEMINI_BASE_URL"),
			Model: os.Getenv("EMBEDDING_MODEL"), Dimension: dim,
		},
		OpenAI: embed.OpenAIConfig{
			BaseURL: os.Getenv("LLM_BASE_URL"), APIKey: os.Getenv("LLM_API_KEY"),
			Model: os.Getenv("EMBEDDING_MODEL"), Dimension: dim,
		},
	}
	c.LLM = llmConfig()
	c.LLMTimeout = env.duration("LLM_TIMEOUT")
	var err error
	if c.Chat.VisitorMessages, err = perMinute("MESSAGE_RATE_VISITOR", 3); err != nil {
		return c, nil, err
	}
	if c.Chat.CompanyMessages, err = perMinute("MESSAGE_RATE_COMPANY", 2); err != nil {
		return c, nil, err
	}
	if c.Chat.Conversations, err = perMinute("CONVERSATION_RATE_IP", 1); err != nil {
		return c, nil, err
	}
	c.Ingest.Workers = env.count("INGEST_WORKERS")
	c.Ingest.JobTimeout = env.duration("INGEST_JOB_TIMEOUT")
	c.Ingest.RescueGrace = env.duration("INGEST_RESCUE_AFTER")
	c.Chat.ReplyTimeout = env.duration("REPLY_TIMEOUT")
	if err := errors.Join(env.errs...); err != nil {
		return c, nil, err
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&c.Addr, "addr", envOr("CONCIERGE_ADDR", ":8080"), "listen address (env CONCIERGE_ADDR)")
	fs.StringVar(&c.DataDir, "data", envOr("CONCIERGE_DATA_DIR", "./data"), "data directory: SQLite file, uploaded files, generated secrets (env CONCIERGE_DATA_DIR)")
	fs.StringVar(&c.Env, "env", envOr("CONCIERGE_ENV", "development"), "development or production (env CONCIERGE_ENV)")
	if add != nil {
		add(fs)
	}
	if err := fs.Parse(args); err != nil {
		return c, fs, err
	}
	if c.Env != "development" && c.Env != "production" {
		return c, fs, fmt.Errorf("--env must be development or production, not %q", c.Env)
	}
	return c, fs, nil
}

// llmConfig reads LLM_PROVIDER (default: gemini when GEMINI_API_KEY is set,
// openai when LLM_BASE_URL is, the offline answerer otherwise), LLM_MODEL,
// and the provider's key and address.
func llmConfig() assistant.ProviderConfig {
	name := os.Getenv("LLM_PROVIDER")
	if name == "" {
		switch {
		case os.Getenv("GEMINI_API_KEY") != "":
			name = assistant.ProviderGemini
		case os.Getenv("LLM_BASE_URL") != "":
			name = assistant.ProviderOpenAI
		default:
			name = assistant.ProviderOffline
		}
	}
	c := assistant.ProviderConfig{Name: name, Model: os.Getenv("LLM_MODEL")}
	switch name {
	case assistant.ProviderGemini:
		c.APIKey, c.BaseURL = os.Getenv("GEMINI_API_KEY"), os.Getenv("GEMINI_BASE_URL")
	case assistant.ProviderOpenAI:
		c.APIKey, c.BaseURL = os.Getenv("LLM_API_KEY"), os.Getenv("LLM_BASE_URL")
	}
	return c
}

// perMinute reads a rate limit in events per minute from env: a bucket of
// rate/burstDiv events, refilled evenly over the minute. Unset, it is nil
// and the chat service's default stands.
func perMinute(env string, burstDiv int) (*auth.Limiter, error) {
	v := os.Getenv(env)
	if v == "" {
		return nil, nil
	}
	rate, err := strconv.Atoi(v)
	if err != nil || rate <= 0 {
		return nil, fmt.Errorf("%s must be a positive number of events per minute, not %q", env, v)
	}
	return auth.NewLimiter(max(1, rate/burstDiv), time.Minute/time.Duration(rate)), nil
}

// envReader reads typed settings from the environment: unset is the zero
// value (the default), and a value that does not read as its type is
// collected as an error, so that a typo stops the start rather than
// silently becoming the default.
type envReader struct{ errs []error }

func (r *envReader) fail(name, v, want string) {
	r.errs = append(r.errs, fmt.Errorf("%s must be %s, not %q", name, want, v))
}

func (r *envReader) duration(name string) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail(name, v, "a positive duration such as 90s or 10m")
		return 0
	}
	return d
}

func (r *envReader) count(name string) int {
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		r.fail(name, v, "a positive whole number")
		return 0
	}
	return n
}

func (r *envReader) fraction(name string) float64 {
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		r.fail(name, v, "a number from 0 to 1")
		return 0
	}
	return f
}

func (r *envReader) boolean(name string) bool {
	v := os.Getenv(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, v, "true or false")
	}
	return b
}
