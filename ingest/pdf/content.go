package pdf

import (
	lpdf "github.com/ledongthuc/pdf"
)

// pageGlyphs walks a page's content stream like lpdf.Page.Content, but
// caches each font's decoder and widths: the library re-parses the font's
// ToUnicode CMap at every Tf and rebuilds the widths array at every glyph,
// which made pdfTeX documents ~50x slower than pdftotext.

type mtx [3][3]float64

var identity = mtx{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}

func (x mtx) mul(y mtx) mtx {
	var z mtx
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 3; k++ {
				z[i][j] += x[i][k] * y[k][j]
			}
		}
	}
	return z
}

type cachedFont struct {
	enc    lpdf.TextEncoding
	first  int
	widths []float64
}

func (f *cachedFont) width(code int) float64 {
	if f == nil {
		return 0
	}
	i := code - f.first
	if i < 0 || i >= len(f.widths) {
		return 0
	}
	return f.widths[i]
}

type nopEnc struct{}

func (nopEnc) Decode(raw string) string { return raw }

type gstate struct {
	Tc, Tw, Th, Tl, Tfs, Trise float64
	Tf                         *cachedFont
	Tm, Tlm, CTM               mtx
}

func pageGlyphs(p lpdf.Page) []lpdf.Text {
	strm := p.V.Key("Contents")
	if strm.IsNull() {
		return nil
	}
	fonts := map[string]*cachedFont{}
	font := func(name string) *cachedFont {
		if f, ok := fonts[name]; ok {
			return f
		}
		lf := p.Font(name)
		cf := &cachedFont{first: lf.FirstChar(), widths: lf.Widths()}
		cf.enc = lf.Encoder()
		if cf.enc == nil {
			cf.enc = nopEnc{}
		}
		fonts[name] = cf
		return cf
	}
	g := gstate{Th: 1, CTM: identity, Tm: identity, Tlm: identity}
	var enc lpdf.TextEncoding = nopEnc{}
	var out []lpdf.Text
	show := func(s string) {
		n := 0
		for _, ch := range enc.Decode(s) {
			var w0 float64
			if n < len(s) {
				w0 = g.Tf.width(int(s[n]))
			}
			n++
			trm := mtx{{g.Tfs * g.Th, 0, 0}, {0, g.Tfs, 0}, {0, g.Trise, 1}}.mul(g.Tm).mul(g.CTM)
			out = append(out, lpdf.Text{FontSize: trm[0][0], X: trm[2][0], Y: trm[2][1], W: w0 / 1000 * trm[0][0], S: string(ch)})
			tx := (w0/1000*g.Tfs + g.Tc) * g.Th
			if ch == ' ' {
				tx += g.Tw * g.Th
			}
			g.Tm = mtx{{1, 0, 0}, {0, 1, 0}, {tx, 0, 1}}.mul(g.Tm)
		}
	}
	num := func(args []lpdf.Value, i int) float64 {
		if i < len(args) {
			return args[i].Float64()
		}
		return 0
	}
	matrixArgs := func(args []lpdf.Value) (mtx, bool) {
		if len(args) != 6 {
			return mtx{}, false
		}
		var m mtx
		for i := 0; i < 6; i++ {
			m[i/2][i%2] = args[i].Float64()
		}
		m[2][2] = 1
		return m, true
	}
	var stack []gstate
	lpdf.Interpret(strm, func(stk *lpdf.Stack, op string) {
		args := make([]lpdf.Value, stk.Len())
		for i := len(args) - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		switch op {
		case "cm":
			if m, ok := matrixArgs(args); ok {
				g.CTM = m.mul(g.CTM)
			}
		case "q":
			if len(stack) < 1024 {
				stack = append(stack, g)
			}
		case "Q":
			if n := len(stack); n > 0 {
				g, stack = stack[n-1], stack[:n-1]
			}
		case "BT":
			g.Tm, g.Tlm = identity, identity
		case "T*":
			g.Tlm = mtx{{1, 0, 0}, {0, 1, 0}, {0, -g.Tl, 1}}.mul(g.Tlm)
			g.Tm = g.Tlm
		case "Tc":
			g.Tc = num(args, 0)
		case "Tw":
			g.Tw = num(args, 0)
		case "Tz":
			g.Th = num(args, 0) / 100
		case "TL":
			g.Tl = num(args, 0)
		case "Ts":
			g.Trise = num(args, 0)
		case "TD", "Td":
			if op == "TD" {
				g.Tl = -num(args, 1)
			}
			g.Tlm = mtx{{1, 0, 0}, {0, 1, 0}, {num(args, 0), num(args, 1), 1}}.mul(g.Tlm)
			g.Tm = g.Tlm
		case "Tm":
			if m, ok := matrixArgs(args); ok {
				g.Tm, g.Tlm = m, m
			}
		case "Tf":
			if len(args) == 2 {
				g.Tf = font(args[0].Name())
				enc = g.Tf.enc
				g.Tfs = args[1].Float64()
			}
		case "\"", "'", "Tj":
			if op == "\"" && len(args) == 3 {
				g.Tw, g.Tc = args[0].Float64(), args[1].Float64()
				args = args[2:]
			}
			if op != "Tj" {
				g.Tlm = mtx{{1, 0, 0}, {0, 1, 0}, {0, -g.Tl, 1}}.mul(g.Tlm)
				g.Tm = g.Tlm
			}
			if len(args) == 1 {
				show(args[0].RawString())
			}
		case "TJ":
			if len(args) != 1 {
				return
			}
			v := args[0]
			for i := 0; i < v.Len(); i++ {
				x := v.Index(i)
				if x.Kind() == lpdf.String {
					show(x.RawString())
				} else {
					tx := -x.Float64() / 1000 * g.Tfs * g.Th
					g.Tm = mtx{{1, 0, 0}, {0, 1, 0}, {tx, 0, 1}}.mul(g.Tm)
				}
			}
		}
	})
	return out
}
