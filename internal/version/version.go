// Package version says which minmax this is: the release and, when the
// binary was built from a git checkout, the commit.
package version

import "runtime/debug"

// Version is the release of minmax. Files that minmax writes record it
// (generator files, checkpoints), so that a reader can say which version
// wrote a file it cannot read.
const Version = "0.2.0"

// Commit returns the VCS revision the binary was built from (with
// "-dirty" when the tree had changes), or "unknown" (e.g. under go test or
// go run).
func Commit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// String is "0.2.0 (commit abc123def456)", or says why the commit is not
// known.
func String() string {
	c := Commit()
	if c == "unknown" {
		return Version + " (commit unknown: built without version control information, as by go run, go test or -buildvcs=false)"
	}
	return Version + " (commit " + c + ")"
}
