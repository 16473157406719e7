package imgdata

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cifarArchive makes a gzipped tar of CIFAR-10 batches of 3 images each,
// as the authors' archive lays them out.
func cifarArchive(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin", "batches.meta.txt", "readme.html"} {
		body := make([]byte, 3*3073)
		for i := 0; i < 3; i++ {
			body[i*3073] = byte(i)
		}
		if strings.HasSuffix(name, ".txt") {
			body = []byte(strings.Join(cifar10Classes, "\n"))
		}
		tw.WriteHeader(&tar.Header{Name: "cifar-10-batches-bin/" + name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write(body)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// A download is checked against its size and MD5, extracted atomically
// and then read by Open; a wrong archive installs nothing; a server that
// cannot be reached gives the way to install by hand.
func TestDownloadCIFAR(t *testing.T) {
	archive := cifarArchive(t)
	sum := md5.Sum(archive)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write(archive)
	}))
	defer srv.Close()
	u := *cifar10Download
	u.url, u.md5, u.size = srv.URL+"/cifar.tar.gz", hex.EncodeToString(sum[:]), int64(len(archive))
	dest := filepath.Join(t.TempDir(), "cifar10")
	var log bytes.Buffer
	if err := download(context.Background(), "cifar10", &u, dest, &log, "by hand"); err != nil {
		t.Fatal(err)
	}
	s, err := openDir(dest, "test", 0, 0, layoutCIFAR, cifar10Classes)
	if err != nil || s.N != 3 || s.Labels[2] != 2 {
		t.Fatalf("the extracted test batch: %v, %v", s, err)
	}
	if !strings.Contains(log.String(), "100.0%") {
		t.Errorf("no progress shown: %q", log.String())
	}
	if es, _ := os.ReadDir(dest); len(es) != 1 {
		t.Errorf("the folder holds %d entries; the archive was not removed", len(es))
	}

	bad := u
	bad.md5 = strings.Repeat("0", 32)
	dest2 := filepath.Join(t.TempDir(), "c")
	err = download(context.Background(), "cifar10", &bad, dest2, io.Discard, "by hand")
	if err == nil || !strings.Contains(err.Error(), "not the published archive") {
		t.Fatalf("a wrong archive: %v", err)
	}
	if es, _ := os.ReadDir(dest2); len(es) != 0 {
		t.Errorf("a wrong archive left %d entries", len(es))
	}

	missing := u
	missing.url = srv.URL + "/missing"
	if err := download(context.Background(), "cifar10", &missing, dest2, io.Discard, "put the files in X"); err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "put the files in X") {
		t.Fatalf("404: %v", err)
	}
	srv.Close()
	if err := download(context.Background(), "cifar10", &u, dest2, io.Discard, "put the files in X"); err == nil || !strings.Contains(err.Error(), "put the files in X") {
		t.Fatalf("offline: %v", err)
	}
}
