// Package widget holds the embeddable chat widget: one plain JavaScript
// file (ES2020, no framework, no build step) that the server embeds and
// serves at /widget.js. Sites add it with
//
//	<script src="https://HOST/widget.js" data-company-key="KEY" async></script>
package widget

import _ "embed"

//go:embed widget.js
var script []byte

// JS returns the widget's source. The slice is shared: do not modify it.
func JS() []byte { return script }
