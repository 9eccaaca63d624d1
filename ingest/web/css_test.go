package web

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

func TestMediaApplies(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]bool{
		"": true, "all": true, "screen": true, "only screen": true, "SCREEN": true,
		"print": false, "speech": false, "not print": true, "not screen": false,
		"print, screen": true, "screen and (min-width: 768px)": true, "(min-width:1400px)": false,
		"(max-width: 600px)": false, "(max-width: 80em)": true, "screen and (orientation: landscape)": true,
		"(prefers-color-scheme: dark)": false, "(prefers-reduced-motion: reduce)": false,
		"(hover: hover) and (pointer: fine)": true, "(min-resolution: 2dppx)": false,
		"not all and (min-resolution: 2dppx)": false, "(width >= 600px)": false,
	} {
		require.Equal(t, want, mediaApplies(q), "@media %s", q)
	}
}

func TestParseSelector(t *testing.T) {
	t.Parallel()
	for sel, spec := range map[string]int{
		".ghost": 100, "#note": 10000, "div.ghost": 101, "p#note": 10001, "*": 0, "*.a.b": 200,
		"main .promo > p": 102, "main>p": 2, `.md\:block`: 100, `.\31 0`: 100, "body div  p": 3,
	} {
		r, ok := parseSelector(sel)
		require.True(t, ok, sel)
		require.Equal(t, spec, r.spec, sel)
	}
	for _, sel := range []string{"a:hover", "p::before", "a[href]", "h1 + p", "h1 ~ p", ":root", ".a:not(.b)", "> p", "p >", "#a#b", ""} {
		_, ok := parseSelector(sel)
		require.False(t, ok, sel)
	}
	r, _ := parseSelector(`.md\:block`)
	require.Equal(t, "md:block", r.parts[0].classes[0])
	r, _ = parseSelector(`.\31 0`)
	require.Equal(t, "10", r.parts[0].classes[0])
}

func TestParseCSS(t *testing.T) {
	t.Parallel()
	sh := parseCSS(`@charset "utf-8"; @import url("x.css");
/* .c1 { display: none } */
.a, p.b, a:hover, .c::after { display: none !important; color: RED; content: "}" }
.d { content: "{"; visibility: hidden }
@media print { .p { display: none } }
@media screen { @supports (display: grid) { .s { opacity: 0 } } }
@font-face { font-family: x; src: url(x.woff) }
@keyframes k { from { opacity: 0 } }
.n { color: blue; .inner { display: none } }
.empty { margin: 0 }`)
	var sels []string
	for _, r := range sh {
		var b strings.Builder
		for _, p := range r.parts {
			b.WriteString(p.tag + "." + strings.Join(p.classes, "."))
		}
		sels = append(sels, b.String())
	}
	require.Equal(t, []string{".a", "p.b", ".d", ".s", ".n"}, sels)
	require.Equal(t, []cssDecl{{"display", "none", true}, {"color", "red", false}}, sh[0].decls)
	require.Equal(t, []cssDecl{{"visibility", "hidden", false}}, sh[2].decls)
	require.Equal(t, []cssDecl{{"color", "blue", false}}, sh[4].decls)
}

func TestStylerCascade(t *testing.T) {
	t.Parallel()
	doc, err := html.Parse(strings.NewReader(`<div id="top" class="box"><p id="x" class="a b" style="color: green">t</p></div>`))
	require.NoError(t, err)
	var p *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "p" {
			p = n
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	st := newStyler([]styleSheet{parseCSS(`
#x { display: none } .a { display: block }           /* the id wins */
.b { opacity: 0 !important } #top > p { opacity: 1 } /* !important wins */
.a { color: red !important }                           /* over the inline style */
div p { font-size: 1px } .box p { font-size: 12px }    /* specificity */
.a.b { visibility: hidden } .b { visibility: visible } /* two classes win */
span.a { left: -9999px }`)})
	require.Equal(t, map[string]string{"display": "none", "opacity": "0", "color": "red", "font-size": "12px",
		"visibility": "hidden"}, st.style(p))
}
