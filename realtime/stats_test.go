package realtime_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestStatsCountPublished(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, newBroker func(buffer int) testBroker) {
		ctx := bound(t)
		b := newBroker(0)
		company := uuid.New()
		topic := inboxTopic(company)

		// Fanned out to nobody: still published.
		publish(ctx, t, b, resourcesTopic(company), "lost")
		sub, err := b.Subscribe(ctx, topic)
		require.NoError(t, err)
		publish(ctx, t, b, topic, "1")
		publish(ctx, t, b, topic, "2")
		require.Equal(t, "1", receive(ctx, t, sub))
		require.Equal(t, "2", receive(ctx, t, sub))
		// Events arrive in order: the first one was fanned out before these.
		s := b.Stats()
		require.EqualValues(t, 3, s.Published)
		require.EqualValues(t, 2, s.Delivered)
		require.Zero(t, s.Dropped)

		require.NoError(t, b.Close())
		require.Error(t, b.Publish(ctx, topic, []byte("after close")))
		require.EqualValues(t, 3, b.Stats().Published, "nothing is fanned out after Close")
	})
}
