//go:build amd64 && linux

package amx

import "syscall"

// requestTileData asks Linux for this process's permission to use AMX's
// tile data (arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA). The
// kernel refuses where it, or the hypervisor, does not support AMX.
func requestTileData() bool {
	const (
		archReqXcompPerm  = 0x1023
		xfeatureXtiledata = 18
	)
	_, _, errno := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archReqXcompPerm, xfeatureXtiledata, 0)
	return errno == 0
}
