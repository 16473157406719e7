// Package tfpb holds the Go code generated from event.proto and
// summary.proto: the subset of TensorFlow's Event and Summary protocol
// buffers (package tensorflow, TensorFlow's message names and field
// numbers) that package tboard writes to TensorBoard event files.
//
// The .pb.go files are committed; regenerating them needs protoc and
// protoc-gen-go v1.36.12 (go install
// google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12), then go generate
// in this folder.
package tfpb

//go:generate protoc -I ../.. --go_out=../.. --go_opt=paths=source_relative tboard/tfpb/summary.proto tboard/tfpb/event.proto
