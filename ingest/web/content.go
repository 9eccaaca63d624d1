package web

import (
	"bytes"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"concierge/ingest/fetch"
)

// page is what parsePage reads from one HTML page.
type page struct {
	title             string
	text              string // main content, h1–h3 as "#" lines
	links             []*url.URL
	noindex, nofollow bool
}

// boilerplate is removed from the main content wherever it is. DocBook's
// HTML (manuals, FAQs: Debian's, PostgreSQL's, FreeBSD's) puts its
// previous/next bars in div.navheader and div.navfooter, not <nav>.
const boilerplate = `script, style, noscript, template, svg, canvas, iframe, frame, object, embed, form, button,
	select, textarea, input, nav, aside, footer, dialog, menu, [role=navigation], [role=contentinfo],
	[role=complementary], [role=search], [role=dialog], [role=alertdialog], [aria-hidden=true], [hidden],
	div.navheader, div.navfooter`

// Hidden content: what a person reading the page does not see is not
// knowledge (and is where prompt injections hide). The browser marks what
// its computed styles hide (markHiddenJS); without a browser, the hidden
// utility classes, inline styles and the rules of the page's sheets (its
// <style> elements and linked same-site sheets, see css.go) are what can
// be told.
const hiddenMark = "data-concierge-hidden"

// hiddenClass matches the usual "visually hidden" utility classes (not
// "hidden" or "d-none": frameworks pair them with "md:block" to show the
// element on wider screens).
var hiddenClass = regexp.MustCompile(`(?i)(^|\s)(sr-only|visually-hidden|visuallyhidden|screen-reader-text|screen-reader-only|invisible|offscreen|off-screen)(\s|$)`)

// disclosure matches the classes of accordions, tabs and toggles, whose
// closed panels are display:none until a person opens them: their text is
// the page's (an FAQ's answers), so it stays.
var disclosure = regexp.MustCompile(`(?i)accordion|collaps|faq|toggle|tab-?pane|tabpanel|expand|disclosure|dropdown-content|panel`)

// inDisclosure reports whether s is (in) a panel a person can open: one
// that a control names in aria-controls, or inside an accordion's classes.
func inDisclosure(s *goquery.Selection, controlled map[string]bool) bool {
	for n := s; n.Length() > 0; n = n.Parent() {
		if id := n.AttrOr("id", ""); id != "" && controlled[id] {
			return true
		}
		if r := n.AttrOr("role", ""); r == "tabpanel" || r == "region" {
			return true
		}
		if disclosure.MatchString(n.AttrOr("class", "")) {
			return true
		}
	}
	return false
}

// styleHides reports whether an element's resolved properties hide it
// from a person: not displayed, invisible, transparent, moved off the
// screen, clipped, shrunk to nothing or scaled to nothing. closed is true
// for what a disclosure panel does when shut (display:none, collapsed to
// no size), which inDisclosure may keep.
func styleHides(p map[string]string) (hidden, closed bool) {
	if len(p) == 0 {
		return false, false
	}
	if p["display"] == "none" {
		return true, true
	}
	if v := p["visibility"]; v == "hidden" || v == "collapse" {
		return true, false
	}
	if v, ok := p["opacity"]; ok {
		pct := strings.HasSuffix(v, "%")
		if o, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64); err == nil {
			if pct {
				o /= 100
			}
			if o < 0.05 {
				return true, false
			}
		}
	}
	for _, k := range []string{"left", "top", "right", "bottom", "text-indent", "margin-left", "margin-top"} {
		if n, ok := cssLength(p[k], 16); ok && n <= -500 {
			return true, false
		}
	}
	if c := spaces.ReplaceAllString(p["clip"], ""); strings.HasPrefix(c, "rect(0") || strings.HasPrefix(c, "rect(1px,1px") {
		return true, false
	}
	if c := p["clip-path"]; strings.HasPrefix(c, "inset(50%") || strings.HasPrefix(c, "inset(100%") {
		return true, false
	}
	if t := spaces.ReplaceAllString(p["transform"], ""); strings.Contains(t, "scale(0)") || strings.Contains(t, "scale(0,") ||
		strings.Contains(t, "scalex(0)") || strings.Contains(t, "scaley(0)") {
		return true, false
	}
	o := p["overflow"]
	if o == "hidden" || o == "clip" || p["overflow-x"] == "hidden" || p["overflow-y"] == "hidden" {
		for _, k := range []string{"width", "height", "max-width", "max-height"} {
			if n, ok := cssLength(p[k], 16); ok && n <= 1 {
				return true, true
			}
		}
	}
	return false, false
}

// tinyFont reports a font size under 2 px.
func tinyFont(v string) bool {
	if n, ok := strings.CutSuffix(v, "%"); ok {
		f, err := strconv.ParseFloat(n, 64)
		return err == nil && f*16/100 < 2
	}
	n, ok := cssLength(v, 16)
	return ok && n < 2
}

var (
	spaces     = regexp.MustCompile(`\s+`)
	parenSpace = regexp.MustCompile(`\s*([(),/])\s*`)
)

// normColor folds a CSS colour value for comparison ("#FFF", "white" and
// "rgb(255, 255, 255)" are one).
func normColor(c string) string {
	c = strings.ToLower(spaces.ReplaceAllString(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(c), "!important")), ""))
	switch c {
	case "white", "#fff", "#ffffff", "rgb(255,255,255)", "rgba(255,255,255,1)":
		return "white"
	case "black", "#000", "#000000", "rgb(0,0,0)", "rgba(0,0,0,1)":
		return "black"
	}
	return c
}

// bgColor reads the colour of a background value: ok is false when the
// value shows what is behind it (none, transparent); color is "" when it
// cannot be told (an image, a gradient, a variable).
func bgColor(v string) (color string, ok bool) {
	v = parenSpace.ReplaceAllString(strings.TrimSpace(v), "$1")
	if v == "" {
		return "", false
	}
	if strings.Contains(v, "url(") || strings.Contains(v, "gradient") || strings.Contains(v, "var(") {
		return "", true
	}
	fields := strings.Fields(v)
	for _, f := range fields {
		switch {
		case f == "transparent" || f == "none" || f == "inherit" || f == "initial" || f == "unset" ||
			strings.HasPrefix(f, "rgba(") && strings.HasSuffix(f, ",0)"):
			return "", false
		case strings.HasPrefix(f, "#") || strings.HasPrefix(f, "rgb") || strings.HasPrefix(f, "hsl"):
			return normColor(f), true
		}
	}
	// A named colour, else something this does not read.
	for _, r := range fields[0] {
		if r < 'a' || r > 'z' {
			return "", true
		}
	}
	return normColor(fields[0]), true
}

// background is the colour behind an element: its own background's or
// its nearest ancestor's; explicit is false when none sets one (white).
func background(st *styler, n *html.Node) (color string, explicit bool) {
	for e := n; e != nil; e = parentElement(e) {
		p := st.style(e)
		if v, ok := p["background-image"]; ok && v != "none" && v != "initial" && v != "unset" {
			return "", true // an image: what colour the text is against is not known
		}
		for _, k := range []string{"background-color", "background"} {
			if v, ok := p[k]; ok {
				if c, ok := bgColor(v); ok {
					return c, true
				}
			}
		}
	}
	return "white", false
}

// ownText reports whether an element has text of its own (not only in
// its children).
func ownText(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode && strings.TrimSpace(c.Data) != "" {
			return true
		}
	}
	return false
}

// isHidden reports whether an element is hidden: the browser's mark, a
// hidden utility class, or its styles (inline and from the page's sheets,
// resolved by styler): not displayed and the like (styleHides), text
// under 2 px, or text in the colour of its background. A closed
// disclosure panel is not hidden (see disclosure).
func isHidden(s *goquery.Selection, controlled map[string]bool, st *styler) bool {
	if v, ok := s.Attr(hiddenMark); ok {
		return v != "closed" || !inDisclosure(s, controlled)
	}
	if hiddenClass.MatchString(s.AttrOr("class", "")) {
		return true
	}
	n := s.Get(0)
	p := st.style(n)
	if hidden, closed := styleHides(p); hidden {
		return !(closed && inDisclosure(s, controlled))
	}
	// Text too small to read: its own or inherited font size (a parent
	// with font-size 0 whose children set theirs is a layout trick).
	own := ownText(n)
	if own && tinyFont(st.inherited(n, "font-size")) {
		return true
	}
	// Its own colour against its background (white when none is set), or
	// the colour its text inherits against a background that is set (a
	// dark theme whose background this cannot read stays).
	if c, ok := p["color"]; ok {
		bg, _ := background(st, n)
		return normColor(c) == bg
	}
	if own {
		if c := st.inherited(n, "color"); c != "" {
			if bg, explicit := background(st, n); explicit {
				return normColor(c) == bg
			}
		}
	}
	return false
}

// cookieish matches ids and classes of cookie and consent banners and of
// other page furniture.
var cookieish = regexp.MustCompile(`(?i)(^|[-_ ])(cookie|cookies|consent|gdpr|cc-(window|banner)|onetrust|cookiebar|skip-?link|breadcrumbs?|share-?buttons|social-?share)([-_ ]|$)`)

// sheetLoader fetches a page's linked style sheets: one result per URL,
// nil for a sheet not fetched.
type sheetLoader func(urls []*url.URL) []styleSheet

// pageSheets reads the page's style sheets in document order: its <style>
// elements and, with load, its linked sheets (rel=stylesheet, not an
// alternate, disabled or for other media).
func pageSheets(doc *goquery.Document, base *url.URL, load sheetLoader) []styleSheet {
	var sheets []styleSheet
	var links []*url.URL
	var at []int // index in sheets of each link
	doc.Find("style, link[rel][href]").Each(func(_ int, s *goquery.Selection) {
		if !mediaApplies(s.AttrOr("media", "")) {
			return
		}
		if goquery.NodeName(s) == "style" {
			if s.Closest("template").Length() > 0 {
				return
			}
			if t := strings.ToLower(strings.TrimSpace(s.AttrOr("type", ""))); t == "" || t == "text/css" {
				sheets = append(sheets, parseCSS(s.Text()))
			}
			return
		}
		rel := strings.Fields(strings.ToLower(s.AttrOr("rel", "")))
		if load == nil || !slices.Contains(rel, "stylesheet") || slices.Contains(rel, "alternate") || s.Is("[disabled]") {
			return
		}
		l, err := base.Parse(strings.TrimSpace(s.AttrOr("href", "")))
		if err != nil || (l.Scheme != "http" && l.Scheme != "https") {
			return
		}
		if v, err := fetch.ValidateURL(l.String()); err == nil {
			links = append(links, v)
			at = append(at, len(sheets))
			sheets = append(sheets, nil)
		}
	})
	if len(links) > 0 {
		for i, sh := range load(links) {
			sheets[at[i]] = sh
		}
	}
	return sheets
}

// parsePage extracts the title, the main content and the links of a page.
// The main content is <main>, role=main or a single <article> when the
// page has one, else the body; navigation, headers, footers, asides,
// scripts, styles, forms, cookie banners and what the page's styles hide
// (isHidden; linked sheets are read with load, when not nil) are dropped.
func parsePage(u *url.URL, body []byte, load sheetLoader) page {
	var pg page
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return pg
	}
	base := u
	if href, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if b, err := u.Parse(strings.TrimSpace(href)); err == nil {
			base = b
		}
	}
	doc.Find(`meta[name]`).Each(func(_ int, s *goquery.Selection) {
		name := strings.ToLower(s.AttrOr("name", ""))
		if name != "robots" && name != strings.ToLower(RobotsAgent) {
			return
		}
		c := strings.ToLower(s.AttrOr("content", ""))
		pg.noindex = pg.noindex || strings.Contains(c, "noindex") || strings.Contains(c, "none")
		pg.nofollow = pg.nofollow || strings.Contains(c, "nofollow") || strings.Contains(c, "none")
	})
	// Links come from the whole page (navigation included).
	doc.Find("a[href], area[href]").Each(func(_ int, s *goquery.Selection) {
		href := strings.TrimSpace(s.AttrOr("href", ""))
		if href == "" || strings.HasPrefix(href, "#") || strings.Contains(strings.ToLower(s.AttrOr("rel", "")), "nofollow") {
			return
		}
		l, err := base.Parse(href)
		if err != nil || (l.Scheme != "http" && l.Scheme != "https") {
			return
		}
		if v, err := fetch.ValidateURL(l.String()); err == nil {
			pg.links = append(pg.links, v)
		}
	})

	pg.title = collapse(doc.Find("head title").First().Text())
	if pg.title == "" {
		pg.title = collapse(doc.Find("title").First().Text())
	}
	if pg.title == "" {
		pg.title = collapse(doc.Find(`meta[property="og:title"]`).AttrOr("content", ""))
	}

	st := newStyler(pageSheets(doc, base, load))

	root := doc.Find("main, [role=main]").First()
	isBody := false
	if root.Length() == 0 {
		if arts := doc.Find("article"); arts.Length() == 1 {
			root = arts
		}
	}
	if root.Length() == 0 {
		root, isBody = doc.Find("body").First(), true
	}
	if root.Length() == 0 {
		return pg
	}
	root.Find(boilerplate).Remove()
	controlled := map[string]bool{}
	doc.Find("[aria-controls]").Each(func(_ int, s *goquery.Selection) {
		for _, id := range strings.Fields(s.AttrOr("aria-controls", "")) {
			controlled[id] = true
		}
	})
	root.Find("*").Each(func(_ int, s *goquery.Selection) {
		if isHidden(s, controlled, st) {
			s.Remove()
		}
	})
	root.Find("header, [role=banner]").Each(func(_ int, s *goquery.Selection) {
		// A page's site header goes; an article's own header (with its
		// title) stays.
		if isBody && s.Closest("article").Length() == 0 || s.Find("h1, h2, h3").Length() == 0 {
			s.Remove()
		}
	})
	root.Find("[id], [class]").Each(func(_ int, s *goquery.Selection) {
		if cookieish.MatchString(s.AttrOr("id", "")) || cookieish.MatchString(s.AttrOr("class", "")) {
			s.Remove()
		}
	})
	if pg.title == "" {
		pg.title = collapse(root.Find("h1").First().Text())
	}
	if pg.title == "" {
		pg.title = u.String()
	}
	w := &textWriter{title: pg.title}
	for _, n := range root.Nodes {
		w.walk(n)
	}
	w.flush()
	pg.text = strings.Join(w.paras, "\n\n")
	return pg
}

// textWriter renders an HTML tree as paragraphs of plain text, with h1–h3
// as Markdown headings (which the chunker reads as section headings).
type textWriter struct {
	title string
	paras []string
	cur   strings.Builder
	pre   int
}

func (w *textWriter) flush() {
	t := strings.TrimSpace(w.cur.String())
	w.cur.Reset()
	if t != "" {
		w.paras = append(w.paras, t)
	}
}

func (w *textWriter) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		if w.pre > 0 {
			w.cur.WriteString(n.Data)
			return
		}
		s := collapseKeepEdges(n.Data)
		if s == " " && (w.cur.Len() == 0 || strings.HasSuffix(w.cur.String(), " ")) {
			return
		}
		if strings.HasPrefix(s, " ") && (w.cur.Len() == 0 || strings.HasSuffix(w.cur.String(), " ")) {
			s = s[1:]
		}
		w.cur.WriteString(s)
		return
	case html.ElementNode, html.DocumentNode:
	default:
		return
	}
	switch n.DataAtom {
	case atom.H1, atom.H2, atom.H3:
		w.flush()
		t := collapse(nodeText(n))
		if t != "" && !(n.DataAtom == atom.H1 && strings.EqualFold(t, w.title)) {
			w.paras = append(w.paras, strings.Repeat("#", int(n.Data[1]-'0'))+" "+t)
		}
		return
	case atom.Br:
		if w.pre > 0 {
			w.cur.WriteString("\n")
		} else {
			w.flush()
		}
		return
	case atom.Img:
		return
	case atom.Pre:
		w.flush()
		w.pre++
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			w.walk(c)
		}
		w.pre--
		w.flush()
		return
	case atom.Li, atom.Dt, atom.Dd:
		w.flush()
		if n.DataAtom == atom.Li {
			w.cur.WriteString("- ")
		}
	case atom.Td, atom.Th:
		if w.cur.Len() > 0 {
			w.cur.WriteString(" | ")
		}
	}
	block := isBlock(n.DataAtom)
	if block {
		w.flush()
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
	if block {
		w.flush()
	}
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Section, atom.Article, atom.Main, atom.Header, atom.Blockquote, atom.Ul, atom.Ol,
		atom.Dl, atom.Li, atom.Dt, atom.Dd, atom.Table, atom.Tr, atom.Thead, atom.Tbody, atom.Tfoot, atom.Caption,
		atom.Figure, atom.Figcaption, atom.H4, atom.H5, atom.H6, atom.Hr, atom.Address, atom.Details, atom.Summary,
		atom.Body:
		return true
	}
	return false
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var f func(*html.Node)
	f = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			f(c)
		}
	}
	f(n)
	return b.String()
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// collapseKeepEdges collapses whitespace runs to one space, keeping one at
// either end if there was any.
func collapseKeepEdges(s string) string {
	if s == "" {
		return ""
	}
	c := collapse(s)
	if c == "" {
		return " "
	}
	if isSpace(s[0]) {
		c = " " + c
	}
	if isSpace(s[len(s)-1]) {
		c += " "
	}
	return c
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\t' || b == '\r' || b == '\f' }
