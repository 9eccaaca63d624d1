package server

import (
	"html/template"
	"net/http"
)

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Concierge</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#1f2937}
code{background:#f3f4f6;padding:.1rem .3rem;border-radius:.25rem}a{color:#4F46E5}</style></head>
<body><h1>Concierge</h1>
<p>Customer-support chatbot platform: your knowledge, your widget, your agents.</p>
<ul>
{{if .GraphiQL}}<li><a href="/graphql">GraphiQL</a>: explore and call the API in the browser.</li>{{end}}
<li><code>POST /graphql</code>: the GraphQL API (WebSocket subscriptions on the same path, <code>graphql-transport-ws</code>).</li>
<li><a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a></li>
</ul>
</body></html>`))

func (s *srv) home(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	_ = homePage.Execute(w, map[string]bool{"GraphiQL": !s.cfg.Production})
}
