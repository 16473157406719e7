//go:build !linux

package atomicfile

// syncFiles makes the data of paths durable, one fsync per file.
func syncFiles(dir string, paths []string) error { return syncEach(paths) }
