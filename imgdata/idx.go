package imgdata

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
)

// MaxIDXDims is the largest number of dimensions ReadIDX accepts and
// WriteIDX writes. The format allows 255; real files have 1 to 4.
const MaxIDXDims = 16

// idxTypes names the IDX data types; only 0x08 is supported.
var idxTypes = map[byte]string{
	0x08: "unsigned byte",
	0x09: "signed byte",
	0x0B: "16-bit integer",
	0x0C: "32-bit integer",
	0x0D: "32-bit float",
	0x0E: "64-bit float",
}

// ReadIDX reads an IDX file (the format of the MNIST files), raw or
// gzip-compressed, and returns its dimensions and data. Compression is
// recognised by the gzip magic bytes 1f 8b, not by the file name.
//
// The file must start with the magic number 00 00 08 D, where 08 is the
// data type (unsigned byte; the other IDX types are refused) and D the number
// of dimensions (1 to MaxIDXDims), followed by D big-endian uint32 sizes, each
// at least 1, and then exactly their product of data bytes, at most
// MaxDataBytes. Anything else is a *FormatError naming the file and saying
// what was found and what was expected; the header is checked before the
// data is allocated, and a gzip file is decompressed with a limit of the
// declared size plus one byte, so a lying header cannot make ReadIDX read or
// allocate much more than the file really holds. A truncated or corrupt gzip
// stream is a *FormatError too.
func ReadIDX(path string) (dims []int, data []uint8, err error) {
	dims, data, _, err = readIDX(path, "data", nil)
	return dims, data, err
}

// countReader counts the bytes read through it and remembers the first
// error of the underlying reader.
type countReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// gzipStream decompresses a gzip file member by member, so that data after
// the last member that is not another member is told apart from a
// truncated member.
type gzipStream struct {
	zr  *gzip.Reader
	br  *bufio.Reader
	raw *countReader // the compressed bytes read from the file
}

// trailingError reports bytes after the end of a gzip stream that do not
// start another gzip member.
type trailingError struct{ offset int64 }

func (e *trailingError) Error() string {
	return fmt.Sprintf("data at byte %d, after the end of the gzip stream, is not another gzip member", e.offset)
}

func (g *gzipStream) Read(p []byte) (int, error) {
	for {
		n, err := g.zr.Read(p)
		if err != io.EOF {
			return n, err
		}
		next, _ := g.br.Peek(2)
		switch {
		case len(next) == 0:
			return n, io.EOF
		case len(next) < 2 || next[0] != 0x1f || next[1] != 0x8b:
			return n, &trailingError{offset: g.raw.n - int64(g.br.Buffered())}
		}
		if err := g.zr.Reset(g.br); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
		g.zr.Multistream(false)
		if n > 0 || len(p) == 0 {
			return n, nil
		}
	}
}

// idxFile is an IDX file being read.
type idxFile struct {
	path string
	gz   bool
	cr   *countReader // the (decompressed) bytes
}

// has describes how much data the file has, for messages.
func (f *idxFile) has() string {
	if f.gz {
		return "the decompressed data has"
	}
	return "the file has"
}

// failure turns a read error that is not a plain end of data into an error
// for the caller; it returns nil when the data simply ended, which the
// caller reports in its own words.
func (f *idxFile) failure(err error) error {
	if err == nil || err == io.EOF {
		return nil
	}
	under := f.cr.err
	if under == nil || under == io.EOF {
		if err == io.ErrUnexpectedEOF {
			return nil // io.ReadFull's way of saying the data ended
		}
		under = err
	}
	if f.gz {
		var corrupt flate.CorruptInputError
		var trailing *trailingError
		switch {
		case errors.As(under, &trailing):
			return formatErr(f.path, "%v (after %d bytes of decompressed data)", trailing, f.cr.n)
		case errors.Is(under, io.ErrUnexpectedEOF):
			return formatErr(f.path, "the gzip stream is truncated: the file ends after %d bytes of decompressed data (incomplete download? fetch the file again)", f.cr.n)
		case errors.Is(under, gzip.ErrChecksum), errors.Is(under, gzip.ErrHeader), errors.As(under, &corrupt):
			return formatErr(f.path, "corrupt gzip data after %d bytes of decompressed data: %v", f.cr.n, under)
		}
	}
	return osErr(under, f.path)
}

// osErr wraps an error from the operating system with the path, unless it
// already names it.
func osErr(err error, path string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%w", err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// shape formats dims as "60000×28×28".
func shape(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = strconv.Itoa(d)
	}
	return strings.Join(s, "×")
}

// readIDX reads path as an IDX file whose data are called what ("pixels",
// "labels") in messages. check, when not nil, vets the dimensions before the
// data is read; a non-empty result is a *FormatError message. It also
// returns the length of the header.
func readIDX(path, what string, check func(dims []int) string) (dims []int, data []uint8, hdrLen int, err error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, nil, 0, osErr(err, path)
	}
	defer osf.Close()
	fi, err := osf.Stat()
	if err != nil {
		return nil, nil, 0, osErr(err, path)
	}
	if fi.IsDir() {
		return nil, nil, 0, fmt.Errorf("%s is a folder; expected an IDX file", path)
	}
	rawCount := &countReader{r: osf}
	br := bufio.NewReaderSize(rawCount, 1<<16)
	f := &idxFile{path: path}
	var r io.Reader = br
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		f.gz = true
		zr, err := gzip.NewReader(br)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
				return nil, nil, 0, formatErr(path, "the gzip stream is truncated: the file ends inside the gzip header")
			}
			if errors.Is(err, gzip.ErrHeader) {
				return nil, nil, 0, formatErr(path, "starts with the gzip magic bytes 1f 8b but has an invalid gzip header")
			}
			return nil, nil, 0, osErr(err, path)
		}
		zr.Multistream(false)
		r = &gzipStream{zr: zr, br: br, raw: rawCount}
	}
	f.cr = &countReader{r: r}

	var magic [4]byte
	if n, err := io.ReadFull(f.cr, magic[:]); err != nil {
		if e := f.failure(err); e != nil {
			return nil, nil, 0, e
		}
		return nil, nil, 0, formatErr(path, "%s %d bytes; an IDX file starts with a 4-byte magic number (00 00 08 D for unsigned bytes in D dimensions)", f.has(), n)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, nil, 0, formatErr(path, "not an IDX file: it starts with the bytes % x; expected 00 00, the data type (08 for unsigned bytes) and the number of dimensions", magic[:])
	}
	if magic[2] != 0x08 {
		if name, ok := idxTypes[magic[2]]; ok {
			return nil, nil, 0, formatErr(path, "IDX data type 0x%02x (%s) is not supported; expected 0x08 (unsigned byte)", magic[2], name)
		}
		return nil, nil, 0, formatErr(path, "unknown IDX data type 0x%02x in the magic number % x; expected 0x08 (unsigned byte)", magic[2], magic[:])
	}
	nd := int(magic[3])
	if nd == 0 || nd > MaxIDXDims {
		return nil, nil, 0, formatErr(path, "the magic number % x declares %d dimensions; expected 1 to %d", magic[:], nd, MaxIDXDims)
	}
	raw := make([]byte, 4*nd)
	if n, err := io.ReadFull(f.cr, raw); err != nil {
		if e := f.failure(err); e != nil {
			return nil, nil, 0, e
		}
		return nil, nil, 0, formatErr(path, "the header declares %d dimensions (%d bytes of sizes) but %s only %d bytes after the magic number (truncated?)", nd, 4*nd, f.has(), n)
	}
	dims = make([]int, nd)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(raw[4*i:]))
	}
	for i, d := range dims {
		if d == 0 {
			return nil, nil, 0, formatErr(path, "the header says %s: dimension %d is 0; every dimension must be at least 1", shape(dims), i+1)
		}
	}
	need, ok := product(dims...)
	if !ok {
		return nil, nil, 0, formatErr(path, "the header says %s, more than the %d bytes (%d GiB) this package reads (corrupt header?)", shape(dims), MaxDataBytes, MaxDataBytes>>30)
	}
	if check != nil {
		if msg := check(dims); msg != "" {
			return nil, nil, 0, formatErr(path, "%s", msg)
		}
	}
	hdrLen = 4 + 4*nd
	says := fmt.Sprintf("the header says %s = %d bytes of %s", shape(dims), need, what)
	if nd == 1 {
		says = fmt.Sprintf("the header says %d bytes of %s", need, what)
	}

	if !f.gz && fi.Mode().IsRegular() {
		size := fi.Size()
		if left := size - int64(hdrLen); left != int64(need) {
			if left < int64(need) {
				return nil, nil, 0, formatErr(path, "%s but the file has %d after its %d-byte header (truncated?)", says, left, hdrLen)
			}
			return nil, nil, 0, formatErr(path, "%s but the file has %d after its %d-byte header, %d too many (not an IDX file, or a header that lies?)", says, left, hdrLen, left-int64(need))
		}
		data = make([]byte, need)
		if n, err := io.ReadFull(f.cr, data); err != nil {
			if e := f.failure(err); e != nil {
				return nil, nil, 0, e
			}
			return nil, nil, 0, formatErr(path, "%s but only %d could be read (the file shrank while being read?)", says, n)
		}
		return dims, data, hdrLen, nil
	}

	// Compressed (or not a regular file): the size is unknown until the end,
	// so read at most one byte more than declared, growing the buffer only as
	// data arrives.
	start := 1 << 20
	if fi.Mode().IsRegular() && fi.Size() <= math.MaxInt/8 {
		start = max(start, 4*int(fi.Size()))
	}
	data, err = readLimited(f.cr, need+1, start)
	if e := f.failure(err); e != nil {
		return nil, nil, 0, e
	}
	switch {
	case len(data) < need:
		return nil, nil, 0, formatErr(path, "%s but %s %d after its %d-byte header (truncated?)", says, f.has(), len(data), hdrLen)
	case len(data) > need:
		return nil, nil, 0, formatErr(path, "%s but %s more after its %d-byte header (not an IDX file, or a header that lies?)", says, f.has(), hdrLen)
	}
	return dims, data[:need:need], hdrLen, nil
}

// readLimited reads r to its end or to limit bytes, whichever comes first,
// starting with a buffer of at most start bytes and doubling it as data
// arrives. It returns the data and the first error other than io.EOF.
func readLimited(r io.Reader, limit, start int) ([]byte, error) {
	buf := make([]byte, 0, min(limit, start))
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(limit, 2*cap(buf)))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// ReadIDXSet reads a set from an IDX images file and, unless labelsPath is
// "", an IDX labels file, each raw or gzip-compressed (see ReadIDX).
//
// The images file has 3 dimensions, N×H×W (grayscale, as MNIST), or 4,
// N×H×W×C with C = 1 or 3 (channels last, as WriteSetIDX writes colour
// sets). The labels file has 1 dimension, N, one byte per image.
//
// When classes are given, each label must be below len(classes), and they
// become the set's Classes; otherwise the classes are "0", "1", ... up to
// the largest label. A mismatch of the counts, a label out of range or any
// malformation is a *FormatError naming the file at fault.
func ReadIDXSet(imagesPath, labelsPath string, classes ...string) (*Set, error) {
	dims, pix, _, err := readIDX(imagesPath, "pixels", func(dims []int) string {
		switch {
		case len(dims) == 3:
			return ""
		case len(dims) == 4 && (dims[3] == 1 || dims[3] == 3):
			return ""
		case len(dims) == 4:
			return fmt.Sprintf("images of %s have %d channels (the last dimension); expected 1 or 3", shape(dims), dims[3])
		}
		return fmt.Sprintf("an images file has 3 dimensions (N×H×W) or 4 (N×H×W×C); this one has %d (%s)", len(dims), shape(dims))
	})
	if err != nil {
		return nil, err
	}
	s := &Set{N: dims[0], C: 1, H: dims[1], W: dims[2], Pix: pix, Source: imagesPath}
	if len(dims) == 4 && dims[3] == 3 {
		s.C = 3
		s.Pix = chw(pix, s.N, s.H, s.W, s.C)
	}
	if labelsPath == "" {
		if len(classes) > 0 {
			s.Classes = classes
		}
		return s, nil
	}
	_, lab, hdrLen, err := readIDX(labelsPath, "labels", func(dims []int) string {
		if len(dims) != 1 {
			return fmt.Sprintf("a labels file has 1 dimension (N); this one has %d (%s)", len(dims), shape(dims))
		}
		if dims[0] != s.N {
			return fmt.Sprintf("has %d labels but %s has %d images; expected one label per image", dims[0], imagesPath, s.N)
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	s.Labels = make([]int, s.N)
	hi := 0
	for i, v := range lab {
		if len(classes) > 0 && int(v) >= len(classes) {
			return nil, formatErr(labelsPath, "label %d (at byte %d) is %d; expected 0 to %d for the %d classes of this data set", i, hdrLen+i, v, len(classes)-1, len(classes))
		}
		s.Labels[i] = int(v)
		hi = max(hi, int(v))
	}
	if len(classes) > 0 {
		s.Classes = classes
	} else {
		s.Classes = make([]string, hi+1)
		for k := range s.Classes {
			s.Classes[k] = strconv.Itoa(k)
		}
	}
	return s, nil
}

// chw converts n images of h×w×c (channels last) to channel-planar order.
func chw(hwc []uint8, n, h, w, c int) []uint8 {
	out := make([]uint8, len(hwc))
	plane := h * w
	for i := range n {
		src := hwc[i*c*plane : (i+1)*c*plane]
		dst := out[i*c*plane : (i+1)*c*plane]
		for j := range plane {
			for k := range c {
				dst[k*plane+j] = src[j*c+k]
			}
		}
	}
	return out
}

// WriteIDX writes data as an unsigned-byte IDX file of the given dimensions
// (1 to MaxIDXDims of them, each 1 to 2³²-1, their product equal to
// len(data)): the magic number 00 00 08 len(dims), the dimensions as
// big-endian uint32, then data. A path ending in ".gz" (in any case) is
// gzip-compressed. The file is written atomically: to a temporary file in
// the same folder, synced, then renamed over path.
func WriteIDX(path string, dims []int, data []uint8) error {
	if len(dims) == 0 || len(dims) > MaxIDXDims {
		return fmt.Errorf("WriteIDX %s: %d dimensions; expected 1 to %d", path, len(dims), MaxIDXDims)
	}
	for i, d := range dims {
		if d < 1 || int64(d) > math.MaxUint32 {
			return fmt.Errorf("WriteIDX %s: dimension %d is %d; expected 1 to %d", path, i+1, d, uint32(math.MaxUint32))
		}
	}
	if n, ok := product(dims...); !ok || n != len(data) {
		return fmt.Errorf("WriteIDX %s: dimensions %s do not match the %d data bytes", path, shape(dims), len(data))
	}
	hdr := IDXHeader(dims)
	gz := strings.HasSuffix(strings.ToLower(path), ".gz")
	return writeAtomic(path, func(w io.Writer) error {
		if gz {
			zw := gzip.NewWriter(w)
			if _, err := zw.Write(hdr); err != nil {
				return err
			}
			if _, err := zw.Write(data); err != nil {
				return err
			}
			return zw.Close()
		}
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		_, err := w.Write(data)
		return err
	})
}

// WriteSetIDX writes the images of s (not the labels) as an IDX file with
// WriteIDX: N×H×W for grayscale, N×H×W×C (channels last, the IDX
// convention) for colour. ReadIDXSet reads both back.
func WriteSetIDX(path string, s *Set) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.N == 0 {
		return fmt.Errorf("WriteSetIDX %s: the set is empty", path)
	}
	if s.C == 1 {
		return WriteIDX(path, []int{s.N, s.H, s.W}, s.Pix)
	}
	return WriteIDX(path, []int{s.N, s.H, s.W, s.C}, s.HWC())
}

// IDXHeader is the header of an IDX file of unsigned bytes with the given
// dimensions (each 1 to 2³²−1), for writers that stream the data after it.
func IDXHeader(dims []int) []byte {
	hdr := make([]byte, 4+4*len(dims))
	hdr[2] = 0x08
	hdr[3] = byte(len(dims))
	for i, d := range dims {
		binary.BigEndian.PutUint32(hdr[4+4*i:], uint32(d))
	}
	return hdr
}
