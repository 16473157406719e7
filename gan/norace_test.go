//go:build !race

package gan

// raceEnabled: the race detector allocates on its own, so allocation
// counts are not measured under it.
const raceEnabled = false
