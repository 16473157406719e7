package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Batch writes many files into one folder with the guarantees of Write
// (no final name ever holds a partial file; the data is on disk before any
// rename) at a fraction of the cost of one fsync per file: the files are
// written to temporary names, the file system is synced once (syncfs on
// Linux; one fsync per file elsewhere), then every file is renamed into
// place and the folder is synced. Use it for exports of thousands of
// images.
type Batch struct {
	dir           string
	temps, finals []string
}

// NewBatch starts a batch of files in dir (which must exist).
func NewBatch(dir string) *Batch { return &Batch{dir: dir} }

// Add writes the file name (a base name in the batch's folder) through fill
// to a temporary file; it takes its final name at Commit.
func (b *Batch) Add(name string, fill func(w io.Writer) error) error {
	path := filepath.Join(b.dir, name)
	fail := func(err error) error { return fmt.Errorf("writing %s: %w", path, plain(err)) }
	tmp, err := os.CreateTemp(b.dir, "."+name+tmpInfix+"*")
	if err != nil {
		return fail(err)
	}
	bw := bufio.NewWriterSize(tmp, 1<<16)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), Perm)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fail(err)
	}
	b.temps = append(b.temps, tmp.Name())
	b.finals = append(b.finals, path)
	return nil
}

// Commit makes the batch's data durable, renames every file into place
// and syncs the folder. After an error the files not yet renamed are
// removed.
func (b *Batch) Commit() error {
	if err := syncFiles(b.dir, b.temps); err != nil {
		b.Abort()
		return fmt.Errorf("writing files in %s: %w", b.dir, plain(err))
	}
	for i, tmp := range b.temps {
		if err := os.Rename(tmp, b.finals[i]); err != nil {
			b.temps, b.finals = b.temps[i:], b.finals[i:]
			b.Abort()
			return fmt.Errorf("writing %s: %w", b.finals[0], plain(err))
		}
	}
	b.temps, b.finals = nil, nil
	if err := SyncDir(b.dir); err != nil {
		return fmt.Errorf("files written to %s, but syncing the folder failed: %w", b.dir, err)
	}
	return nil
}

// Abort removes the temporary files of a batch that will not be committed.
func (b *Batch) Abort() {
	for _, tmp := range b.temps {
		os.Remove(tmp)
	}
	b.temps, b.finals = nil, nil
}

// syncEach fsyncs each file: the portable way of syncFiles.
func syncEach(paths []string) error {
	for _, p := range paths {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
