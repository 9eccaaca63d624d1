package server

import (
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// dataFrame writes what encoding/json would, byte for byte once both are
// decoded, and leaves any response but bare data to it.
func TestDataFrameMatchesEncodingJSON(t *testing.T) {
	for _, c := range []struct {
		id   string
		data string
		ext  map[string]any
	}{
		// As gqlgen's executor gives it: an empty extensions map.
		{"0", `{"conversationEvents":{"kind":"TYPING"}}`, map[string]any{}},
		{"1", `{"inboxEvents":{"kind":"MESSAGE_CREATED","message":{"id":"x","body":"hi"}}}`, nil},
		{`op "2" \ é 😀`, `{"e":{"body":"<b>&amp;</b> \u2028 \"quoted\" é"}}`, nil},
		{"", `null`, nil},
		{"3", ``, nil},
	} {
		resp := &graphql.Response{Extensions: c.ext}
		if c.data != "" {
			resp.Data = json.RawMessage(c.data)
		}
		got, ok := dataFrame(c.id, resp)
		require.True(t, ok, c.id)
		payload, err := json.Marshal(resp)
		require.NoError(t, err)
		want, err := json.Marshal(wsMessage{ID: c.id, Type: "next", Payload: payload})
		require.NoError(t, err)
		var g, w any
		require.NoError(t, json.Unmarshal(got, &g), string(got))
		require.NoError(t, json.Unmarshal(want, &w))
		if c.id == "" {
			// encoding/json omits an empty id; both mean none.
			w.(map[string]any)["id"] = ""
		}
		require.Equal(t, w, g, c.id)
	}
	hasNext := true
	for name, resp := range map[string]*graphql.Response{
		"errors":     {Errors: gqlerror.List{{Message: "x"}}},
		"extensions": {Data: json.RawMessage(`{}`), Extensions: map[string]any{"k": 1}},
		"hasNext":    {Data: json.RawMessage(`{}`), HasNext: &hasNext},
		"label":      {Data: json.RawMessage(`{}`), Label: "l"},
	} {
		_, ok := dataFrame("1", resp)
		require.False(t, ok, name)
	}
}
