package web

import (
	"bytes"
	"net/url"
	"regexp"
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

// boilerplate is removed from the main content wherever it is.
const boilerplate = `script, style, noscript, template, svg, canvas, iframe, frame, object, embed, form, button,
	select, textarea, input, nav, aside, footer, dialog, menu, [role=navigation], [role=contentinfo],
	[role=complementary], [role=search], [role=dialog], [role=alertdialog], [aria-hidden=true], [hidden]`

// Hidden content: what a person reading the page does not see is not
// knowledge (and is where prompt injections hide). The browser marks what
// its computed styles hide (markHiddenJS); without a browser, the hidden
// utility classes and inline styles are what can be told.
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

// hiddenStyle matches inline styles that hide an element: not displayed,
// invisible, transparent, text too small to read, moved off the screen,
// clipped or shrunk to nothing.
var hiddenStyle = regexp.MustCompile(`(?i)display\s*:\s*none|visibility\s*:\s*(hidden|collapse)|opacity\s*:\s*0(\.0*)?\s*(;|$)|` +
	`font-size\s*:\s*(0|0?\.\d+|1)(px|pt|em|rem)?\s*(;|$)|(left|top|right|bottom|text-indent|margin-left|margin-top)\s*:\s*-\d{3,}|` +
	`clip\s*:\s*rect\(\s*0|clip-path\s*:\s*inset\(\s*(50|100)%|(^|;)\s*(width|height)\s*:\s*[01](px)?\s*(;|$)|transform\s*:\s*scale\(\s*0\s*\)`)

var (
	displayNone = regexp.MustCompile(`(?i)display\s*:\s*none`)
	styleColor  = regexp.MustCompile(`(?i)(^|;)\s*color\s*:\s*([^;]+)`)
	styleBg     = regexp.MustCompile(`(?i)background(-color)?\s*:\s*([^;]+)`)
	spaces      = regexp.MustCompile(`\s+`)
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

// cssRule matches one rule of a style sheet: selectors { declarations }.
var cssRule = regexp.MustCompile(`([^{}]+)\{([^{}]*)\}`)

// sheetStyles reads the page's own <style> sheets for what they give
// single-class and single-id selectors (".ghost", "#note"): the styles
// that hide text are most often there. Other selectors and linked sheets
// are the browser's to apply (RenderJavascript).
func sheetStyles(doc *goquery.Document) map[string]string {
	out := map[string]string{}
	doc.Find("style").Each(func(_ int, s *goquery.Selection) {
		css := s.Text()
		for _, m := range cssRule.FindAllStringSubmatch(css, -1) {
			for _, sel := range strings.Split(m[1], ",") {
				sel = strings.TrimSpace(sel)
				if len(sel) < 2 || (sel[0] != '.' && sel[0] != '#') || strings.ContainsAny(sel[1:], " .#:[>+~*") {
					continue
				}
				out[sel] += ";" + m[2]
			}
		}
	})
	return out
}

// styleOf is an element's inline style with what the page's sheets give
// its classes and id (sheets first, so the inline style wins).
func styleOf(s *goquery.Selection, sheets map[string]string) string {
	var b strings.Builder
	if len(sheets) > 0 {
		for _, c := range strings.Fields(s.AttrOr("class", "")) {
			b.WriteString(sheets["."+c])
		}
		if id := s.AttrOr("id", ""); id != "" {
			b.WriteString(sheets["#"+id])
		}
	}
	b.WriteString(";")
	b.WriteString(s.AttrOr("style", ""))
	return b.String()
}

// isHidden reports whether an element is hidden by its attributes: the
// browser's mark, a hidden utility class, an inline style, or text in the
// colour of its background (its own or an ancestor's; none set is white).
// A closed disclosure panel is not hidden (see disclosure).
func isHidden(s *goquery.Selection, controlled map[string]bool, sheets map[string]string) bool {
	if v, ok := s.Attr(hiddenMark); ok {
		return v != "closed" || !inDisclosure(s, controlled)
	}
	if hiddenClass.MatchString(s.AttrOr("class", "")) {
		return true
	}
	style := styleOf(s, sheets)
	if strings.Trim(style, "; ") == "" {
		return false
	}
	if hiddenStyle.MatchString(style) {
		return !(displayNone.MatchString(style) && inDisclosure(s, controlled))
	}
	ms := styleColor.FindAllStringSubmatch(style, -1)
	if ms == nil {
		return false
	}
	color := normColor(ms[len(ms)-1][2])
	bg := "white"
	for n := s; n.Length() > 0; n = n.Parent() {
		if b := styleBg.FindAllStringSubmatch(styleOf(n, sheets), -1); b != nil {
			bg = normColor(strings.Fields(b[len(b)-1][2] + " ")[0])
			break
		}
	}
	return color == bg
}

// cookieish matches ids and classes of cookie and consent banners and of
// other page furniture.
var cookieish = regexp.MustCompile(`(?i)(^|[-_ ])(cookie|cookies|consent|gdpr|cc-(window|banner)|onetrust|cookiebar|skip-?link|breadcrumbs?|share-?buttons|social-?share)([-_ ]|$)`)

// parsePage extracts the title, the main content and the links of a page.
// The main content is <main>, role=main or a single <article> when the
// page has one, else the body; navigation, headers, footers, asides,
// scripts, styles, forms and cookie banners are dropped.
func parsePage(u *url.URL, body []byte) page {
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
	sheets := sheetStyles(doc)
	root.Find("*").Each(func(_ int, s *goquery.Selection) {
		if isHidden(s, controlled, sheets) {
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
