//go:build !amd64 || !linux

package amx

// requestTileData reports false: AMX's tile state is only requested from
// Linux on amd64.
func requestTileData() bool { return false }
