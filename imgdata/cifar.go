package imgdata

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A CIFAR-10 binary record: 1 label byte, then a 32×32 image as 1024 red,
// 1024 green and 1024 blue bytes, each plane row-major.
const (
	cifarSide   = 32
	cifarPixels = 3 * cifarSide * cifarSide // 3072
	cifarRecord = 1 + cifarPixels           // 3073
)

// cifar10Classes are the CIFAR-10 class names, in label order, as in
// batches.meta.txt.
var cifar10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// cifarMeta is the file of class names that comes with the binary batches.
const cifarMeta = "batches.meta.txt"

// ReadCIFAR10 reads CIFAR-10 batches in the binary version (data_batch_1.bin
// ... data_batch_5.bin, test_batch.bin from cifar-10-binary.tar.gz) into one
// set of 32×32 RGB images with labels, in the order of paths.
//
// Each file must be a non-empty sequence of 3073-byte records, each a label
// byte (0 to 9) and 3072 pixel bytes: the red, green and blue planes of
// 32×32 bytes, which is already the channel-planar layout of Set.Pix. A
// length that is not a multiple of 3073, an empty file or a label above 9 is
// a *FormatError naming the file (and saying so when the file is still the
// gzip-compressed archive). All lengths are checked before anything is
// allocated.
//
// The class names come from batches.meta.txt in the folder of the first
// file when it is there (it must then hold 10 names, one per line), else
// they are the standard ones: airplane, automobile, bird, cat, deer, dog,
// frog, horse, ship, truck.
func ReadCIFAR10(paths ...string) (*Set, error) {
	if len(paths) == 0 {
		return nil, errors.New("ReadCIFAR10: no files given")
	}
	counts := make([]int, len(paths))
	total := 0
	for i, p := range paths {
		n, err := cifarRecords(p)
		if err != nil {
			return nil, err
		}
		if total += n; total > MaxDataBytes/cifarRecord {
			return nil, fmt.Errorf("%s: the CIFAR-10 files together hold more than the %d bytes this package reads", p, MaxDataBytes)
		}
		counts[i] = n
	}
	classes, err := readCIFARMeta(filepath.Join(filepath.Dir(paths[0]), cifarMeta))
	if err != nil {
		return nil, err
	}
	s := &Set{
		N: total, C: 3, H: cifarSide, W: cifarSide,
		Pix:     make([]uint8, total*cifarPixels),
		Labels:  make([]int, total),
		Classes: classes,
		Source:  strings.Join(paths, ", "),
	}
	k := 0
	for i, p := range paths {
		n := counts[i]
		if err := readCIFARFile(p, n, s.Pix[k*cifarPixels:(k+n)*cifarPixels], s.Labels[k:k+n]); err != nil {
			return nil, err
		}
		k += n
	}
	return s, nil
}

// cifarRecords checks the length and the first bytes of a CIFAR-10 batch
// file and returns its number of records.
func cifarRecords(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, osErr(err, path)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, osErr(err, path)
	}
	if fi.IsDir() {
		return 0, fmt.Errorf("%s is a folder; expected a CIFAR-10 binary batch file such as data_batch_1.bin (Open accepts folders)", path)
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return 0, osErr(err, path)
	}
	head = head[:n]
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return 0, formatErr(path, "is gzip-compressed; CIFAR-10 batches are read uncompressed: extract the archive (tar xzf cifar-10-binary.tar.gz) and use the .bin files in cifar-10-batches-bin/")
	case len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar")):
		return 0, formatErr(path, "is a tar archive; extract it (tar xf) and use the .bin files in cifar-10-batches-bin/")
	}
	size := fi.Size()
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file; expected a CIFAR-10 binary batch file", path)
	}
	if size == 0 {
		return 0, formatErr(path, "the file is empty; expected CIFAR-10 records of %d bytes (1 label byte, then %d pixel bytes)", cifarRecord, cifarPixels)
	}
	if size%cifarRecord != 0 {
		hint := "(truncated?)"
		if size%(cifarRecord+1) == 0 {
			hint = "(it is a multiple of 3074: CIFAR-100, with 2 label bytes per record? only CIFAR-10 is supported)"
		}
		return 0, formatErr(path, "the file is %d bytes: %d whole records of %d bytes (1 label byte, then %d pixel bytes) and %d bytes left over; expected a multiple of %d %s",
			size, size/cifarRecord, cifarRecord, cifarPixels, size%cifarRecord, cifarRecord, hint)
	}
	if size/cifarRecord > MaxDataBytes/cifarRecord {
		return 0, formatErr(path, "the file is %d bytes, more than the %d this package reads", size, MaxDataBytes)
	}
	return int(size / cifarRecord), nil
}

// readCIFARFile reads the n records of a CIFAR-10 batch file into pix
// (n×3072 bytes) and labels (n).
func readCIFARFile(path string, n int, pix []uint8, labels []int) error {
	f, err := os.Open(path)
	if err != nil {
		return osErr(err, path)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	for i := range n {
		at := int64(i) * cifarRecord
		label, err := r.ReadByte()
		if err == nil {
			if label > 9 {
				return formatErr(path, "record %d (at byte %d) has label %d; CIFAR-10 labels are 0 to 9 (is this a CIFAR-10 binary batch?)", i, at, label)
			}
			_, err = io.ReadFull(r, pix[i*cifarPixels:(i+1)*cifarPixels])
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return formatErr(path, "the file ends inside record %d of %d (it shrank while being read?)", i, n)
		}
		if err != nil {
			return osErr(err, path)
		}
		labels[i] = int(label)
	}
	return nil
}

// readCIFARMeta reads the class names from batches.meta.txt, or returns the
// standard ones if there is no such file.
func readCIFARMeta(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cifar10Classes, nil
	}
	if err != nil {
		return nil, osErr(err, path)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<16))
	if err != nil {
		return nil, osErr(err, path)
	}
	var names []string
	for line := range strings.Lines(string(data)) {
		if name := strings.TrimSpace(line); name != "" {
			names = append(names, name)
		}
	}
	if len(names) != len(cifar10Classes) {
		return nil, formatErr(path, "has %d class names; expected %d, one per line (airplane, automobile, ...)", len(names), len(cifar10Classes))
	}
	return names, nil
}
