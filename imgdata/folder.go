package imgdata

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // register the JPEG decoder
	_ "image/png"  // register the PNG decoder
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/image/draw"
)

// Limits of ReadFolder.
const (
	// MaxImageSide is the largest size ReadFolder scales images to.
	MaxImageSide = 4096
	// MaxSourcePixels is the largest image (in pixels, width × height)
	// ReadFolder decodes: 64 Mpx. The size is read from the image header
	// first, so a file claiming to be huge is refused before it is decoded.
	MaxSourcePixels = 1 << 26
	// maxImageFile is the largest image file ReadFolder reads.
	maxImageFile = 1 << 30
)

// imageExts are the file name extensions ReadFolder takes, lower case.
var imageExts = []string{".png", ".jpg", ".jpeg"}

// isImageName reports whether name has an image extension, in any case.
func isImageName(name string) bool {
	return slices.Contains(imageExts, strings.ToLower(filepath.Ext(name)))
}

// folderImage is one image file found by ReadFolder.
type folderImage struct {
	path  string
	class string // first-level sub-folder, "" for a file directly in the root
}

// ReadFolder reads every PNG and JPEG image under dir into a set of
// size×size images with channels channels: 1 (luma) or 3 (RGB); 0 means 3.
//
// Files are found by walking dir recursively in lexical order, so the order
// of the images (and of their labels) depends only on the names. Files with
// the extension .png, .jpg or .jpeg, in any case, are taken; other files are
// skipped, and so are files and folders whose names begin with "." (hidden
// files, and the ._x.jpg files macOS leaves on shared drives). A file with
// an image extension that does not decode, as PNG or JPEG whatever its
// extension, is a *FormatError naming it, and so is an image larger than
// MaxSourcePixels. No image at all is an error naming dir.
//
// Each image is scaled so that its shorter side is size and centre-cropped
// to size×size; in practice the central square of the image is cut out and
// scaled to size×size with golang.org/x/image/draw's Catmull-Rom kernel,
// which is sharp when enlarging and, its support being widened when
// shrinking, averages over all source pixels (no aliasing). A transparent
// image is composed onto black. One channel is the ITU-R BT.601 luma
// Y = 0.299 R + 0.587 G + 0.114 B, rounded.
//
// Labels: when every image lies inside a first-level sub-folder of dir (at
// any depth below it), the sub-folder's name is the image's class; Classes
// are the names of those sub-folders that hold images, sorted, and a label
// is an index into them. When some images lie directly in dir, or there are
// no sub-folders, the set has no labels (Labels and Classes are nil): a
// mixture is taken as one unlabelled collection rather than refused, as a
// generative model needs no labels.
//
// Images are decoded in parallel, on GOMAXPROCS goroutines; the result, and
// the error reported when several files are bad (the first in walk order),
// do not depend on it.
func ReadFolder(dir string, size, channels int) (*Set, error) {
	if size < 1 || size > MaxImageSide {
		return nil, fmt.Errorf("ReadFolder %s: image size %d; expected 1 to %d (images of a folder are scaled to size×size)", dir, size, MaxImageSide)
	}
	if channels == 0 {
		channels = 3
	}
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("ReadFolder %s: %d channels; expected 1 (grayscale) or 3 (RGB)", dir, channels)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, osErr(err, dir)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	files, err := findImages(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, &noImagesError{dir: dir}
	}
	n := len(files)
	plane := size * size
	if _, ok := product(n, channels, plane); !ok {
		return nil, fmt.Errorf("%s: %d images of %d×%d×%d are more than the %d bytes this package reads", dir, n, channels, size, size, MaxDataBytes)
	}
	s := &Set{N: n, C: channels, H: size, W: size, Pix: make([]uint8, n*channels*plane), Source: dir}

	labelled := true
	var classes []string
	for _, f := range files {
		if f.class == "" {
			labelled = false
			break
		}
		if len(classes) == 0 || classes[len(classes)-1] != f.class {
			classes = append(classes, f.class)
		}
	}
	if labelled {
		slices.Sort(classes)
		classes = slices.Compact(classes)
		s.Classes = classes
		s.Labels = make([]int, n)
		for i, f := range files {
			s.Labels[i], _ = slices.BinarySearch(classes, f.class)
		}
	}

	errs := make([]error, n)
	var firstBad atomic.Int64 // lowest index that failed so far
	firstBad.Store(int64(n))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			var sc scaler
			for i := range jobs {
				if int64(i) > firstBad.Load() {
					continue // a file before this one is bad already
				}
				dst := s.Pix[i*channels*plane : (i+1)*channels*plane]
				if err := sc.load(files[i].path, size, channels, dst); err != nil {
					errs[i] = err
					for {
						old := firstBad.Load()
						if int64(i) >= old || firstBad.CompareAndSwap(old, int64(i)) {
							break
						}
					}
				}
			}
		})
	}
	for i := range n {
		if int64(i) > firstBad.Load() {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// noImagesError is ReadFolder's error for a folder without images.
type noImagesError struct{ dir string }

func (e *noImagesError) Error() string {
	return "" + e.dir + ": no images found (looked for .png, .jpg and .jpeg files in it and its sub-folders)"
}

// findImages walks dir in lexical order and returns its image files.
func findImages(dir string) ([]folderImage, error) {
	var files []folderImage
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return osErr(err, path)
		}
		if path == dir {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isImageName(d.Name()) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// Follow links to files; a link to anything else is skipped.
			fi, err := os.Stat(path)
			if err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return osErr(err, path)
		}
		class := ""
		if i := strings.IndexByte(filepath.ToSlash(rel), '/'); i >= 0 {
			class = filepath.ToSlash(rel)[:i]
		}
		files = append(files, folderImage{path: path, class: class})
		return nil
	})
	return files, err
}

// scaler loads images for one goroutine of ReadFolder, keeping its buffers
// and the scaler of the last source size for the next image.
type scaler struct {
	rgba *image.RGBA
	side int // source square side of sc
	sc   draw.Scaler
}

// load decodes the image file path, crops and scales it to size×size and
// writes its channels planes to dst.
func (z *scaler) load(path string, size, channels int, dst []uint8) error {
	fi, err := os.Stat(path)
	if err != nil {
		return osErr(err, path)
	}
	if fi.Size() > maxImageFile {
		return formatErr(path, "the file is %d bytes; image files over %d bytes are not read", fi.Size(), maxImageFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return osErr(err, path)
	}
	ext := strings.ToLower(filepath.Ext(path))
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return formatErr(path, "has the extension %s but is not a PNG or JPEG image that can be decoded: %v", ext, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return formatErr(path, "the %s image is %d×%d pixels; expected at least 1×1", format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxSourcePixels {
		return formatErr(path, "the %s image is %d×%d pixels, more than the %d this package decodes", format, cfg.Width, cfg.Height, MaxSourcePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return formatErr(path, "the %s image (%d×%d) does not decode: %v", format, cfg.Width, cfg.Height, err)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < 1 || h < 1 {
		return formatErr(path, "the %s image is %d×%d pixels; expected at least 1×1", format, w, h)
	}
	side := min(w, h)
	sr := image.Rect(0, 0, side, side).Add(b.Min).Add(image.Pt((w-side)/2, (h-side)/2))
	if z.rgba == nil || z.rgba.Rect.Dx() != size {
		z.rgba = image.NewRGBA(image.Rect(0, 0, size, size))
		z.sc = nil
	}
	if side == size {
		draw.Draw(z.rgba, z.rgba.Rect, img, sr.Min, draw.Src)
	} else {
		if z.sc == nil || z.side != side {
			z.sc = draw.CatmullRom.NewScaler(size, size, side, side)
			z.side = side
		}
		z.sc.Scale(z.rgba, z.rgba.Rect, img, sr, draw.Src, nil)
	}
	plane := size * size
	p := z.rgba.Pix
	if channels == 3 {
		r, g, bl := dst[:plane], dst[plane:2*plane], dst[2*plane:3*plane]
		for j := range plane {
			r[j], g[j], bl[j] = p[4*j], p[4*j+1], p[4*j+2]
		}
		return nil
	}
	y := dst[:plane]
	for j := range plane {
		// BT.601 luma with the weights of image/color.GrayModel (sum 65536).
		y[j] = uint8((19595*uint32(p[4*j]) + 38470*uint32(p[4*j+1]) + 7471*uint32(p[4*j+2]) + 1<<15) >> 16)
	}
	return nil
}
