// Package cluster is what synchronous data-parallel training needs from a
// group of processes (ranks) that train one model together: sums across
// ranks (all-reduce), a copy from one rank to all (broadcast), every
// rank's bytes to every rank (all-gather), and who is who (rank and size).
//
// Comm is the interface; package mpi implements it over MPI (the "mpi"
// build tag, Open MPI through cgo), Single is the group of one process
// that a plain run is, and Local is a group of goroutines in one process
// that behaves as MPI does, for tests and examples. The trainer (package
// gan) is written against Comm only.
//
// Beside the interface: Shard splits a global batch among ranks, Agree
// checks that every rank holds the same bytes (binary, recipe) and names
// the ranks that do not, Gather collects an error from any rank, and
// Timed measures the time a rank spends in collectives.
package cluster
