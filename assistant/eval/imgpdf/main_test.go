package main

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"regexp"
	"strconv"
	"testing"
)

// TestWrite: one image page per JPEG, no font (no text layer), and an
// xref table whose offsets point at the objects.
func TestWrite(t *testing.T) {
	var jpegs [][]byte
	for _, w := range []int{30, 45} {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, w, 20)), nil); err != nil {
			t.Fatal(err)
		}
		jpegs = append(jpegs, b.Bytes())
	}
	out, err := Write(jpegs, 150)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"%PDF-1.4", "/Count 2", "/Width 45 /Height 20 /ColorSpace /DeviceGray", "/MediaBox [0 0 14.40 9.60]", "%%EOF"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("no %q in the PDF", want)
		}
	}
	if bytes.Contains(out, []byte("/Font")) {
		t.Error("the PDF has a font")
	}
	xref := regexp.MustCompile(`(?m)^(\d{10}) 00000 n $`).FindAllSubmatch(out, -1)
	if len(xref) != 8 {
		t.Fatalf("%d objects in the xref, want 8", len(xref))
	}
	for i, m := range xref {
		off, _ := strconv.Atoi(string(m[1]))
		if want := fmt.Sprintf("%d 0 obj", i+1); !bytes.HasPrefix(out[off:], []byte(want)) {
			t.Errorf("object %d: offset %d does not point at %q", i+1, off, want)
		}
	}
	if _, err := Write([][]byte{[]byte("not a jpeg")}, 150); err == nil {
		t.Error("no error for a non-JPEG")
	}
}
