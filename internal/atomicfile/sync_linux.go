package atomicfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFiles makes the data of paths (files in dir) durable with one
// syncfs of dir's file system, falling back to one fsync per file.
func syncFiles(dir string, paths []string) error {
	if len(paths) < 8 {
		return syncEach(paths)
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return syncEach(paths)
	}
	return nil
}
