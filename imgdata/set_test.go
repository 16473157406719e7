package imgdata

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"
)

func TestBatch(t *testing.T) {
	s := &Set{N: 3, C: 1, H: 1, W: 3, Pix: []uint8{0, 255, 128, 1, 2, 3, 10, 20, 30}}
	dst := make([]float32, 2*3)
	if err := s.Batch([]int{0, 2}, dst); err != nil {
		t.Fatal(err)
	}
	if dst[0] != -1 || dst[1] != 1 || dst[2] != float32(128/127.5-1) {
		t.Errorf("0, 255, 128 map to %v", dst[:3])
	}
	want := []float32{float32(10/127.5 - 1), float32(20/127.5 - 1), float32(30/127.5 - 1)}
	if !slices.Equal(dst[3:], want) {
		t.Errorf("second image is %v, want image 2 %v", dst[3:], want)
	}
	for v := range 256 {
		if f := toFloat[v]; f < -1 || f > 1 || (v > 0 && f <= toFloat[v-1]) {
			t.Fatalf("table[%d] = %v", v, f)
		}
	}

	wantError(t, s.Batch([]int{0, 3}, dst), "index 3 (position 1) is out of range for 3 images")
	wantError(t, s.Batch([]int{-1, 0}, dst), "index -1")
	wantError(t, s.Batch([]int{0}, dst), "needs a dst of 3 values; it has 6")
	if err := s.Batch(nil, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}

	bad := &Set{N: 3, C: 1, H: 1, W: 3, Pix: s.Pix[:8]}
	wantError(t, bad.Batch([]int{0}, dst[:3]), "has 8 pixel values; expected 9")
	if bad.Image(2) != nil || bad.HWC() != nil {
		t.Error("Image or HWC of an inconsistent set")
	}
	_, err := bad.Subset([]int{0})
	wantError(t, err, "has 8 pixel values")

	allocs := testing.AllocsPerRun(100, func() { s.Batch([]int{1, 2}, dst) })
	if allocs != 0 {
		t.Errorf("Batch allocates %v times", allocs)
	}
}

func TestFromFloat(t *testing.T) {
	// Batch then FromFloat gives the bytes back, for every byte.
	all := &Set{N: 1, C: 1, H: 16, W: 16, Pix: seq(256, 0)}
	x := make([]float32, 256)
	if err := all.Batch([]int{0}, x); err != nil {
		t.Fatal(err)
	}
	back, err := FromFloat(x, 1, 1, 16, 16)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Pix, all.Pix) {
		t.Errorf("round trip: %v", back.Pix)
	}

	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	s, err := FromFloat([]float32{-1, 0, 1, 2, -3, nan, inf, -inf, 0.5, -0.999}, 1, 1, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{0, 128, 255, 255, 0, 0, 255, 0, 191, 0}
	if !bytes.Equal(s.Pix, want) {
		t.Errorf("FromFloat gives %v, want %v", s.Pix, want)
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}

	_, err = FromFloat(make([]float32, 5), 1, 1, 2, 2)
	wantError(t, err, "needs 4 values; x has 5")
	_, err = FromFloat(make([]float32, 8), 1, 2, 2, 2)
	wantError(t, err, "2 channels")
	_, err = FromFloat(nil, 0, 1, 2, 2)
	wantError(t, err, "expected positive sizes")
}

func TestHWCAndSubset(t *testing.T) {
	s := &Set{N: 2, C: 3, H: 1, W: 2, Pix: []uint8{1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16}, Labels: []int{1, 0}, Classes: []string{"a", "b"}}
	hwc := s.HWC()
	if want := []uint8{1, 3, 5, 2, 4, 6, 11, 13, 15, 12, 14, 16}; !bytes.Equal(hwc, want) {
		t.Errorf("HWC %v, want %v", hwc, want)
	}
	if back := chw(hwc, 2, 1, 2, 3); !bytes.Equal(back, s.Pix) {
		t.Errorf("chw(HWC) = %v", back)
	}
	if g := (&Set{N: 1, C: 1, H: 1, W: 2, Pix: []uint8{7, 8}}).HWC(); !bytes.Equal(g, []uint8{7, 8}) {
		t.Errorf("grayscale HWC %v", g)
	}

	sub, err := s.Subset([]int{1, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	if sub.N != 3 || !bytes.Equal(sub.Image(0), s.Image(1)) || !bytes.Equal(sub.Image(2), s.Image(0)) || !slices.Equal(sub.Labels, []int{0, 0, 1}) {
		t.Errorf("subset %+v", sub)
	}
	if err := sub.Validate(); err != nil {
		t.Error(err)
	}
	sub.Pix[0] = 99
	if s.Pix[6] == 99 {
		t.Error("Subset shares pixels with the set")
	}
	_, err = s.Subset([]int{2})
	wantError(t, err, "index 2 (position 0) is out of range for 2 images")

	if s.Image(2) != nil || s.Image(-1) != nil {
		t.Error("Image out of range is not nil")
	}
	if img := s.Image(1); len(img) != 6 || cap(img) != 6 {
		t.Errorf("Image(1) has len %d cap %d", len(img), cap(img))
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		s    *Set
		want string
	}{
		{nil, "nil set"},
		{&Set{N: 1, C: 4, H: 1, W: 1, Pix: []uint8{1, 2, 3, 4}}, "4 channels"},
		{&Set{N: 1, C: 1, H: 0, W: 1}, "positive H and W"},
		{&Set{N: 2, C: 1, H: 1, W: 1, Pix: []uint8{1}}, "has 1 pixel values; expected 2"},
		{&Set{N: 1, C: 1, H: 1, W: 1, Pix: []uint8{1}, Labels: []int{0, 1}}, "1 images but 2 labels"},
		{&Set{N: 1, C: 1, H: 1, W: 1, Pix: []uint8{1}, Labels: []int{2}, Classes: []string{"a", "b"}}, "label 0 of the set is 2; expected 0 to 1"},
		{&Set{N: 1, C: 1, H: 1, W: 1, Pix: []uint8{1}, Labels: []int{0}}, "set has labels but no classes"},
	}
	for _, c := range cases {
		wantError(t, c.s.Validate(), c.want)
	}
	var fe *FormatError
	if errors.As((&Set{N: 1, C: 1, H: 1, W: 1}).Validate(), &fe) {
		t.Error("Validate returns a FormatError")
	}
}

func TestFormatError(t *testing.T) {
	var err error = &FormatError{File: "/x/y", Msg: "bad"}
	if err.Error() != "/x/y: bad" {
		t.Errorf("Error() = %q", err)
	}
	if (&FormatError{Msg: "bad"}).Error() != "bad" {
		t.Error("FormatError without a file")
	}
}

func BenchmarkBatch(b *testing.B) {
	const n = 1000
	s := &Set{N: n, C: 1, H: 28, W: 28, Pix: seq(n*28*28, 0)}
	idx := make([]int, 64)
	for i := range idx {
		idx[i] = (i * 7919) % n
	}
	dst := make([]float32, 64*28*28)
	b.SetBytes(int64(len(dst)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Batch(idx, dst); err != nil {
			b.Fatal(err)
		}
	}
}

func TestChannelOrderRoundTrip(t *testing.T) {
	// 2 images, 3 channels, 1×2 pixels: planes R=(1,2) G=(3,4) B=(5,6).
	chw := []float32{1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16}
	hwc := make([]float32, len(chw))
	CHWToHWC(hwc, chw, 2, 3, 1, 2)
	want := []float32{1, 3, 5, 2, 4, 6, 11, 13, 15, 12, 14, 16}
	back := make([]float32, len(chw))
	HWCToCHW(back, hwc, 2, 3, 1, 2)
	for i := range want {
		if hwc[i] != want[i] || back[i] != chw[i] {
			t.Fatalf("channel-last %v (want %v), back %v", hwc, want, back)
		}
	}
}
