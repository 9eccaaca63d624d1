package pdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
)

// A tiny PDF writer for tests: real, valid PDFs with a Helvetica text layer,
// optional image-only pages, optional Flate compression and an optional
// (undecryptable) /Encrypt dictionary.

type testPage struct {
	lines []string // text lines, Helvetica
	raw   string   // raw content stream instead of lines
	img   *grayImage
}

type grayImage struct {
	w, h int
	pix  []byte // 8-bit gray, row-major
}

type pdfOpts struct {
	title    string
	compress bool
	encrypt  bool
	fontSize float64
}

func pdfEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`)
	return r.Replace(s)
}

func buildPDF(pages []testPage, o pdfOpts) []byte {
	if o.fontSize == 0 {
		o.fontSize = 12
	}
	var objs []string // objs[i] is object i+1 body
	add := func(body string) int { objs = append(objs, body); return len(objs) }
	stream := func(dict string, data []byte) string {
		if o.compress {
			var b bytes.Buffer
			w := zlib.NewWriter(&b)
			w.Write(data)
			w.Close()
			data = b.Bytes()
			dict += " /Filter /FlateDecode"
		}
		return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
	}
	catalog := add("") // filled later
	pagesObj := add("")
	font := add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	var kids []string
	shared := map[string]int{} // identical raw content streams share one object
	for _, p := range pages {
		res := fmt.Sprintf("/Font << /F1 %d 0 R >>", font)
		var content string
		switch {
		case p.img != nil:
			img := add(stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8", p.img.w, p.img.h), p.img.pix))
			res = fmt.Sprintf("/XObject << /Im1 %d 0 R >>", img)
			content = "q 612 0 0 792 0 0 cm /Im1 Do Q"
		case p.raw != "":
			content = p.raw
		default:
			var b strings.Builder
			lead := o.fontSize * 1.2
			fmt.Fprintf(&b, "BT /F1 %g Tf %g TL 54 %g Td\n", o.fontSize, lead, 792-54-o.fontSize)
			for _, l := range p.lines {
				fmt.Fprintf(&b, "(%s) Tj T*\n", pdfEscape(l))
			}
			b.WriteString("ET")
			content = b.String()
		}
		c, ok := shared[content]
		if !ok {
			c = add(stream("", []byte(content)))
			if p.raw != "" {
				shared[content] = c
			}
		}
		pg := add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << %s >> /Contents %d 0 R >>", pagesObj, res, c))
		kids = append(kids, fmt.Sprintf("%d 0 R", pg))
	}
	objs[catalog-1] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pagesObj)
	objs[pagesObj-1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	info := 0
	if o.title != "" {
		info = add(fmt.Sprintf("<< /Title (%s) /Producer (concierge test writer) >>", pdfEscape(o.title)))
	}
	encrypt := 0
	if o.encrypt {
		// Standard security handler, RC4 40-bit, with /O and /U that match no
		// password: readers must ask for one.
		u := strings.Repeat("A1", 32)
		ow := strings.Repeat("B2", 32)
		encrypt = add(fmt.Sprintf("<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 /O <%s> /U <%s> >>", ow, u))
	}

	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, body := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R", len(objs)+1, catalog)
	if info != 0 {
		fmt.Fprintf(&b, " /Info %d 0 R", info)
	}
	if encrypt != 0 {
		fmt.Fprintf(&b, " /Encrypt %d 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]", encrypt)
	}
	fmt.Fprintf(&b, " >>\nstartxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes()
}

// wrapWords splits prose into lines of at most width characters.
func wrapWords(text string, width int) []string {
	var lines []string
	var cur strings.Builder
	for _, w := range strings.Fields(text) {
		if cur.Len() > 0 && cur.Len()+1+len(w) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(w)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// paginate cuts lines into pages of n lines.
func paginate(lines []string, n int) []testPage {
	var pages []testPage
	for len(lines) > 0 {
		k := min(n, len(lines))
		pages = append(pages, testPage{lines: lines[:k]})
		lines = lines[k:]
	}
	return pages
}
