package web

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// Style sheets without a browser. The plain HTTP path reads the page's
// <style> sheets and its linked same-site sheets (crawler.stylesheets)
// for the rules that hide text, and resolves, per element, the properties
// that say whether a person can see it. It is a small subset of CSS:
//
//   - selectors of type, class, id and universal parts joined by the
//     descendant and child combinators ("div.ghost", "#note",
//     "main .promo > p"); others (attributes, pseudo-classes, sibling
//     combinators) are skipped;
//   - the cascade by specificity, order and !important, inline styles
//     last; no inheritance but that of font-size and color;
//   - @media blocks that apply to the browser's screen (1280×800, the
//     viewport Chromium renders pages in), @supports and @layer blocks;
//     other at-rules and @import are skipped.

// viewport is the screen media queries are evaluated against: rod's
// default device, in which the browser path renders.
const viewportW, viewportH = 1280, 800

// cssProps are the properties the hiding rules read; others are dropped.
var cssProps = map[string]bool{"display": true, "visibility": true, "opacity": true, "font-size": true,
	"color": true, "background": true, "background-color": true, "background-image": true, "left": true, "top": true, "right": true,
	"bottom": true, "text-indent": true, "margin-left": true, "margin-top": true, "clip": true,
	"clip-path": true, "width": true, "height": true, "max-width": true, "max-height": true,
	"overflow": true, "overflow-x": true, "overflow-y": true, "transform": true}

type cssDecl struct {
	prop, val string
	important bool
}

// compound is one compound selector: type (or "" for any), id, classes.
type compound struct {
	tag, id string
	classes []string
}

// cssRule is one selector of a style rule, with the rule's declarations.
type cssRule struct {
	parts []compound // left to right
	combs []byte     // combs[i] joins parts[i] and parts[i+1]: ' ' or '>'
	spec  int
	decls []cssDecl
}

// styleSheet is a parsed sheet, its rules in source order.
type styleSheet []*cssRule

// parseCSS reads a style sheet: the style rules whose selectors it can
// match, including those of @media blocks that apply to the screen.
func parseCSS(css string) styleSheet {
	var out styleSheet
	walkCSS(stripComments(css), &out, 0)
	return out
}

func stripComments(s string) string {
	if !strings.Contains(s, "/*") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "/*")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		j := strings.Index(s[i+2:], "*/")
		if j < 0 {
			return b.String()
		}
		b.WriteByte(' ')
		s = s[i+2+j+2:]
	}
}

// nextDelim returns the index of the first of delims in s outside quoted
// strings, or -1.
func nextDelim(s string, delims string) int {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\'':
			if j := strings.IndexByte(s[i+1:], c); j >= 0 {
				i += j + 1
			} else {
				return -1
			}
		case c == '\\':
			i++
		case strings.IndexByte(delims, c) >= 0:
			return i
		}
	}
	return -1
}

// blockEnd returns the index of the '}' closing the block whose '{' is at
// open, or len(s).
func blockEnd(s string, open int) int {
	depth := 0
	for i := open; i < len(s); {
		j := nextDelim(s[i:], "{}")
		if j < 0 {
			return len(s)
		}
		i += j
		if s[i] == '{' {
			depth++
		} else if depth--; depth == 0 {
			return i
		}
		i++
	}
	return len(s)
}

func walkCSS(s string, out *styleSheet, depth int) {
	for len(s) > 0 {
		j := nextDelim(s, "{};")
		if j < 0 {
			return
		}
		prelude := strings.TrimSpace(s[:j])
		if s[j] != '{' { // an at-statement (@import, @charset) or a stray
			s = s[j+1:]
			continue
		}
		end := blockEnd(s, j)
		body := s[j+1 : end]
		if end < len(s) {
			s = s[end+1:]
		} else {
			s = ""
		}
		if strings.HasPrefix(prelude, "@") {
			k := 1
			for k < len(prelude) && (prelude[k] == '-' || prelude[k] >= 'a' && prelude[k] <= 'z' || prelude[k] >= 'A' && prelude[k] <= 'Z') {
				k++
			}
			name, rest := prelude[1:k], prelude[k:] // "@media(min-width:1px)" too
			switch strings.ToLower(name) {
			case "media":
				if depth < 8 && mediaApplies(rest) {
					walkCSS(body, out, depth+1)
				}
			case "supports", "layer":
				if depth < 8 {
					walkCSS(body, out, depth+1)
				}
			}
			continue
		}
		// Nested rules (CSS nesting) are skipped: only the rule's own
		// declarations count.
		if strings.Contains(body, "{") {
			body = dropBlocks(body)
		}
		decls := parseDecls(body)
		if len(decls) == 0 {
			continue
		}
		for _, sel := range strings.Split(prelude, ",") {
			if r, ok := parseSelector(sel); ok {
				r.decls = decls
				*out = append(*out, r)
			}
		}
	}
}

// dropBlocks removes the nested blocks (and their preludes) of a rule's
// body.
func dropBlocks(body string) string {
	var b strings.Builder
	for len(body) > 0 {
		j := nextDelim(body, "{;")
		if j < 0 {
			b.WriteString(body)
			break
		}
		if body[j] == ';' {
			b.WriteString(body[:j+1])
			body = body[j+1:]
			continue
		}
		end := blockEnd(body, j)
		if end >= len(body) {
			break
		}
		body = body[end+1:]
	}
	return b.String()
}

// parseDecls reads "prop: value; ..." for the properties in cssProps.
func parseDecls(s string) []cssDecl {
	var out []cssDecl
	for len(s) > 0 {
		j := nextDelim(s, ";")
		part := s
		if j < 0 {
			s = ""
		} else {
			part, s = s[:j], s[j+1:]
		}
		prop, val, ok := strings.Cut(part, ":")
		if !ok {
			continue
		}
		prop = strings.ToLower(strings.TrimSpace(prop))
		if !cssProps[prop] {
			continue
		}
		val = strings.TrimSpace(val)
		d := cssDecl{prop: prop}
		if i := strings.LastIndexByte(val, '!'); i >= 0 && strings.EqualFold(strings.TrimSpace(val[i+1:]), "important") {
			d.important = true
			val = strings.TrimSpace(val[:i])
		}
		d.val = strings.ToLower(val)
		out = append(out, d)
	}
	return out
}

// parseSelector reads a selector of compounds (type, .class, #id, *)
// joined by descendant and child combinators.
func parseSelector(s string) (*cssRule, bool) {
	r := &cssRule{}
	var comb byte
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
			if comb == 0 && len(r.parts) > 0 {
				comb = ' '
			}
		}
		if i == len(s) {
			break
		}
		if s[i] == '>' {
			if len(r.parts) == 0 || comb == '>' {
				return nil, false
			}
			comb = '>'
			i++
			continue
		}
		if len(r.parts) > 0 && comb == 0 {
			return nil, false // "a:hover", "a[href]", "a+b": not ours
		}
		var c compound
		n := 0
		if s[i] == '*' {
			i++
			n++
		} else if id, k := cssIdent(s[i:]); k > 0 {
			c.tag = strings.ToLower(id)
			i += k
			n++
		}
		for i < len(s) && (s[i] == '.' || s[i] == '#') {
			id, k := cssIdent(s[i+1:])
			if k == 0 {
				return nil, false
			}
			if s[i] == '.' {
				c.classes = append(c.classes, id)
				r.spec += 100
			} else {
				if c.id != "" && c.id != id {
					return nil, false // matches nothing
				}
				c.id = id
				r.spec += 10000
			}
			i += 1 + k
			n++
		}
		if n == 0 {
			return nil, false
		}
		if c.tag != "" {
			r.spec++
		}
		if len(r.parts) > 0 {
			r.combs = append(r.combs, comb)
		}
		r.parts = append(r.parts, c)
		comb = 0
	}
	return r, comb != '>' && len(r.parts) > 0 && len(r.parts) <= 16
}

// cssIdent reads an identifier at the start of s (escapes decoded, as
// Tailwind's ".md\:block" needs) and returns it with its length in s.
func cssIdent(s string) (string, int) {
	var b strings.Builder
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			j := i + 1
			for j < len(s) && j < i+7 && isHex(s[j]) {
				j++
			}
			if j > i+1 {
				n, _ := strconv.ParseUint(s[i+1:j], 16, 32)
				b.WriteRune(rune(n))
				if j < len(s) && isSpace(s[j]) {
					j++
				}
				i = j
			} else {
				r, size := utf8.DecodeRuneInString(s[i+1:])
				b.WriteRune(r)
				i += 1 + size
			}
		case c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			b.WriteByte(c)
			i++
		default:
			return b.String(), i
		}
	}
	return b.String(), i
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// mediaApplies reports whether a media query list surely matches the
// browser's screen: an unknown feature makes a query not match, so its
// rules do not hide anything.
func mediaApplies(q string) bool {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return true
	}
	for _, one := range strings.Split(q, ",") {
		if m, known := mediaQuery(strings.TrimSpace(one)); known && m {
			return true
		}
	}
	return false
}

func mediaQuery(q string) (match, known bool) {
	neg := false
	if r, ok := strings.CutPrefix(q, "not "); ok {
		neg, q = true, r
	}
	q = strings.TrimPrefix(q, "only ")
	match, known = true, true
	for _, part := range strings.Split(q, " and ") {
		part = strings.TrimSpace(part)
		var m, k bool
		if strings.HasPrefix(part, "(") && strings.HasSuffix(part, ")") {
			m, k = mediaFeature(strings.TrimSpace(part[1 : len(part)-1]))
		} else {
			switch part {
			case "all", "screen":
				m, k = true, true
			case "print", "speech", "tty", "tv", "projection", "handheld", "braille", "embossed", "aural":
				m, k = false, true
			}
		}
		if !k {
			return false, false
		}
		match = match && m
	}
	return match != neg, true
}

func mediaFeature(f string) (match, known bool) {
	name, val, _ := strings.Cut(f, ":")
	name, val = strings.TrimSpace(name), strings.TrimSpace(val)
	px := func() (float64, bool) { return cssLength(val, 16) }
	switch name {
	case "min-width", "min-device-width":
		v, ok := px()
		return viewportW >= v, ok
	case "max-width", "max-device-width":
		v, ok := px()
		return viewportW <= v, ok
	case "min-height", "min-device-height":
		v, ok := px()
		return viewportH >= v, ok
	case "max-height", "max-device-height":
		v, ok := px()
		return viewportH <= v, ok
	case "orientation":
		return val == "landscape", val == "landscape" || val == "portrait"
	case "hover", "any-hover":
		return val == "hover", val == "hover" || val == "none"
	case "pointer", "any-pointer":
		return val == "fine", val == "fine" || val == "coarse" || val == "none"
	case "prefers-color-scheme":
		return val == "light", val == "light" || val == "dark"
	case "prefers-reduced-motion", "prefers-contrast", "prefers-reduced-transparency":
		return val == "no-preference", val != ""
	case "color":
		return val == "", val == ""
	}
	return false, false
}

// cssLength is a length in px: px, pt, em and rem (em as emPx), or a bare
// number.
func cssLength(v string, emPx float64) (float64, bool) {
	v = strings.TrimSpace(v)
	num := strings.TrimRight(v, "abcdefghijklmnopqrstuvwxyz%")
	unit := v[len(num):]
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil {
		return 0, false
	}
	switch unit {
	case "px", "":
		return n, true
	case "pt":
		return n * 4 / 3, true
	case "em", "rem":
		return n * emPx, true
	}
	return 0, false
}

// styler resolves the styles of a page's elements from its sheets and
// inline styles.
type styler struct {
	byID, byClass, byTag map[string][]int
	any                  []int
	rules                []*cssRule
	memo                 map[*html.Node]map[string]string
}

func newStyler(sheets []styleSheet) *styler {
	st := &styler{byID: map[string][]int{}, byClass: map[string][]int{}, byTag: map[string][]int{},
		memo: map[*html.Node]map[string]string{}}
	for _, sh := range sheets {
		for _, r := range sh {
			i := len(st.rules)
			st.rules = append(st.rules, r)
			last := r.parts[len(r.parts)-1]
			switch {
			case last.id != "":
				st.byID[last.id] = append(st.byID[last.id], i)
			case len(last.classes) > 0:
				st.byClass[last.classes[0]] = append(st.byClass[last.classes[0]], i)
			case last.tag != "":
				st.byTag[last.tag] = append(st.byTag[last.tag], i)
			default:
				st.any = append(st.any, i)
			}
		}
	}
	return st
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

func parentElement(n *html.Node) *html.Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode {
			return p
		}
	}
	return nil
}

func (c *compound) matches(n *html.Node) bool {
	if c.tag != "" && c.tag != n.Data {
		return false
	}
	if c.id != "" && attr(n, "id") != c.id {
		return false
	}
	if len(c.classes) > 0 {
		have := strings.Fields(attr(n, "class"))
	next:
		for _, want := range c.classes {
			for _, h := range have {
				if h == want {
					continue next
				}
			}
			return false
		}
	}
	return true
}

func (r *cssRule) matchAt(i int, n *html.Node) bool {
	if !r.parts[i].matches(n) {
		return false
	}
	if i == 0 {
		return true
	}
	if r.combs[i-1] == '>' {
		p := parentElement(n)
		return p != nil && r.matchAt(i-1, p)
	}
	for p := parentElement(n); p != nil; p = parentElement(p) {
		if r.matchAt(i-1, p) {
			return true
		}
	}
	return false
}

// style returns an element's resolved properties (those of cssProps):
// the matching rules by specificity and order, then the inline style,
// !important declarations last.
func (st *styler) style(n *html.Node) map[string]string {
	if s, ok := st.memo[n]; ok {
		return s
	}
	var cand []int
	if len(st.rules) > 0 {
		if id := attr(n, "id"); id != "" {
			cand = append(cand, st.byID[id]...)
		}
		seen := map[string]bool{}
		for _, c := range strings.Fields(attr(n, "class")) {
			if !seen[c] {
				seen[c] = true
				cand = append(cand, st.byClass[c]...)
			}
		}
		cand = append(cand, st.byTag[n.Data]...)
		cand = append(cand, st.any...)
	}
	var matched []*cssRule
	sort.Ints(cand)
	for _, i := range cand {
		if r := st.rules[i]; r.matchAt(len(r.parts)-1, n) {
			matched = append(matched, r)
		}
	}
	sort.SliceStable(matched, func(a, b int) bool { return matched[a].spec < matched[b].spec })
	inline := parseDecls(attr(n, "style"))
	out := map[string]string{}
	for _, imp := range []bool{false, true} {
		for _, r := range matched {
			for _, d := range r.decls {
				if d.important == imp {
					out[d.prop] = d.val
				}
			}
		}
		for _, d := range inline {
			if d.important == imp {
				out[d.prop] = d.val
			}
		}
	}
	st.memo[n] = out
	return out
}

// inherited returns the value of an inherited property (font-size,
// color): the element's own, else its nearest ancestor's.
func (st *styler) inherited(n *html.Node, prop string) string {
	for e := n; e != nil; e = parentElement(e) {
		if v, ok := st.style(e)[prop]; ok && v != "inherit" && v != "unset" {
			return v
		}
	}
	return ""
}
