package pdf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	lpdf "github.com/ledongthuc/pdf"
)

// Environment of the child extractor process.
const (
	childEnv          = "CONCIERGE_PDF_CHILD"
	childPathEnv      = "CONCIERGE_PDF_PATH"
	childPagesEnv     = "CONCIERGE_PDF_MAX_PAGES"
	childTextEnv      = "CONCIERGE_PDF_MAX_TEXT"
	childMemEnv       = "CONCIERGE_PDF_MEMORY"
	childTestSleepEnv = "CONCIERGE_PDF_CHILD_TEST_SLEEP" // tests: simulate a hang
)

// childResult is what the child writes to stdout as JSON.
type childResult struct {
	Doc   *Document `json:"doc,omitempty"`
	Kind  string    `json:"kind,omitempty"` // sentinel name on failure
	Msg   string    `json:"msg,omitempty"`
	Error string    `json:"error,omitempty"` // detail
}

var kinds = map[string]error{
	"not_pdf": ErrNotPDF, "empty": ErrEmpty, "too_large": ErrTooLarge,
	"encrypted": ErrEncrypted, "corrupt": ErrCorrupt, "too_many_pages": ErrTooManyPages,
	"too_much_text": ErrTooMuchText, "no_text": ErrNoText, "timeout": ErrTimeout,
}

func kindName(err error) string {
	for k, v := range kinds {
		if errors.Is(err, v) {
			return k
		}
	}
	return "corrupt"
}

// MaybeRunChild turns the current process into the pure-Go PDF extractor
// when it was started as one (CONCIERGE_PDF_CHILD=1) and exits; otherwise it
// returns immediately. Call it first thing in main() (and in TestMain).
func MaybeRunChild() {
	if os.Getenv(childEnv) != "1" {
		return
	}
	os.Exit(runChild(os.Stdout))
}

func runChild(w io.Writer) (code int) {
	enc := json.NewEncoder(w)
	defer func() {
		if r := recover(); r != nil {
			_ = enc.Encode(childResult{Kind: "corrupt", Error: fmt.Sprintf("panic: %v", r)})
			code = 0
		}
	}()
	if mem, _ := strconv.ParseInt(os.Getenv(childMemEnv), 10, 64); mem > 0 {
		// The memory limit is one Go respects: the GC works to stay under
		// half of it, and a watchdog ends the child with a clean report
		// when the runtime holds more than all of it. (An address-space
		// rlimit made the runtime crash wherever it next mapped memory:
		// a thread's stack, a heap arena, under load anywhere.) The
		// parent kills a child whose resident size still runs away.
		debug.SetMemoryLimit(mem / 2)
		go watchMemory(uint64(mem), func() {
			_ = enc.Encode(childResult{Kind: "corrupt", Msg: msgTooMuchMemory, Error: "over the memory limit"})
			os.Exit(0)
		})
	}
	if d, err := time.ParseDuration(os.Getenv(childTestSleepEnv)); err == nil {
		time.Sleep(d)
	}
	maxPages, _ := strconv.Atoi(os.Getenv(childPagesEnv))
	maxText, _ := strconv.ParseInt(os.Getenv(childTextEnv), 10, 64)
	lim := Limits{MaxPages: maxPages, MaxTextBytes: maxText}.withDefaults()

	f, err := os.Open(os.Getenv(childPathEnv))
	if err != nil {
		_ = enc.Encode(childResult{Kind: "corrupt", Error: err.Error()})
		return 0
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		_ = enc.Encode(childResult{Kind: "corrupt", Error: err.Error()})
		return 0
	}
	doc, err := ExtractPureGo(f, st.Size(), lim)
	if err != nil {
		var pe *Error
		res := childResult{Kind: kindName(err), Error: err.Error()}
		if errors.As(err, &pe) {
			res.Msg, res.Error = pe.Msg, pe.Detail
		}
		_ = enc.Encode(res)
		return 0
	}
	_ = enc.Encode(childResult{Doc: doc})
	return 0
}

// extractChild runs the pure-Go extractor in a child process of this binary
// with a timeout and a memory limit.
func extractChild(ctx context.Context, path string, opts Options) (*Document, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("pdf: cannot find own executable: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.WaitDelay = 2 * time.Second
	cmd.Env = append(os.Environ(),
		childEnv+"=1",
		childPathEnv+"="+path,
		childPagesEnv+"="+strconv.Itoa(opts.Limits.MaxPages),
		childTextEnv+"="+strconv.FormatInt(opts.Limits.MaxTextBytes, 10),
		childMemEnv+"="+strconv.FormatInt(opts.ChildMemoryLimit, 10),
		"GOMEMLIMIT="+strconv.FormatInt(opts.ChildMemoryLimit/2, 10),
		"GOMAXPROCS=2",
	)
	cmd.Env = append(cmd.Env, opts.childEnv...)
	var stderr cappedBuffer
	stderr.max = 64 << 10
	cmd.Stderr = &stderr
	// The parent's watchdog: a child resident in more than 1.5 times its
	// limit is killed (its own watchdog should have ended it first).
	var killed atomic.Bool
	stop := make(chan struct{})
	defer close(stop)
	startWatch := func(pid int) {
		go func() {
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if rss := residentSize(pid); rss > uint64(opts.ChildMemoryLimit)*3/2 {
						killed.Store(true)
						_ = syscall.Kill(pid, syscall.SIGKILL)
						return
					}
				}
			}
		}()
	}
	// JSON escaping can at most ~6x the text; allow headroom over the cap.
	out, serr, err := readCappedStarted(ctx, cmd, opts.Limits.MaxTextBytes*6+1<<20, &stderr, startWatch)
	if err != nil {
		if errors.Is(err, ErrTimeout) || ctx.Err() != nil {
			return nil, newErr(ErrTimeout, "", "pure-Go extractor: "+serr)
		}
		if errors.Is(err, ErrTooMuchText) {
			return nil, tooMuchText(opts.Limits.MaxTextBytes)
		}
		// Killed (the watchdog, OOM) or crashed without a report.
		if killed.Load() || isOOM(serr) {
			return nil, newErr(ErrCorrupt, msgTooMuchMemory, "pure-Go extractor: "+serr)
		}
		return nil, newErr(ErrCorrupt, "", "pure-Go extractor: "+strings.TrimSpace(err.Error()+" "+serr))
	}
	var res childResult
	if err := json.Unmarshal(bytes.TrimSpace(out), &res); err != nil {
		return nil, newErr(ErrCorrupt, "", "pure-Go extractor: bad output: "+err.Error()+" "+serr)
	}
	if res.Kind != "" {
		kind := kinds[res.Kind]
		if kind == nil {
			kind = ErrCorrupt
		}
		return nil, newErr(kind, res.Msg, res.Error)
	}
	if res.Doc == nil {
		return nil, newErr(ErrCorrupt, "", "pure-Go extractor: empty result")
	}
	res.Doc.Extractor = "purego"
	return res.Doc, nil
}

// ExtractPureGo parses a PDF in-process with github.com/ledongthuc/pdf. It
// recovers panics (reported as ErrCorrupt) but cannot be cancelled: call it
// only in the child process (or in fuzz tests).
func ExtractPureGo(r io.ReaderAt, size int64, lim Limits) (doc *Document, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			doc, err = nil, newErr(ErrCorrupt, "", fmt.Sprintf("panic: %v", rec))
		}
	}()
	lim = lim.withDefaults()
	if size > lim.MaxBytes {
		return nil, newErr(ErrTooLarge, "", "")
	}
	reader, err := lpdf.NewReader(r, size)
	if err != nil {
		if errors.Is(err, lpdf.ErrInvalidPassword) {
			return nil, newErr(ErrEncrypted, "", err.Error())
		}
		return nil, newErr(ErrCorrupt, "", err.Error())
	}
	if !reader.Trailer().Key("Encrypt").IsNull() {
		return nil, newErr(ErrEncrypted, "", "trailer has /Encrypt")
	}
	n := reader.NumPage()
	if n <= 0 {
		return nil, newErr(ErrCorrupt, "", "no pages")
	}
	if n > lim.MaxPages {
		return nil, tooManyPages(n, lim.MaxPages)
	}
	doc = &Document{Extractor: "purego"}
	doc.Title = strings.TrimSpace(reader.Trailer().Key("Info").Key("Title").Text())
	var total int64
	for i := 1; i <= n; i++ {
		p := reader.Page(i)
		text := ""
		if !p.V.IsNull() {
			text = pageText(p)
		}
		total += int64(len(text))
		if total > lim.MaxTextBytes {
			return nil, tooMuchText(lim.MaxTextBytes)
		}
		doc.Pages = append(doc.Pages, Page{Number: i, Text: text})
	}
	return doc, nil
}

// pageText rebuilds lines and word spaces from positioned glyphs: many
// producers (pdfTeX among them) never emit space characters, so the
// library's GetPlainText glues words together.
func pageText(p lpdf.Page) string {
	glyphs := pageGlyphs(p)
	if len(glyphs) == 0 {
		return ""
	}
	type line struct {
		y     float64
		size  float64
		items []lpdf.Text
	}
	var lines []*line
	var cur *line
	for _, g := range glyphs {
		if g.S == "" {
			continue
		}
		size := math.Max(g.FontSize, 1)
		if cur == nil || math.Abs(g.Y-cur.y) > size*0.5 {
			cur = &line{y: g.Y, size: size}
			lines = append(lines, cur)
		}
		cur.items = append(cur.items, g)
	}
	var sb strings.Builder
	for li, l := range lines {
		if li > 0 {
			sb.WriteByte('\n')
		}
		items := l.items
		sort.SliceStable(items, func(i, j int) bool { return items[i].X < items[j].X-0.01 })
		var end float64
		for i, g := range items {
			if i > 0 && g.X-end > math.Max(g.FontSize, 1)*0.15 && !strings.HasPrefix(g.S, " ") {
				if s := sb.String(); len(s) > 0 && s[len(s)-1] != ' ' {
					sb.WriteByte(' ')
				}
			}
			sb.WriteString(g.S)
			end = g.X + g.W
		}
	}
	return cleanText(sb.String())
}

// currentVirtualSize reads this process's virtual size from /proc (Linux);
// elsewhere it returns a generous guess.
// residentSize is a process's resident set in bytes (0 when unknown:
// not Linux, or the process is gone).
func residentSize(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

// msgTooMuchMemory is the error of a PDF whose extraction went over the
// child's memory limit.
const msgTooMuchMemory = "the PDF needs too much memory to read"

// watchMemory calls over (which must not return) once the Go runtime
// holds more than limit bytes of memory; it checks every 5 ms.
func watchMemory(limit uint64, over func()) {
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() > limit {
			over()
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func isOOM(stderr string) bool {
	for _, s := range []string{"out of memory", "cannot allocate memory", "failed to create new OS thread", "mmap"} {
		if strings.Contains(stderr, s) {
			return true
		}
	}
	return false
}
