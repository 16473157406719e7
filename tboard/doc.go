// Package tboard writes and reads TensorBoard event files
// (events.out.tfevents.*), so that minmax runs open in TensorBoard
// (tensorboard --logdir runs) next to runs of other tools.
//
// An event file is a sequence of TFRecord records, each holding one
// serialised tensorflow.Event (package tfpb, generated from the subset of
// TensorFlow's event.proto and summary.proto that minmax needs). A record
// is framed as TensorFlow frames it:
//
//	uint64 length         little-endian, the length of data
//	uint32 masked CRC32C  of the 8 length bytes
//	byte   data[length]   the serialised Event
//	uint32 masked CRC32C  of data
//
// where CRC32C is the Castagnoli CRC (hash/crc32's Castagnoli table) and a
// CRC is masked as ((crc >> 15) | (crc << 17)) + 0xa282ead8 (MaskCRC).
//
// The first event of a file says its version (file_version
// "brain.Event:2"); the others carry a Summary at a step: scalars
// (simple_value, a float32) and images (an encoded PNG with its size and
// colour space). Writer appends them to a new file; Reader and ReadEvents
// verify both CRCs of every record and decode it, reporting a corrupt or
// truncated record with its byte offset (CorruptError).
package tboard
