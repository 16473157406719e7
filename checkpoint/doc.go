// Package checkpoint saves and loads model parameters as safetensors files,
// the format of Hugging Face's safetensors library, so checkpoints written
// here can be read by Python's safetensors (and the other way round, for
// float32 tensors).
//
// # Format
//
// A file is three parts:
//
//	8 bytes   N, the header length, a little-endian uint64
//	N bytes   the header: a UTF-8 JSON object
//	the rest  the data section: the tensors' raw little-endian bytes
//
// The header maps each tensor name to an object
//
//	{"dtype":"F32","shape":[2,3],"data_offsets":[BEGIN,END]}
//
// where BEGIN and END are byte offsets relative to the start of the data
// section, END-BEGIN being 4 times the element count (1 for the rank-0 shape
// [], 0 when a dimension is 0). The optional key "__metadata__" holds an
// object of string values (a training step, a config, a description); it is
// therefore not a valid tensor name. The tensors must tile the data section
// exactly: starting at 0, no gaps, no overlaps, nothing after the last one.
//
// Save writes compact JSON with "__metadata__" first and the tensors in the
// order of their sorted names, laid out in the data section in that same
// order, and pads the header with spaces so that the data section starts at
// a multiple of 8 bytes. That is what the reference writer does, and the
// output for given tensors and metadata is always the same bytes.
//
// Read (and Load) accept any valid file, not just those Save writes, and
// check everything before allocating tensor data: a header length beyond the
// file or above MaxHeaderLen, invalid JSON or UTF-8, duplicate names or keys,
// missing, unknown or mistyped fields, a dtype other than F32 (the only one
// minmax uses), negative dimensions or more than tensor.MaxRank of them,
// offsets that do not match the shape or do not tile the data section, and a
// truncated file. Each is a *FormatError naming the file and the tensor.
//
// # Atomic writes
//
// Save never leaves a partial checkpoint behind, even if the process or the
// machine dies mid-write. It writes the whole file under a temporary name in
// the destination directory, fsyncs it so its contents are on disk, then
// renames it over the destination and fsyncs the directory so the rename
// itself is durable. A rename within one file system is atomic: at every
// moment, the path holds either the complete old file or the complete new
// one. On error the temporary file is removed. (A crash can still leave an
// orphaned temporary file, named ".NAME.tmp-*", next to the checkpoint.)
//
// # Restoring a model
//
// File.Restore copies a checkpoint into a model's existing tensors by name,
// after checking that the names and shapes match; a mismatch is reported for
// every tensor concerned, and then the model is left as it was.
package checkpoint
