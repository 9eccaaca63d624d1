// Package observetest reads observe's metrics in tests.
package observetest

import (
	"testing"

	"concierge/observe"
)

// Series returns the number of series of the metric family name (like
// prometheus/testutil.CollectAndCount, which this module cannot import
// without another go.mod requirement).
func Series(t testing.TB, name string) int {
	t.Helper()
	mfs, err := observe.Registry().Gather()
	if err != nil {
		t.Fatalf("observetest: gathering metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return len(mf.GetMetric())
		}
	}
	return 0
}

// Value returns the sum over the series of the metric family name whose
// labels include every name/value pair of labels ("provider", "offline",
// ...): counter and gauge values, histogram sample counts. The metrics are
// the process's, so tests compare a value before and after.
func Value(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	if len(labels)%2 != 0 {
		t.Fatalf("observetest: labels must be name/value pairs: %q", labels)
	}
	mfs, err := observe.Registry().Gather()
	if err != nil {
		t.Fatalf("observetest: gathering metrics: %v", err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for i := 0; i < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
						break
					}
				}
				if !found {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			case m.Untyped != nil:
				sum += m.GetUntyped().GetValue()
			}
		}
	}
	return sum
}
