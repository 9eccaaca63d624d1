package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Sample is what a replica's /metrics said at one moment.
type Sample struct {
	RSSBytes       float64 `json:"rssBytes"`
	Goroutines     float64 `json:"goroutines"`
	HeapInuseBytes float64 `json:"heapInuseBytes"`
	StackBytes     float64 `json:"stackInuseBytes"`
	CPUSeconds     float64 `json:"cpuSeconds"`
	// Resyncs is concierge_subscription_resyncs_total by stream (inbox,
	// conversation): subscribers that fell behind the broker and followed
	// again. Absent from servers that do not export it.
	Resyncs map[string]float64 `json:"resyncs,omitempty"`
	Error   string             `json:"error,omitempty"`
}

// metricNames are the series read from the Prometheus text format.
var metricNames = map[string]func(*Sample, float64){
	"process_resident_memory_bytes": func(s *Sample, v float64) { s.RSSBytes = v },
	"go_goroutines":                 func(s *Sample, v float64) { s.Goroutines = v },
	"go_memstats_heap_inuse_bytes":  func(s *Sample, v float64) { s.HeapInuseBytes = v },
	"go_memstats_stack_inuse_bytes": func(s *Sample, v float64) { s.StackBytes = v },
	"process_cpu_seconds_total":     func(s *Sample, v float64) { s.CPUSeconds = v },
}

// scrape reads base's /metrics. Failures are reported in the sample, not
// returned: a replica without metrics does not stop a run.
func scrape(ctx context.Context, client *http.Client, base string) Sample {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var s Sample
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	res, err := client.Do(req)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		s.Error = fmt.Sprintf("HTTP %d", res.StatusCode)
		return s
	}
	if err := parseMetrics(bufio.NewScanner(res.Body), &s); err != nil {
		s.Error = err.Error()
	}
	return s
}

// parseMetrics picks the unlabelled series of metricNames out of the
// Prometheus text exposition format: "name value [timestamp]" lines,
// comments starting with #.
func parseMetrics(sc *bufio.Scanner, s *Sample) error {
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	found := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if stream, ok := label(f[0], resyncsName, "stream"); ok {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				if s.Resyncs == nil {
					s.Resyncs = map[string]float64{}
				}
				s.Resyncs[stream] += v
			}
			continue
		}
		set, ok := metricNames[f[0]]
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		set(s, v)
		found++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if found == 0 {
		return fmt.Errorf("no process_resident_memory_bytes or go_goroutines in /metrics")
	}
	return nil
}

const resyncsName = "concierge_subscription_resyncs_total"

// label returns the value of label key in series (name{k="v",...}) if the
// series is name's.
func label(series, name, key string) (string, bool) {
	rest, ok := strings.CutPrefix(series, name+"{")
	if !ok {
		return "", false
	}
	_, v, ok := strings.Cut(rest, key+`="`)
	if !ok {
		return "", true
	}
	v, _, _ = strings.Cut(v, `"`)
	return v, true
}

// loadAverage is this machine's /proc/loadavg (1, 5 and 15 minutes), or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
