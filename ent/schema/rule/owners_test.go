package rule

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestOwnerCacheIsBounded(t *testing.T) {
	c := newOwnerCache(3)
	co := uuid.New()
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	for _, id := range ids[:3] {
		c.put(id, co)
	}
	for _, id := range ids[:3] {
		got, ok := c.get(id)
		require.True(t, ok)
		require.Equal(t, co, got)
	}
	c.put(ids[3], co) // full: starts over
	require.Len(t, c.m, 1)
	_, ok := c.get(ids[0])
	require.False(t, ok)
	got, ok := c.get(ids[3])
	require.True(t, ok)
	require.Equal(t, co, got)
}
