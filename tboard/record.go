package tboard

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/minmaxgan/minmax/tboard/tfpb"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CRC32C returns the CRC-32C (Castagnoli polynomial, as in iSCSI, RFC
// 3720) of b.
func CRC32C(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// maskDelta is the constant TensorFlow adds to a rotated CRC.
const maskDelta = 0xa282ead8

// MaskCRC masks a CRC as TensorFlow's record format stores it: rotated
// right by 15 bits, plus 0xa282ead8 (computing the CRC of a string that
// holds CRCs is then less error-prone).
func MaskCRC(crc uint32) uint32 { return (crc>>15 | crc<<17) + maskDelta }

// UnmaskCRC is the inverse of MaskCRC.
func UnmaskCRC(masked uint32) uint32 {
	r := masked - maskDelta
	return r>>17 | r<<15
}

// Sizes of a record's framing: the length and its CRC before the data, the
// data's CRC after it.
const (
	headerSize = 12
	footerSize = 4
)

// MaxRecord is the largest record data (a serialised Event) a Reader
// accepts: 1 GiB, far above any summary (protocol buffers are limited to
// 2 GiB).
const MaxRecord = 1 << 30

// AppendRecord appends to dst the record of data: its length (uint64,
// little-endian), the masked CRC32C of those 8 bytes, data, and the masked
// CRC32C of data.
func AppendRecord(dst, data []byte) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(data)))
	dst = binary.LittleEndian.AppendUint32(dst, MaskCRC(CRC32C(dst[start:start+8])))
	dst = append(dst, data...)
	return binary.LittleEndian.AppendUint32(dst, MaskCRC(CRC32C(data)))
}

// Encoder writes Events as records to an io.Writer, one Write call per
// event.
type Encoder struct {
	w          io.Writer
	data, recd []byte
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Encode serialises ev and writes it as one record.
func (e *Encoder) Encode(ev *tfpb.Event) error {
	data, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend(e.data[:0], ev)
	if err != nil {
		return err
	}
	e.data = data
	e.recd = AppendRecord(e.recd[:0], data)
	_, err = e.w.Write(e.recd)
	return err
}

// CorruptError is a record that does not read: a CRC that does not match,
// a file that ends inside the record, or data that is not an Event.
type CorruptError struct {
	// Name is the file (or the name given to NewReader).
	Name string
	// Offset is the byte offset of the record's first byte.
	Offset int64
	// Truncated says the file ends inside the record: what a writer that
	// was stopped mid-record leaves (the records before it are whole).
	Truncated bool
	// Reason says what is wrong.
	Reason string
}

// Error says which file, which record (by its byte offset) and what is
// wrong.
func (e *CorruptError) Error() string {
	what := "corrupt record"
	if e.Truncated {
		what = "truncated record"
	}
	return fmt.Sprintf("%s: %s at byte %d: %s", e.Name, what, e.Offset, e.Reason)
}

// Reader reads the records of an event file, verifying both CRCs of each.
// After an error other than io.EOF it should not be used further.
type Reader struct {
	r    *bufio.Reader
	name string
	off  int64
	buf  []byte
}

// NewReader reads records from r; name (usually the file's path) prefixes
// its errors.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 1<<16), name: name}
}

// Offset is the byte offset of the next record (after a CorruptError, of
// the record that did not read): the length of the file's whole records
// read so far.
func (r *Reader) Offset() int64 { return r.off }

// fill reads exactly n bytes into r.buf, growing it as the bytes arrive
// (a corrupt length never allocates more than the file holds). It returns
// how many bytes it read and io.ErrUnexpectedEOF (or io.EOF when none)
// if the input ends first.
func (r *Reader) fill(n int) (int, error) {
	b := r.buf[:0]
	for len(b) < n {
		if len(b) == cap(b) {
			b = append(b, make([]byte, min(n-len(b), max(cap(b), 4096)))...)[:len(b)]
		}
		k, err := r.r.Read(b[len(b):min(cap(b), n)])
		b = b[:len(b)+k]
		if err == io.EOF {
			if len(b) < n {
				r.buf = b
				if len(b) == 0 {
					return 0, io.EOF
				}
				return len(b), io.ErrUnexpectedEOF
			}
			break
		}
		if err != nil {
			r.buf = b
			return len(b), fmt.Errorf("%s: reading at byte %d: %w", r.name, r.off+int64(len(b)), err)
		}
	}
	r.buf = b
	return n, nil
}

// ReadRecord returns the data of the next record, after checking the CRC
// of its length and of its data; io.EOF at the end of the input (after a
// whole record), a *CorruptError for a record that does not check. The
// data is valid until the next call.
func (r *Reader) ReadRecord() ([]byte, error) {
	corrupt := func(truncated bool, format string, args ...any) error {
		return &CorruptError{Name: r.name, Offset: r.off, Truncated: truncated, Reason: fmt.Sprintf(format, args...)}
	}
	got, err := r.fill(headerSize)
	switch {
	case err == io.EOF:
		return nil, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, corrupt(true, "the file ends %d bytes into the %d-byte header", got, headerSize)
	case err != nil:
		return nil, err
	}
	hdr := r.buf[:headerSize]
	length := binary.LittleEndian.Uint64(hdr[:8])
	if stored, want := binary.LittleEndian.Uint32(hdr[8:12]), MaskCRC(CRC32C(hdr[:8])); stored != want {
		return nil, corrupt(false, "the CRC of the length does not match (stored %#08x, computed %#08x): the length bytes %x are damaged", stored, want, hdr[:8])
	}
	if length > MaxRecord {
		return nil, corrupt(false, "a record of %d bytes is larger than the %d bytes a reader accepts", length, MaxRecord)
	}
	n := int(length)
	got, err = r.fill(n + footerSize)
	switch {
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, corrupt(true, "the record holds %d bytes of data and a 4-byte CRC after its header; the file ends after %d of them", n, got)
	case err != nil:
		return nil, err
	}
	data := r.buf[:n]
	if stored, want := binary.LittleEndian.Uint32(r.buf[n:n+footerSize]), MaskCRC(CRC32C(data)); stored != want {
		return nil, corrupt(false, "the CRC of the %d bytes of data does not match (stored %#08x, computed %#08x)", n, stored, want)
	}
	r.off += int64(headerSize + n + footerSize)
	return data, nil
}

// Next reads and decodes the next Event; io.EOF at the end of the input.
func (r *Reader) Next() (*tfpb.Event, error) {
	off := r.off
	data, err := r.ReadRecord()
	if err != nil {
		return nil, err
	}
	ev := &tfpb.Event{}
	if err := proto.Unmarshal(data, ev); err != nil {
		r.off = off
		return nil, &CorruptError{Name: r.name, Offset: off, Reason: fmt.Sprintf("its %d bytes (whose CRC matches) are not a tensorflow.Event: %v", len(data), err)}
	}
	return ev, nil
}

// ReadAll reads the events to the end of the input. On an error it returns
// the events read before it.
func (r *Reader) ReadAll() ([]*tfpb.Event, error) {
	var evs []*tfpb.Event
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

// ReadEvents reads every event of the event file at path, verifying the
// CRCs of every record. A corrupt or truncated record is a *CorruptError
// naming the file and the record's byte offset; the events before it are
// returned with it.
func ReadEvents(path string) ([]*tfpb.Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return NewReader(f, path).ReadAll()
}
