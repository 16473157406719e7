// Package atomicfile writes files so that a crash, a full disk or an error
// never leaves a partial file behind: every writer in minmax (checkpoints,
// generator files, metrics rewrites, pictures, exports) goes through it.
//
// A file is written to a temporary file in the same folder
// (".NAME.tmp-*"), buffered, flushed, fsynced, given its permissions and
// renamed over the destination; then the folder is fsynced so that the
// rename itself is durable. An error at any step before the rename removes
// the temporary file and leaves the old file (if any) untouched.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Perm is the permission of a new file (before the umask): readable by
// everyone, as files written by most tools are. A file that replaces an
// existing one keeps that file's permissions.
const Perm fs.FileMode = 0o644

// tmpInfix marks the temporary files this package makes: ".NAME.tmp-RANDOM".
const tmpInfix = ".tmp-"

// hook, when set by a test, is called before each step of Write and fails
// it by returning an error. The steps are "create", "sync", "close",
// "chmod", "rename" and "syncdir".
var hook func(step string) error

// SetTestHook installs f as the fault-injection hook of Write (for tests of
// packages that write through it) and returns a function that removes it.
func SetTestHook(f func(step string) error) (restore func()) {
	prev := hook
	hook = f
	return func() { hook = prev }
}

func step(name string) error {
	if hook != nil {
		return hook(name)
	}
	return nil
}

// Write writes path through fill, atomically and durably (see the package
// documentation). fill gets a buffered writer; its error, or any error of
// the file system, is returned naming path (never the temporary file).
func Write(path string, fill func(w io.Writer) error) error {
	fail := func(err error) error { return fmt.Errorf("writing %s: %w", path, plain(err)) }
	perm := Perm
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		perm = fi.Mode().Perm()
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if err := step("create"); err != nil {
		return fail(err)
	}
	tmp, err := os.CreateTemp(dir, "."+base+tmpInfix+"*")
	if err != nil {
		return fail(err)
	}
	tmpName := tmp.Name()
	done := false
	defer func() {
		if !done {
			tmp.Close() // may fail after an earlier Close; the error is moot
			os.Remove(tmpName)
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<16)
	if err := fill(bw); err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	if err := step("sync"); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := step("close"); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := step("chmod"); err != nil {
		return fail(err)
	}
	if err := os.Chmod(tmpName, perm); err != nil {
		return fail(err)
	}
	if err := step("rename"); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fail(err)
	}
	done = true
	if err := step("syncdir"); err != nil {
		return fmt.Errorf("file %s written, but syncing its folder failed: %w", path, plain(err))
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("file %s written, but syncing its folder failed: %w", path, plain(err))
	}
	return nil
}

// WriteBytes writes b to path as Write does.
func WriteBytes(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// SyncDir fsyncs a folder so that the renames in it are durable. Windows
// cannot open folders for syncing; there the rename is left to the system.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// IsTemp reports whether name (a base name) is a temporary file of Write:
// one left behind by a process killed while saving.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tmpInfix)
}

// RemoveTemps removes the temporary files that killed writers left in dir
// and returns how many it removed.
func RemoveTemps(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if e.Type().IsRegular() && IsTemp(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// plain drops the path of a *fs.PathError (it may be the temporary
// file's, which means nothing to a user) and keeps the operation and cause.
func plain(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && strings.Contains(filepath.Base(pe.Path), tmpInfix) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
