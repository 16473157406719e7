//go:build amd64 && !linux

package gemm

// amxPermitted reports false: only Linux is asked for AMX's tile state.
func amxPermitted() bool { return false }
