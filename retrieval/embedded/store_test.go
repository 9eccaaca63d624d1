package embedded_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"concierge/retrieval"
	"concierge/retrieval/embedded"
	"concierge/retrieval/storetest"
)

func open(t testing.TB, dir string) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(t.Context(), filepath.Join(dir, embedded.FileName))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) retrieval.Store { return open(t, t.TempDir()) })
}
