package imgdata_test

import (
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"github.com/minmaxgan/minmax/imgdata"
)

// A set stores bytes; Batch maps them to [-1, 1] for training, and
// FromFloat maps generated values back to bytes.
func Example() {
	s := &imgdata.Set{N: 2, C: 1, H: 1, W: 3, Pix: []uint8{0, 128, 255, 10, 20, 30}}
	batch := make([]float32, 2*s.ImageLen())
	if err := s.Batch([]int{1, 0}, batch); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.4f\n", batch)

	back, err := imgdata.FromFloat(batch, 2, 1, 1, 3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(back.Pix)
	// Output:
	// [-0.9216 -0.8431 -0.7647 -1.0000 0.0039 1.0000]
	// [10 20 30 0 128 255]
}

func ExampleReadIDX() {
	dir, err := os.MkdirTemp("", "imgdata-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	path := filepath.Join(dir, "train-images-idx3-ubyte.gz")
	pixels := make([]uint8, 2*28*28)
	if err := imgdata.WriteIDX(path, []int{2, 28, 28}, pixels); err != nil {
		log.Fatal(err)
	}
	dims, data, err := imgdata.ReadIDX(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(dims, len(data))

	// A file cut short is a *FormatError that says what is wrong.
	raw := filepath.Join(dir, "cut")
	if err := os.WriteFile(raw, []byte{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3}, 0o644); err != nil {
		log.Fatal(err)
	}
	_, _, err = imgdata.ReadIDX(raw)
	var fe *imgdata.FormatError
	if errors.As(err, &fe) {
		fmt.Println(fe.Msg)
	}
	// Output:
	// [2 28 28] 1568
	// the header says 2×28×28 = 1568 bytes of data but the file has 3 after its 16-byte header (truncated?)
}

// Open takes what a user gives as --data: a data set name or a path.
func ExampleOpen() {
	train, err := imgdata.Open("fashion-mnist", "train", 0, 0)
	if errors.Is(err, imgdata.ErrNotFound) {
		log.Fatal(err) // says where it looked and how to get the files
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(train.N, train.C, train.H, train.W, train.Classes[train.Labels[0]])

	// A folder of photos, scaled and centre-cropped to 64×64 RGB.
	faces, err := imgdata.Open("/data/faces", "train", 64, 3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(faces.N)
}

func ExampleSaveGrid() {
	dir, err := os.MkdirTemp("", "imgdata-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// 10 generated 28×28 grayscale images in [-1, 1].
	x := make([]float32, 10*28*28)
	for i := range x {
		x[i] = float32(i%28)/13.5 - 1
	}
	path := filepath.Join(dir, "samples.png")
	// 5 per row, 2-pixel border, each shown at 3× (84×84 pixels).
	if err := imgdata.SaveGrid(path, x, 10, 1, 28, 28, imgdata.GridOptions{Cols: 5, Scale: 3}); err != nil {
		log.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		log.Fatal(err)
	}
	// 5×84 + 6×2 by 2×84 + 3×2 pixels.
	fmt.Println(cfg.Width, cfg.Height, cfg.ColorModel == color.GrayModel)
	// Output: 432 174 true
}
