package imgdata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// EnvData is the environment variable that, when set and not empty, names
// the folder in which Open looks for every named data set (in
// $MINMAX_DATA/NAME/), instead of the usual places.
const EnvData = "MINMAX_DATA"

// ErrNotFound is matched, with errors.Is, by the error of Open for a named
// data set that is not installed. The error's message says where Open
// looked and how to get the files.
var ErrNotFound = errors.New("data set not found")

// notFoundError is Open's error for a missing named data set.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string        { return e.msg }
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

// ErrNoSplit is matched, with errors.Is, by the error of Open for a split
// that the data does not have: a folder of images has only "train" (see
// HoldOut to set test images aside), and IDX files or CIFAR-10 batches may
// lack their test (or train) files.
var ErrNoSplit = errors.New("no such split")

// ErrNeedSize is matched, with errors.Is, by the error of Open for a folder
// of images given no size to scale them to.
var ErrNeedSize = errors.New("an image size is needed")

// Data set layouts.
const (
	layoutIDX = iota + 1
	layoutCIFAR
)

// namedSet is a data set Open knows by name.
type namedSet struct {
	name    string
	layout  int
	classes []string
	system  string          // folder a system package installs it in, or ""
	get     string          // how to get it by hand, with %s for the folder to put it in
	module  *goModuleSource // a Go module that ships it (Get fetches it), or nil
	archive *urlSource      // an archive at an address (Get downloads it), or nil
}

// idxFiles lists the four files of an MNIST-like data set.
const idxFiles = "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz"

var namedSets = []namedSet{
	{
		name:   "mnist",
		layout: layoutIDX,
		classes: []string{
			"0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
		},
		get:    "download " + idxFiles + " from http://yann.lecun.com/exdb/mnist/ (or its mirror https://ossci-datasets.s3.amazonaws.com/mnist/) into %s",
		module: mnistModule,
	},
	{
		name:   "fashion-mnist",
		layout: layoutIDX,
		classes: []string{
			"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
			"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
		},
		system: "/usr/share/datasets/fashion-mnist",
		get:    "on Debian or Ubuntu, apt-get install dataset-fashion-mnist; elsewhere download " + idxFiles + " from http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ (see https://github.com/zalandoresearch/fashion-mnist) into %s",
	},
	{
		name:   "kmnist",
		layout: layoutIDX,
		// Romanised hiragana, in label order (kmnist_classmap.csv).
		classes: []string{"o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"},
		get:     "download " + idxFiles + " from http://codh.rois.ac.jp/kmnist/dataset/kmnist/ (see https://github.com/rois-codh/kmnist) into %s",
	},
	{
		name:    "cifar10",
		layout:  layoutCIFAR,
		classes: cifar10Classes,
		archive: cifar10Download,
		get:     "download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz (the binary version) and extract it into %s (tar xzf cifar-10-binary.tar.gz -C DIR, which makes DIR/cifar-10-batches-bin/)",
	},
}

// aliases are other spellings of the data set names.
var aliases = map[string]string{"cifar-10": "cifar10", "fashion_mnist": "fashion-mnist", "fashionmnist": "fashion-mnist",
	"stacked_mnist": StackedMNIST, "stackedmnist": StackedMNIST}

// NamedSets returns the names Open knows: mnist, fashion-mnist, kmnist,
// cifar10 and stacked-mnist (built from mnist).
func NamedSets() []string {
	names := make([]string, len(namedSets), len(namedSets)+1)
	for i, n := range namedSets {
		names[i] = n.name
	}
	return append(names, StackedMNIST)
}

// Open resolves a user's choice of data (a --data value) and reads split
// ("train", or "test"; "" means "train") of it.
//
// spec is either the name of a data set or a path.
//
// Names: mnist, fashion-mnist, kmnist and cifar10 (also cifar-10), and
// stacked-mnist, which is not stored but built from mnist by Stack (its
// train split 60,000 triples of MNIST's training digits, its test split
// 10,000 of its test digits, with fixed seeds). Open looks for the files in $MINMAX_DATA/NAME/ when the environment variable
// MINMAX_DATA is set; otherwise in the folder a system package installs
// them in, if there is one (/usr/share/datasets/fashion-mnist/ from
// Debian's dataset-fashion-mnist; Debian packages none of the others), then
// in the user cache, ~/.cache/minmax/NAME/ on Linux (os.UserCacheDir). Each
// folder is laid out as for a path, below. A set that is not found is an
// error matching ErrNotFound that lists the folders searched and says how
// to get the files. The class names are the data set's own (T-shirt/top,
// Trouser, ... for Fashion-MNIST) and labels are checked against them. To
// read a local folder that has one of these names, write it as a path
// (./mnist).
//
// Paths:
//   - a folder with IDX files: train-images-idx3-ubyte and
//     train-labels-idx1-ubyte for "train", t10k-… (or test-…) for "test",
//     each raw or .gz, with "-" or "." before "idx"; a missing labels file
//     gives an unlabelled set;
//   - a folder with CIFAR-10 binary batches, in it or in its
//     cifar-10-batches-bin/ sub-folder: data_batch_1.bin … data_batch_5.bin
//     (whichever are there) for "train", test_batch.bin for "test";
//   - an IDX images file (its labels file is taken from next to it when the
//     names match, train-images… → train-labels…) or a CIFAR-10 .bin file;
//     split is not used then;
//   - otherwise a folder of images, read by ReadFolder; it has only a
//     "train" split.
//
// size and channels apply to image folders (see ReadFolder; size is
// required there, channels 0 means 3). For IDX and CIFAR-10 data, 0 means
// "as stored", and any other value must be what is stored (28 and 1 for
// MNIST, 28 and 3 for stacked-mnist, 32 and 3 for CIFAR-10): only image
// folders are resized.
func Open(spec, split string, size, channels int) (*Set, error) {
	switch split {
	case "":
		split = "train"
	case "train", "test":
	default:
		return nil, fmt.Errorf("split %q; expected train or test", split)
	}
	if size < 0 || channels < 0 {
		return nil, fmt.Errorf("%s: size %d and channels %d; expected 0 (as stored) or more", spec, size, channels)
	}
	if spec == "" {
		return nil, fmt.Errorf("no data given; expected a data set name (%s) or a path", strings.Join(NamedSets(), ", "))
	}
	name := CanonicalName(spec)
	if n := findNamed(name); n != nil {
		return openNamed(n, split, size, channels)
	}
	if name == StackedMNIST {
		return openStacked(split, size, channels)
	}
	fi, err := os.Stat(spec)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !strings.ContainsAny(spec, `/\.`) {
			hint := ""
			if g := Suggest(spec); g != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", g)
			}
			return nil, fmt.Errorf("%q is neither a data set name (%s) nor an existing file or folder%s", spec, strings.Join(NamedSets(), ", "), hint)
		}
		return nil, osErr(err, spec)
	}
	var s *Set
	if fi.IsDir() {
		s, err = openDir(spec, split, size, channels, 0, nil)
	} else {
		s, err = openFile(spec)
	}
	if err != nil {
		return nil, err
	}
	return s, checkStored(s, size, channels)
}

// searchDirs returns the folders in which to look for a named data set.
func searchDirs(n *namedSet) (dirs []string, env bool) {
	if root := os.Getenv(EnvData); root != "" {
		return []string{filepath.Join(root, n.name)}, true
	}
	if n.system != "" {
		dirs = append(dirs, n.system)
	}
	if cache, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(cache, "minmax", n.name))
	}
	return dirs, false
}

// openNamed finds and reads a named data set.
func openNamed(n *namedSet, split string, size, channels int) (*Set, error) {
	dirs, env := searchDirs(n)
	for _, dir := range dirs {
		if detect(dir) != n.layout {
			continue
		}
		s, err := openDir(dir, split, 0, 0, n.layout, n.classes)
		if err != nil {
			return nil, err
		}
		s.Source = n.name + " " + split + " (" + s.Source + ")"
		return s, checkStored(s, size, channels)
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "data set %q not found; looked in %s", n.name, strings.Join(dirs, " and "))
	if env {
		fmt.Fprintf(&msg, " (the environment variable %s is set, so nowhere else)", EnvData)
	}
	if len(dirs) == 0 {
		msg.WriteString("no folder (no user cache folder; set " + EnvData + ")")
	}
	msg.WriteString(". To get it: ")
	msg.WriteString(howToGet(n, dirs))
	switch {
	case !env:
		fmt.Fprintf(&msg, " (or into DIR/%s/ and set %s=DIR)", n.name, EnvData)
	case n.system != "":
		fmt.Fprintf(&msg, " (the system package installs into %s, which is searched only when %s is not set)", n.system, EnvData)
	}
	return nil, &notFoundError{msg: msg.String()}
}

// checkStored checks that size and channels, when not 0, are those of s.
func checkStored(s *Set, size, channels int) error {
	var asked []string
	if size != 0 && (size != s.H || size != s.W) {
		asked = append(asked, fmt.Sprintf("size %d×%d", size, size))
	}
	if channels != 0 && channels != s.C {
		asked = append(asked, plural(channels, "channel"))
	}
	if asked == nil {
		return nil
	}
	return fmt.Errorf("%s: the images are %d×%d with %s; asked for %s, but only image folders are resized or converted (0 means as stored)",
		s.Source, s.H, s.W, plural(s.C, "channel"), strings.Join(asked, " and "))
}

// plural formats n things.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// isFile reports whether path is an existing file (or a link to one).
func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// idxPrefixes are the file name prefixes of the splits of an IDX data set.
var idxPrefixes = map[string][]string{"train": {"train"}, "test": {"t10k", "test"}}

// findIDX returns the images and labels files of split in dir ("" if
// absent).
func findIDX(dir, split string) (images, labels string) {
	for _, p := range idxPrefixes[split] {
		for _, sep := range []string{"-", "."} {
			for _, ext := range []string{".gz", ""} {
				img := filepath.Join(dir, p+"-images"+sep+"idx3-ubyte"+ext)
				if !isFile(img) {
					continue
				}
				for _, lext := range []string{ext, ".gz", ""} {
					if lab := filepath.Join(dir, p+"-labels"+sep+"idx1-ubyte"+lext); isFile(lab) {
						return img, lab
					}
				}
				return img, ""
			}
		}
	}
	return "", ""
}

// cifarDir returns the folder holding CIFAR-10 batches: dir or its
// cifar-10-batches-bin/, or "".
func cifarDir(dir string) string {
	for _, d := range []string{dir, filepath.Join(dir, "cifar-10-batches-bin")} {
		if isFile(filepath.Join(d, "test_batch.bin")) || len(cifarTrain(d)) > 0 {
			return d
		}
	}
	return ""
}

// cifarTrain returns the data_batch_K.bin files in dir, by K.
func cifarTrain(dir string) []string {
	matches, _ := filepath.Glob(filepath.Join(dir, "data_batch_*.bin"))
	type batch struct {
		k    int
		path string
	}
	var batches []batch
	for _, m := range matches {
		num := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "data_batch_"), ".bin")
		if k, err := strconv.Atoi(num); err == nil && isFile(m) {
			batches = append(batches, batch{k, m})
		}
	}
	slices.SortFunc(batches, func(a, b batch) int { return a.k - b.k })
	out := make([]string, len(batches))
	for i, b := range batches {
		out[i] = b.path
	}
	return out
}

// detect returns the layout of the data set in dir, or 0.
func detect(dir string) int {
	if img, _ := findIDX(dir, "train"); img != "" {
		return layoutIDX
	}
	if img, _ := findIDX(dir, "test"); img != "" {
		return layoutIDX
	}
	if cifarDir(dir) != "" {
		return layoutCIFAR
	}
	return 0
}

// openDir reads split of the data set in dir: layout 0 means detect it
// (and fall back to an image folder), classes are those of a named set.
func openDir(dir, split string, size, channels, layout int, classes []string) (*Set, error) {
	if layout == 0 {
		layout = detect(dir)
	}
	switch layout {
	case layoutIDX:
		img, lab := findIDX(dir, split)
		if img == "" {
			names := make([]string, 0, 2)
			for _, p := range idxPrefixes[split] {
				names = append(names, p+"-images-idx3-ubyte[.gz]")
			}
			return nil, fmt.Errorf("%s: an IDX data set without a %s split: there is no %s (%w)", dir, split, strings.Join(names, " nor "), ErrNoSplit)
		}
		return ReadIDXSet(img, lab, classes...)
	case layoutCIFAR:
		cdir := cifarDir(dir)
		var files []string
		if split == "train" {
			files = cifarTrain(cdir)
		} else if p := filepath.Join(cdir, "test_batch.bin"); isFile(p) {
			files = []string{p}
		}
		if len(files) == 0 {
			want := "data_batch_1.bin … data_batch_5.bin"
			if split == "test" {
				want = "test_batch.bin"
			}
			return nil, fmt.Errorf("%s: CIFAR-10 batches without a %s split: there is no %s (%w)", cdir, split, want, ErrNoSplit)
		}
		s, err := ReadCIFAR10(files...)
		if err != nil {
			return nil, err
		}
		if split == "train" && len(files) > 1 {
			s.Source = filepath.Join(cdir, "data_batch_*.bin")
		}
		return s, nil
	}
	if split != "train" {
		return nil, fmt.Errorf("%s: holds no IDX files or CIFAR-10 batches, so it is read as a folder of images, which has only a train split, not %q (%w)", dir, split, ErrNoSplit)
	}
	if size == 0 {
		return nil, fmt.Errorf("%s: holds no IDX files or CIFAR-10 batches, so it is read as a folder of images, which needs an image size to scale them to (size is 0; %w)", dir, ErrNeedSize)
	}
	s, err := ReadFolder(dir, size, channels)
	var none *noImagesError
	if errors.As(err, &none) {
		return nil, fmt.Errorf("%s: no data found: no IDX files (train-images-idx3-ubyte[.gz], t10k-…), no CIFAR-10 batches (data_batch_N.bin, test_batch.bin, also in cifar-10-batches-bin/) and no images (.png, .jpg, .jpeg, also in sub-folders)", dir)
	}
	return s, err
}

// openFile reads a single data file: an IDX images file or a CIFAR-10
// batch.
func openFile(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, osErr(err, path)
	}
	var head [4]byte
	n, _ := f.Read(head[:])
	f.Close()
	base := filepath.Base(path)
	isIDX := n >= 2 && (head[0] == 0x1f && head[1] == 0x8b || head[0] == 0 && head[1] == 0)
	switch {
	case strings.EqualFold(filepath.Ext(base), ".bin"):
		return ReadCIFAR10(path)
	case isIDX:
		lab := ""
		for _, sep := range []string{"-", "."} {
			from := "-images" + sep + "idx3-ubyte"
			i := strings.LastIndex(base, from)
			if i < 0 {
				continue
			}
			stem := base[:i] + "-labels" + sep + "idx1-ubyte"
			for _, ext := range []string{base[i+len(from):], ".gz", ""} {
				if p := filepath.Join(filepath.Dir(path), stem+ext); isFile(p) {
					lab = p
					break
				}
			}
			break
		}
		return ReadIDXSet(path, lab)
	case isImageName(base):
		return nil, fmt.Errorf("%s is a single image; give the folder of images instead", path)
	}
	return nil, formatErr(path, "not a data set file: expected an IDX file (MNIST format, raw or gzip-compressed) or a CIFAR-10 .bin batch; or give a folder")
}

// CanonicalName returns the data set name that spec is an alias of
// (cifar-10 → cifar10, stacked_mnist → stacked-mnist, ...), or spec itself.
func CanonicalName(spec string) string {
	if a, ok := aliases[spec]; ok {
		return a
	}
	return spec
}

// SourceLayout is what a --data value names, as Layout sees it without
// reading the data.
type SourceLayout int

// The layouts Layout tells apart.
const (
	// LayoutNone: not image data (a distribution spec, or nothing that
	// exists).
	LayoutNone SourceLayout = iota
	// LayoutNamed: a data set name (mnist, fashion-mnist, ...).
	LayoutNamed
	// LayoutIDX: an IDX file, or a folder of IDX files.
	LayoutIDX
	// LayoutCIFAR: a CIFAR-10 .bin batch, or a folder of them.
	LayoutCIFAR
	// LayoutFolder: a folder of image files (or anything else that
	// exists; Open says what is wrong with it).
	LayoutFolder
)

// Layout says what spec names: a data set, IDX or CIFAR-10 files, a
// folder of images, or none of these (LayoutNone). It reads folder
// listings and file names, not the data.
func Layout(spec string) SourceLayout {
	name := CanonicalName(spec)
	if findNamed(name) != nil || name == StackedMNIST {
		return LayoutNamed
	}
	fi, err := os.Stat(spec)
	if err != nil {
		return LayoutNone
	}
	if !fi.IsDir() {
		if strings.EqualFold(filepath.Ext(spec), ".bin") {
			return LayoutCIFAR
		}
		return LayoutIDX
	}
	switch detect(spec) {
	case layoutIDX:
		return LayoutIDX
	case layoutCIFAR:
		return LayoutCIFAR
	}
	return LayoutFolder
}

// Suggest returns the name among candidates (the data set names when
// none are given) closest to s, if it is a likely typo (at most two edits,
// and fewer than half of s), else "".
func Suggest(s string, candidates ...string) string {
	if len(candidates) == 0 {
		candidates = NamedSets()
	}
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD && 2*d < len(s) {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
