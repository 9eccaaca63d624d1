// Command imgpdf wraps JPEG images into an image-only PDF, one page per
// image, without any text layer: a scanned document. scripts/eval-corpus.sh
// makes the eval's scanned PDF with it from pages rasterised by pdftoppm.
//
//	go run ./assistant/eval/imgpdf -o out.pdf [-dpi 150] page1.jpg page2.jpg ...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image/color"
	"image/jpeg"
	"os"
)

func main() {
	out := flag.String("o", "", "the PDF to write")
	dpi := flag.Float64("dpi", 150, "resolution of the images, for the page size")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 || *dpi <= 0 {
		fmt.Fprintln(os.Stderr, "usage: imgpdf -o out.pdf [-dpi 150] image.jpg ...")
		os.Exit(2)
	}
	var imgs [][]byte
	for _, f := range flag.Args() {
		b, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "imgpdf:", err)
			os.Exit(1)
		}
		imgs = append(imgs, b)
	}
	pdf, err := Write(imgs, *dpi)
	if err == nil {
		err = os.WriteFile(*out, pdf, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "imgpdf:", err)
		os.Exit(1)
	}
}

// Write returns a PDF with one page per JPEG, each page the image's size
// at dpi.
func Write(jpegs [][]byte, dpi float64) ([]byte, error) {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string, stream []byte) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s", len(offsets), body)
		if stream != nil {
			b.WriteString("\nstream\n")
			b.Write(stream)
			b.WriteString("\nendstream")
		}
		b.WriteString("\nendobj\n")
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	n := len(jpegs)
	// Objects: 1 catalog, 2 pages, then per page: page, content, image.
	kids := ""
	for i := range n {
		kids += fmt.Sprintf("%d 0 R ", 3+3*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	obj(fmt.Sprintf("<< /Type /Pages /Count %d /Kids [%s] >>", n, kids), nil)
	for i, j := range jpegs {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(j))
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", i+1, err)
		}
		cs := "/DeviceRGB"
		switch cfg.ColorModel {
		case color.GrayModel:
			cs = "/DeviceGray"
		case color.CMYKModel:
			cs = "/DeviceCMYK"
		}
		w, h := float64(cfg.Width)*72/dpi, float64(cfg.Height)*72/dpi
		content, img := 4+3*i, 5+3*i
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>", w, h, img, content), nil)
		draw := fmt.Appendf(nil, "q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q", w, h)
		obj(fmt.Sprintf("<< /Length %d >>", len(draw)), draw)
		obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>",
			cfg.Width, cfg.Height, cs, len(j)), j)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes(), nil
}
