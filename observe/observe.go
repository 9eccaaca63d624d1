// Package observe is the platform's instrumentation: the Prometheus metrics
// of the domain (GraphQL operations, WebSockets and subscriptions, real-time
// fan-out, jobs, the LLM, retrieval, the assistant's replies and handoffs),
// request ids, and the log handler that stamps every record logged with a
// context with its request id and viewer and keeps secrets out of the logs.
//
// Metrics live in one package-level set of collectors: the server adds them
// to the registry it serves at /metrics with Register, and the instrumented
// packages record through the functions below. Label values are bounded:
// never a company, user, conversation or free-form value.
package observe

import (
	"errors"
	"regexp"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Label values shared by several metrics.
const (
	OutcomeOK    = "ok"
	OutcomeError = "error"
)

var (
	graphqlDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "concierge_graphql_operation_duration_seconds",
		Help: "GraphQL operation latency by operation type, name (or \"other\" / \"anonymous\") and outcome. " +
			"Queries and mutations: until the response is ready; subscriptions: until the subscription is set up " +
			"(observed when it ends; error when any of its responses carried errors).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"type", "name", "outcome"})
	graphqlSubscriptions = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "concierge_graphql_active_subscriptions",
		Help: "GraphQL subscriptions running now.",
	})
	websocketConnections = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "concierge_websocket_connections",
		Help: "GraphQL WebSocket connections open now (from an accepted connection_init until they close).",
	})

	jobsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "concierge_jobs_total",
		Help: "Job attempts finished, by job kind and outcome (completed, failed: retried later, discarded, " +
			"cancelled: ingestion's permanent failures end here, snoozed, interrupted).",
	}, []string{"kind", "outcome"})
	jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "concierge_job_duration_seconds",
		Help:    "Time a job attempt ran, by job kind.",
		Buckets: []float64{.1, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
	}, []string{"kind"})
	jobQueueWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "concierge_job_queue_wait_seconds",
		Help:    "Time a job waited available before a worker started it, by job kind.",
		Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 300, 900},
	}, []string{"kind"})

	llmDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "concierge_llm_duration_seconds",
		Help:    "Time of one LLM call, by provider and outcome (ok, error, timeout, canceled).",
		Buckets: []float64{.1, .25, .5, 1, 2, 4, 8, 15, 30, 60},
	}, []string{"provider", "outcome"})
	llmFirstToken = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "concierge_llm_time_to_first_token_seconds",
		Help:    "Time from the LLM call to the first visible text streamed to the visitor, by provider.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2, 4, 8, 15, 30},
	}, []string{"provider"})
	llmTokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "concierge_llm_tokens_total",
		Help: "LLM tokens by provider and kind (prompt, output); estimated when the provider does not report them.",
	}, []string{"provider", "kind"})

	retrievalSearch = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "concierge_retrieval_search_seconds",
		Help:    "Time of one knowledge search (embedding the query and searching the store), by outcome.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"outcome"})

	assistantReplies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "concierge_assistant_replies_total",
		Help: "Assistant replies stored, by outcome (ANSWERED, DECLINED, FAILED).",
	}, []string{"outcome"})
	handoffs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "concierge_handoffs_total",
		Help: "Conversations handed to humans, by trigger (assistant: it could not answer).",
	}, []string{"trigger"})
	resyncs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "concierge_subscription_resyncs_total",
		Help: "Subscribers that fell behind the broker and were resubscribed and caught up, by stream (conversation, inbox).",
	}, []string{"stream"})
)

// collectorsList is every collector of the package.
func collectorsList() []prometheus.Collector {
	return []prometheus.Collector{
		graphqlDuration, graphqlSubscriptions, websocketConnections,
		jobsTotal, jobDuration, jobQueueWait,
		llmDuration, llmFirstToken, llmTokens,
		retrievalSearch, assistantReplies, handoffs, resyncs,
		brokers,
	}
}

// Register adds the package's collectors to reg. Registering them again
// (in the same or another registry) is harmless: one set of collectors may
// be served by several registries, as tests build several servers.
func Register(reg prometheus.Registerer) {
	for _, c := range collectorsList() {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				panic(err)
			}
		}
	}
}

var (
	registryOnce sync.Once
	registry     *prometheus.Registry
)

// Registry returns a registry holding the package's collectors and the Go
// and process collectors, for a process that serves no other metrics (and
// for tests).
func Registry() *prometheus.Registry {
	registryOnce.Do(func() {
		registry = prometheus.NewRegistry()
		registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		Register(registry)
	})
	return registry
}

// labelRE is what a free-form label value (a provider or job kind, both set
// by the operator or the code) must look like to be used as is.
var labelRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$`)

// label returns v if it is a short, plain identifier, def when it is empty
// and "other" otherwise.
func label(v, def string) string {
	switch {
	case v == "":
		return def
	case labelRE.MatchString(v):
		return v
	default:
		return "other"
	}
}
