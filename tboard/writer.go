package tboard

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minmaxgan/minmax/tboard/tfpb"
)

// FileVersion is the version the first event of every file states.
const FileVersion = "brain.Event:2"

// FilePrefix begins the name of every event file; TensorBoard reads the
// files whose names contain "tfevents".
const FilePrefix = "events.out.tfevents."

// Writer appends events to a new event file. Each Add call writes one
// event and flushes it to the file, so that a TensorBoard watching the
// folder sees every step as it ends; events are not synced to disk. A
// Writer is not safe for concurrent use.
type Writer struct {
	path string
	f    *os.File
	bw   *bufio.Writer
	enc  *Encoder
	err  error // the first error, returned by every later call
}

// Scalar is one named value of a step's summary.
type Scalar struct {
	Tag   string
	Value float32
}

// errClosed is the error of a Writer used after Close.
var errClosed = errors.New("the event file is closed")

// Create creates a new event file in dir (created if needed), named
// events.out.tfevents.<Unix seconds>.<host name> (with ".1", ".2", ...
// appended if that name is taken: a file is never appended to), and
// writes its first event, the file version. Every process that writes to
// a folder makes its own file; TensorBoard merges the files of a folder.
func Create(dir string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	now := time.Now()
	base := filepath.Join(dir, FilePrefix+strconv.FormatInt(now.Unix(), 10)+"."+hostName())
	path := base
	var f *os.File
	for i := 1; ; i++ {
		var err error
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || i > 1000 {
			return nil, fmt.Errorf("creating an event file: %w", err)
		}
		path = base + "." + strconv.Itoa(i)
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	w := &Writer{path: path, f: f, bw: bw, enc: NewEncoder(bw)}
	if err := w.write(&tfpb.Event{WallTime: wallTime(now), What: &tfpb.Event_FileVersion{FileVersion: FileVersion}}); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return w, nil
}

// hostName is the machine's name for file names: os.Hostname with path
// separators replaced, "localhost" if it has none.
func hostName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == os.PathSeparator || r < ' ' {
			return '_'
		}
		return r
	}, h)
}

// wallTime is t in seconds since the Unix epoch, the Event's wall_time;
// the zero time is now.
func wallTime(t time.Time) float64 {
	if t.IsZero() {
		t = time.Now()
	}
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// Path is the event file's path.
func (w *Writer) Path() string { return w.path }

// write encodes ev and flushes it, keeping the first error (which names
// the file).
func (w *Writer) write(ev *tfpb.Event) error {
	if w.err != nil {
		return w.err
	}
	err := w.enc.Encode(ev)
	if err == nil {
		err = w.bw.Flush()
	}
	if err != nil {
		w.err = fmt.Errorf("writing %s: %w", w.path, err)
	}
	return w.err
}

// AddScalars writes one event at step holding the scalar summaries of
// values (a step's group: TensorBoard draws one chart per tag), with wall
// time wall (the zero time is now), and flushes it. An empty tag is
// refused; values that are not finite are written as they are.
func (w *Writer) AddScalars(step int64, wall time.Time, values []Scalar) error {
	if w.err != nil {
		return w.err
	}
	sum := &tfpb.Summary{Value: make([]*tfpb.Summary_Value, 0, len(values))}
	for _, s := range values {
		if s.Tag == "" {
			return fmt.Errorf("writing %s: a scalar at step %d has no tag", w.path, step)
		}
		sum.Value = append(sum.Value, &tfpb.Summary_Value{Tag: s.Tag, Value: &tfpb.Summary_Value_SimpleValue{SimpleValue: s.Value}})
	}
	return w.write(&tfpb.Event{WallTime: wallTime(wall), Step: step, What: &tfpb.Event_Summary{Summary: sum}})
}

// AddScalar writes the scalar summary value of tag at step, with wall time
// wall (the zero time is now), as one event, and flushes it.
func (w *Writer) AddScalar(tag string, step int64, value float32, wall time.Time) error {
	return w.AddScalars(step, wall, []Scalar{{Tag: tag, Value: value}})
}

// AddImage writes an image summary of tag at step: png is the encoded
// image (PNG, or any format TensorBoard's browser shows), height × width
// pixels of channels channels (1 grayscale, 2 grayscale and alpha, 3 RGB,
// 4 RGBA: TensorFlow's colorspace). It is one event, flushed; wall is its
// wall time (the zero time is now).
func (w *Writer) AddImage(tag string, step int64, png []byte, height, width, channels int, wall time.Time) error {
	if w.err != nil {
		return w.err
	}
	switch {
	case tag == "":
		return fmt.Errorf("writing %s: an image at step %d has no tag", w.path, step)
	case height <= 0 || width <= 0 || height > math.MaxInt32 || width > math.MaxInt32:
		return fmt.Errorf("writing %s: image %s at step %d is %d×%d pixels", w.path, tag, step, width, height)
	case channels < 1 || channels > 4:
		return fmt.Errorf("writing %s: image %s at step %d has %d channels (1 to 4)", w.path, tag, step, channels)
	}
	img := &tfpb.Summary_Image{Height: int32(height), Width: int32(width), Colorspace: int32(channels), EncodedImageString: png}
	sum := &tfpb.Summary{Value: []*tfpb.Summary_Value{{Tag: tag, Value: &tfpb.Summary_Value_Image{Image: img}}}}
	return w.write(&tfpb.Event{WallTime: wallTime(wall), Step: step, What: &tfpb.Event_Summary{Summary: sum}})
}

// Flush writes what is buffered to the file. The Add methods flush
// already; Flush returns the first error of the Writer, if any.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("writing %s: %w", w.path, err)
	}
	return w.err
}

// Close flushes and closes the file; it returns the first error the
// Writer met. Later calls (and Add calls) return an error.
func (w *Writer) Close() error {
	if w.f == nil {
		return w.err
	}
	err := w.Flush()
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing %s: %w", w.path, cerr)
	}
	w.f = nil
	if w.err == nil {
		w.err = fmt.Errorf("writing %s: %w", w.path, errClosed)
	}
	return err
}
