//go:build unix

package serve

import (
	"os"
	"syscall"
)

// inode is the file's inode number, which changes when a writer replaces
// the file by renaming a new one over it.
func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
