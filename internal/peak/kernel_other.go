//go:build !amd64

package peak

func archKinds() []Kind { return nil }
