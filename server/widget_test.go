package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/auth"
	"concierge/chat"
	"concierge/dbtest"
	"concierge/ingest/web"
	"concierge/server"
	"concierge/web/widget"
)

func TestWidgetScript(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, dbtest.Open(t, "sqlite3"))
	a := e.Register("alpha")
	base := strings.TrimSuffix(e.URL, "/graphql")

	res, body := widgetGet(t, base+"/widget.js", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
	require.Equal(t, "*", res.Header.Get("Access-Control-Allow-Origin"), "any site may load the widget")
	require.Contains(t, res.Header.Get("Cache-Control"), "max-age=")
	require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	require.Equal(t, string(widget.JS()), body, "the embedded widget is served as is")
	require.Contains(t, body, "data-company-key")
	require.Contains(t, body, "graphql-transport-ws")

	// Nothing secret or company-specific is in it: the platform's signing
	// key, a company's credentials and keys, server settings.
	r := e.Do(a.AdminToken, `{ company { identitySecret } }`, nil).OK(t)
	secrets := []string{strings.Repeat("k", 16), r.Str("company.identitySecret"), a.AdminToken, a.AgentToken, a.APIKey, a.WidgetKey,
		"JWT_SECRET", "ENCRYPTION_KEY", "GEMINI_API_KEY", "DATABASE_URL"}
	for _, s := range secrets {
		require.NotEmpty(t, s)
		require.NotContains(t, strings.ToLower(body), strings.ToLower(s))
	}

	// A browser revalidates with its ETag once the short cache expires.
	etag := res.Header.Get("ETag")
	require.NotEmpty(t, etag)
	res, body = widgetGet(t, base+"/widget.js", http.Header{"If-None-Match": {etag}})
	require.Equal(t, http.StatusNotModified, res.StatusCode)
	require.Empty(t, body)

	// Loaded cross-origin by a customer's page.
	res, _ = widgetGet(t, base+"/widget.js", http.Header{"Origin": {"https://shop.example"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "*", res.Header.Get("Access-Control-Allow-Origin"))
}

func TestWidgetTestPage(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, dbtest.Open(t, "sqlite3"))
	a := e.Register("alpha")
	base := strings.TrimSuffix(e.URL, "/graphql")

	u := server.WidgetTestURL(base+"/", a.WidgetKey)
	require.Equal(t, base+"/widget/test?key="+a.WidgetKey, u)
	res, body := widgetGet(t, u, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	require.Contains(t, body, `<script src="/widget.js" data-company-key="`+a.WidgetKey+`" async></script>`)
	require.Contains(t, body, `&lt;script src="`+base+`/widget.js" data-company-key="`+a.WidgetKey+`" async&gt;&lt;/script&gt;`,
		"the snippet to copy, with the server's address")
	csp := res.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src 'self'")
	require.NotContains(t, csp, "unsafe-inline")

	for _, key := range []string{"", "wk_<script>alert(1)</script>", `wk_"onload="x`, "wk a", "wk_é", "wk_a&b=c", strings.Repeat("k", 129)} {
		res, body := widgetGet(t, base+"/widget/test?key="+url.QueryEscape(key), nil)
		require.Equal(t, http.StatusBadRequest, res.StatusCode, "key %q", key)
		require.NotContains(t, body, "<script")
		require.NotContains(t, body, `"onload`)
	}
	// The helper escapes whatever key it is given.
	require.Equal(t, "http://h/widget/test?key=a%3Cb%3E+c", server.WidgetTestURL("http://h", "a<b> c"))
}

func TestWidgetInBrowser(t *testing.T) {
	t.Parallel()
	bin := requireChromium(t)
	d := dbtest.Open(t, "sqlite3")
	// Two visitor messages a minute: the third is refused, and the widget
	// says so.
	e := apitest.NewWithConfig(t, d, server.Config{Chat: chat.Config{VisitorMessages: auth.NewLimiter(2, time.Minute)}})
	a := e.Register("alpha")
	r := e.Do(a.AdminToken, `mutation($in: AddTextInput!) { addText(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"title": "Kettle warranty",
		"content": "Every Quasar kettle comes with a three year warranty covering the heating element and the lid. " +
			"To claim the warranty, email support@quasar.test with your order number and a photo of the kettle. " +
			"Repairs under warranty are free and take about ten business days.",
	}}).OK(t)
	waitResource(t, e, a.AdminToken, uuid.MustParse(r.Str("addText.id")), "COMPLETED")
	cfg := e.Do("", `query($k: String!) { widgetConfig(companyKey: $k) { assistantName greeting } }`,
		map[string]any{"k": a.WidgetKey}).OK(t)
	assistant := cfg.Str("widgetConfig.assistantName")

	w := openWidget(t, bin, server.WidgetTestURL(strings.TrimSuffix(e.URL, "/graphql"), a.WidgetKey))
	st := w.wait("the launcher", func(s widgetState) bool { return s.Ready })
	require.False(t, st.Open)
	require.Empty(t, st.ConversationID, "no conversation before the visitor writes")
	w.shadow(".launcher").MustClick()
	st = w.wait("the open panel", func(s widgetState) bool { return s.Open })
	require.True(t, st.Human, "the visitor can ask for a person")
	require.Equal(t, "true", *w.shadow(".launcher").MustAttribute("aria-expanded"))

	// The visitor asks; the assistant answers from the knowledge, with the
	// resource as its source.
	question := "How long is the warranty on the Quasar kettle?"
	ta := w.shadow("textarea")
	ta.MustInput(question)
	ta.MustType(input.Enter)
	st = w.wait("the bot's answer with its source", func(s widgetState) bool {
		m := s.find(func(m widgetMessage) bool { return m.ID != "" && m.Who == assistant })
		return m != nil && len(m.Sources) > 0
	})
	require.Equal(t, 1, st.count(question), "the question is shown once")
	answer := st.find(func(m widgetMessage) bool { return m.ID != "" && m.Who == assistant })
	require.Contains(t, answer.Body, "three year warranty")
	require.Equal(t, []string{"Kettle warranty"}, answer.Sources)
	require.Empty(t, w.shadow("textarea").MustProperty("value").Str(), "the composer is cleared")
	convID := st.ConversationID
	conv, err := d.Client.Conversation.Query().Only(apitest.Bypass())
	require.NoError(t, err)
	require.Equal(t, conv.ID.String(), convID)

	// An agent takes over and writes; the visitor sees it live.
	e.Do(a.AgentToken, `mutation($c: ID!) { takeOverConversation(id: $c) { status } }`, map[string]any{"c": convID}).OK(t)
	w.wait("the takeover", func(s widgetState) bool { return s.Status == "HUMAN" && !s.Human })
	e.Do(a.AgentToken, `mutation($c: ID!, $t: Boolean!) { setTyping(conversationId: $c, typing: $t) }`,
		map[string]any{"c": convID, "t": true}).OK(t)
	w.wait("the agent's typing indicator", func(s widgetState) bool { return s.Typing == "Agent alpha is typing…" })
	agentText := "Hi, I'm from the support team. Do you have your order number at hand?"
	e.Do(a.AgentToken, `mutation($c: ID!, $b: String!, $k: String) { sendMessage(conversationId: $c, body: $b, clientMessageId: $k) { id } }`,
		map[string]any{"c": convID, "b": agentText, "k": uuid.NewString()}).OK(t)
	st = w.wait("the agent's message", func(s widgetState) bool { return s.count(agentText) == 1 && s.Typing == "" })
	require.Equal(t, "Agent alpha", st.find(func(m widgetMessage) bool { return m.Body == agentText }).Who)

	// The connection drops; meanwhile the agent writes again. Back online,
	// the widget resubscribes after the last message it showed: the new
	// one appears, nothing twice.
	before := st.ids()
	w.page.MustEval(`() => { window.__testOffline = true; window.__testSockets.forEach((s) => s.close()); }`)
	w.wait("the disconnection", func(s widgetState) bool { return s.Connected == "false" })
	missed := "Are you still there?"
	e.Do(a.AgentToken, `mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id } }`,
		map[string]any{"c": convID, "b": missed}).OK(t)
	w.page.MustEval(`() => { window.__testOffline = false; window.dispatchEvent(new Event('online')); }`)
	st = w.wait("the message sent while disconnected", func(s widgetState) bool { return s.count(missed) == 1 })
	require.Equal(t, before, st.ids()[:len(st.ids())-1], "the history is unchanged")
	require.Len(t, st.ids(), len(before)+1)
	before = st.ids()

	// After a reload, the stored visitor token resumes the conversation:
	// the panel is open again and the history is there exactly once.
	w.page.MustReload()
	st = w.wait("the history after reloading", func(s widgetState) bool {
		return s.Open && s.count(agentText) == 1 && len(s.ids()) >= len(before)
	})
	require.Equal(t, convID, st.ConversationID)
	require.Equal(t, "HUMAN", st.Status)
	require.Equal(t, before, st.ids(), "every message once, in order")
	require.Equal(t, 1, st.count(question))
	n, err := d.Client.Conversation.Query().Count(apitest.Bypass())
	require.NoError(t, err)
	require.Equal(t, 1, n, "resuming started no other conversation")

	// The agent closes it: the visitor is asked for a rating.
	e.Do(a.AgentToken, `mutation($c: ID!) { closeConversation(id: $c) { status } }`, map[string]any{"c": convID}).OK(t)
	w.wait("the rating prompt", func(s widgetState) bool { return s.Status == "CLOSED" && s.Rating && !s.Composer })
	w.shadow(`label[for="cw-r4"]`).MustClick()
	w.shadow(".rating textarea").MustInput("Quick and clear.")
	w.shadow(".rating button[type=submit]").MustClick()
	w.wait("the thanks", func(s widgetState) bool { return s.Thanks && !s.Rating })
	conv, err = d.Client.Conversation.Get(apitest.Bypass(), conv.ID)
	require.NoError(t, err)
	require.NotNil(t, conv.Rating)
	require.Equal(t, 4, *conv.Rating)
	require.Equal(t, "Quick and clear.", conv.RatingComment)

	// The same visitor starts a new conversation: an empty one.
	w.shadow(".closed > button").MustClick()
	st = w.wait("the new conversation", func(s widgetState) bool {
		return s.ConversationID != convID && s.Status == "BOT" && s.Composer && len(s.ids()) == 0
	})
	require.Equal(t, 0, st.count(question))
	ta = w.shadow("textarea")
	ta.MustInput("How do I claim the warranty?")
	ta.MustType(input.Enter)
	w.wait("the second question, stored", func(s widgetState) bool {
		m := s.find(func(m widgetMessage) bool { return m.Body == "How do I claim the warranty?" })
		return m != nil && m.ID != ""
	})
	// The third message in a minute is refused: the visitor is told when
	// to try again, and the text is back in the composer.
	ta.MustInput("Hello?")
	ta.MustType(input.Enter)
	st = w.wait("the rate limit error", func(s widgetState) bool { return s.Error != "" })
	require.Regexp(t, `^You're sending messages too fast; try again in \d+ s\.$`, st.Error)
	require.Equal(t, "Hello?", ta.MustProperty("value").Str())
	require.Zero(t, st.count("Hello?"))

	// Asking for a person hides the button.
	w.shadow(".human").MustClick()
	w.wait("the hand-off", func(s widgetState) bool { return s.Status == "WAITING_HUMAN" && !s.Human })

	// Escape closes the panel and gives the focus back to the launcher.
	w.page.Keyboard.MustType(input.Escape)
	w.wait("the closed panel", func(s widgetState) bool { return !s.Open })
	require.Equal(t, "false", *w.shadow(".launcher").MustAttribute("aria-expanded"))
	require.Equal(t, "launcher", w.page.MustEval(`() => document.querySelector('concierge-widget').shadowRoot.activeElement.className`).Str())

	w.noPageErrors()
}

// requireChromium returns Debian's Chromium, failing in CI when it is
// missing (.ci/run installs it) and skipping elsewhere, as ingest/web's
// tests do.
func requireChromium(t *testing.T) string {
	t.Helper()
	if bin := web.FindChrome(""); bin != "" {
		return bin
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is not installed in CI: .ci/run installs the chromium package")
	}
	t.Skip("Chromium is not installed (set CHROME_BIN or install chromium)")
	return ""
}

// widgetPage is the widget test page in a headless Chromium.
type widgetPage struct {
	t    *testing.T
	page *rod.Page

	mu       sync.Mutex
	problems []string // uncaught exceptions and CSP violations
	console  []string
}

func openWidget(t *testing.T, bin, pageURL string) *widgetPage {
	t.Helper()
	l := launcher.New().Bin(bin).Leakless(false).Headless(true).NoSandbox(true).UserDataDir(t.TempDir()).
		Set("disable-gpu").Set("disable-dev-shm-usage").Set("no-first-run").Set("no-default-browser-check").
		Set("disable-extensions").Set("disable-background-networking").Set("no-proxy-server").Set("window-size", "1280,900")
	u, err := l.Launch()
	require.NoError(t, err)
	b := rod.New().ControlURL(u)
	require.NoError(t, b.Connect())
	t.Cleanup(func() {
		_ = b.Close()
		l.Kill()
	})
	page, err := b.Timeout(3 * time.Minute).Page(proto.TargetCreateTarget{})
	require.NoError(t, err)
	w := &widgetPage{t: t, page: page}
	// The test may take the network away from the widget's WebSockets.
	_, err = page.EvalOnNewDocument(`(() => {
		const Real = window.WebSocket, all = [];
		window.__testSockets = all;
		window.WebSocket = function (url, protocols) {
			if (window.__testOffline) throw new DOMException('offline (test)', 'NetworkError');
			const s = new Real(url, protocols);
			all.push(s);
			return s;
		};
	})()`)
	require.NoError(t, err)
	require.NoError(t, proto.LogEnable{}.Call(page))
	go page.EachEvent(func(ev *proto.RuntimeExceptionThrown) {
		w.note(true, "exception: "+ev.ExceptionDetails.Text+" "+ev.ExceptionDetails.Exception.Description)
	}, func(ev *proto.LogEntryAdded) {
		w.note(strings.Contains(ev.Entry.Text, "Content Security Policy"), "log: "+ev.Entry.Text)
	}, func(ev *proto.RuntimeConsoleAPICalled) {
		var parts []string
		for _, a := range ev.Args {
			parts = append(parts, a.Value.String()+a.Description)
		}
		w.note(false, "console."+string(ev.Type)+": "+strings.Join(parts, " "))
	})()
	require.NoError(t, page.Navigate(pageURL))
	require.NoError(t, page.WaitLoad())
	return w
}

func (w *widgetPage) note(problem bool, s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.console = append(w.console, s)
	if problem {
		w.problems = append(w.problems, s)
	}
}

func (w *widgetPage) noPageErrors() {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Empty(w.t, w.problems, "the page reported errors")
}

// shadow finds an element in the widget's shadow DOM.
func (w *widgetPage) shadow(selector string) *rod.Element {
	w.t.Helper()
	return w.page.MustElement("concierge-widget").MustShadowRoot().MustElement(selector)
}

// widgetState is what the visitor sees, read from the shadow DOM.
type widgetState struct {
	Ready          bool            `json:"ready"`
	Connected      string          `json:"connected"`
	ConversationID string          `json:"conversationId"`
	Status         string          `json:"status"`
	Open           bool            `json:"open"`
	Human          bool            `json:"human"`
	Composer       bool            `json:"composer"`
	Typing         string          `json:"typing"`
	Error          string          `json:"error"`
	Rating         bool            `json:"rating"`
	Thanks         bool            `json:"thanks"`
	Messages       []widgetMessage `json:"messages"`
}

type widgetMessage struct {
	ID      string   `json:"id"`
	Class   string   `json:"class"`
	Who     string   `json:"who"`
	Body    string   `json:"body"`
	Sources []string `json:"sources"`
}

func (s widgetState) find(ok func(widgetMessage) bool) *widgetMessage {
	for i := range s.Messages {
		if ok(s.Messages[i]) {
			return &s.Messages[i]
		}
	}
	return nil
}

func (s widgetState) count(body string) int {
	n := 0
	for _, m := range s.Messages {
		if m.Body == body {
			n++
		}
	}
	return n
}

// ids are the ids of the stored messages shown, in order.
func (s widgetState) ids() []string {
	var out []string
	for _, m := range s.Messages {
		if m.ID != "" {
			out = append(out, m.ID)
		}
	}
	return out
}

const widgetStateJS = `() => {
	const host = document.querySelector('concierge-widget');
	if (!host || !host.shadowRoot) return 'null';
	const r = host.shadowRoot;
	const q = (s) => r.querySelector(s);
	const shown = (el) => !!el && !el.closest('[hidden]');
	const text = (el) => (el ? el.textContent : '');
	return JSON.stringify({
		ready: host.dataset.state === 'ready',
		connected: host.dataset.connected || '',
		conversationId: host.dataset.conversationId || '',
		status: host.dataset.status || '',
		open: shown(q('.panel')),
		human: shown(q('.human')),
		composer: shown(q('form.compose')),
		typing: shown(q('.typing')) ? text(q('.typing')) : '',
		error: shown(q('.error')) ? text(q('.error span')) : '',
		rating: shown(q('.rating')),
		thanks: shown(q('.thanks')),
		messages: [...r.querySelectorAll('.log .msg')].map((m) => ({
			id: m.dataset.id || '', class: m.className, who: text(m.querySelector('.who')),
			body: text(m.querySelector('.body')),
			sources: [...m.querySelectorAll('.sources li')].map((li) => li.textContent),
		})),
	});
}`

func (w *widgetPage) state() (widgetState, error) {
	var s widgetState
	res, err := w.page.Eval(widgetStateJS)
	if err != nil {
		return s, err
	}
	err = json.Unmarshal([]byte(res.Value.Str()), &s)
	return s, err
}

// wait polls the widget until ok holds, failing after 30 seconds with what
// it showed last and the page's console.
func (w *widgetPage) wait(what string, ok func(widgetState) bool) widgetState {
	w.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var (
		s   widgetState
		err error
	)
	for {
		s, err = w.state()
		if err == nil && ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling interval, bounded by the deadline
	}
	w.mu.Lock()
	console := strings.Join(w.console, "\n")
	w.mu.Unlock()
	dump, _ := json.MarshalIndent(s, "", "  ")
	require.FailNowf(w.t, "timed out waiting for "+what, "last error: %v\nwidget: %s\nconsole:\n%s", err, dump, console)
	return s
}

func widgetGet(t *testing.T, u string, h http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}
