package imgdata

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/minmaxgan/minmax/internal/atomicfile"
)

// urlSource is a data set published as an archive at an address: Get
// downloads it, checks its size and published MD5, and extracts the
// members it needs.
type urlSource struct {
	url  string
	md5  string
	size int64
	// members maps each file to take from the archive (its base name) to
	// the folder, under the set's folder, it goes in.
	members map[string]string
}

// cifar10Download is the binary version of CIFAR-10 from its authors' page,
// with the size and MD5 they publish
// (https://www.cs.toronto.edu/~kriz/cifar.html).
var cifar10Download = &urlSource{
	url:  "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
	md5:  "c32a1d4ab5d03f1284b67883e8d87530",
	size: 170052171,
	members: map[string]string{
		"data_batch_1.bin": "cifar-10-batches-bin", "data_batch_2.bin": "cifar-10-batches-bin",
		"data_batch_3.bin": "cifar-10-batches-bin", "data_batch_4.bin": "cifar-10-batches-bin",
		"data_batch_5.bin": "cifar-10-batches-bin", "test_batch.bin": "cifar-10-batches-bin",
		"batches.meta.txt": "cifar-10-batches-bin",
	},
}

// downloadClient fetches archives; tests point it at a local server.
var downloadClient = &http.Client{Timeout: 30 * time.Minute}

// download fetches u's archive into a temporary file next to dest
// (showing progress on log), checks it, extracts the members into dest
// atomically, and removes the archive.
func download(ctx context.Context, name string, u *urlSource, dest string, log io.Writer, manual string) error {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("making %s: %w", dest, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.url, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "downloading %s (%s)\n", u.url, sizeText(u.size))
	resp, err := downloadClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("downloading %s: %w", name, ctx.Err())
		}
		return fmt.Errorf("cannot download %s from %s (%v); to install it by hand: %s", name, u.url, plainNetErr(err), manual)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cannot download %s: %s answered %s; to install it by hand: %s", name, u.url, resp.Status, manual)
	}
	tmp, err := os.CreateTemp(dest, ".download.tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	h := md5.New()
	p := &progress{w: log, total: u.size}
	n, err := io.Copy(io.MultiWriter(tmp, h, p), resp.Body)
	p.done()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("downloading %s: %w", name, ctx.Err())
		}
		return fmt.Errorf("downloading %s from %s broke off after %s: %v; try again, or install it by hand: %s", name, u.url, sizeText(n), err, manual)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != u.size || got != u.md5 {
		return fmt.Errorf("the download of %s is not the published archive: %s and MD5 %s, expected %s and MD5 %s; nothing was installed", name, sizeText(n), got, sizeText(u.size), u.md5)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return extract(tmp, u, dest, log)
}

// extract takes the members of the gzipped tar archive r into dest, each
// atomically; an archive that lacks one is refused before any is written
// under its final name.
func extract(r io.Reader, u *urlSource, dest string, log io.Writer) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("the archive is not gzip: %w", err)
	}
	tr := tar.NewReader(zr)
	found := map[string][]byte{}
	for {
		hd, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
		base := filepath.Base(hd.Name)
		if _, want := u.members[base]; !want || hd.Typeflag != tar.TypeReg {
			continue
		}
		if hd.Size > MaxDataBytes {
			return fmt.Errorf("the archive's %s is %d bytes: too large", hd.Name, hd.Size)
		}
		b, err := io.ReadAll(io.LimitReader(tr, hd.Size))
		if err != nil {
			return fmt.Errorf("reading %s from the archive: %w", hd.Name, err)
		}
		found[base] = b
	}
	var names []string
	for m := range u.members {
		if _, ok := found[m]; !ok {
			return fmt.Errorf("the archive has no %s", m)
		}
		names = append(names, m)
	}
	sort.Strings(names)
	for _, m := range names {
		dir := filepath.Join(dest, u.members[m])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		path := filepath.Join(dir, m)
		if err := atomicfile.WriteBytes(path, found[m]); err != nil {
			return err
		}
		fmt.Fprintf(log, "wrote %s (%s)\n", path, sizeText(int64(len(found[m]))))
	}
	return nil
}

// progress reports a download's progress on a line of its own, at most a
// few times a second.
type progress struct {
	w     io.Writer
	total int64
	n     int64
	last  time.Time
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if time.Since(p.last) > 250*time.Millisecond {
		p.last = time.Now()
		p.show()
	}
	return len(b), nil
}

func (p *progress) show() {
	const width = 30
	f := float64(p.n) / float64(max(p.total, 1))
	filled := min(width, int(f*width))
	fmt.Fprintf(p.w, "\r%s%s %5.1f%% %s", strings.Repeat("█", filled), strings.Repeat("░", width-filled), 100*min(f, 1), sizeText(p.n))
}

func (p *progress) done() {
	p.show()
	fmt.Fprintln(p.w)
}

func sizeText(b int64) string {
	if b >= 1<<20 {
		return fmt.Sprintf("%.1f MB", float64(b)/1e6)
	}
	return fmt.Sprintf("%d bytes", b)
}

// plainNetErr drops the URL net/http repeats in its errors.
func plainNetErr(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return ue.Unwrap()
	}
	return err
}
