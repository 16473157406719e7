//go:build !amd64

package cpucache

// detect has no way to read the caches on this architecture.
func detect() (Sizes, bool) { return Sizes{}, false }
