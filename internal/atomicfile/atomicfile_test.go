package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteReplacesAndKeepsPermissions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := WriteBytes(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm()&0o044 != 0o044 {
		t.Errorf("a new file has mode %v, want it readable by all", fi.Mode())
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(path, []byte("two")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fi, _ = os.Stat(path)
	if string(b) != "two" || fi.Mode().Perm() != 0o600 {
		t.Errorf("after replacing: %q, mode %v; want \"two\", 0600", b, fi.Mode())
	}
	if got := names(t, dir); !slices.Equal(got, []string{"f.txt"}) {
		t.Errorf("folder holds %q", got)
	}
}

// A failure at any step before the rename leaves the old file and no
// temporary file; the error names the file, not the temporary one.
func TestFailuresLeaveTheOldFile(t *testing.T) {
	injected := errors.New("injected")
	for _, s := range []string{"create", "fill", "sync", "close", "chmod", "rename"} {
		t.Run(s, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if err := WriteBytes(path, []byte("old")); err != nil {
				t.Fatal(err)
			}
			defer SetTestHook(func(name string) error {
				if name == s {
					return injected
				}
				return nil
			})()
			err := Write(path, func(w io.Writer) error {
				if _, err := w.Write([]byte("new")); err != nil {
					return err
				}
				if s == "fill" {
					return injected
				}
				return nil
			})
			if !errors.Is(err, injected) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), tmpInfix) {
				t.Fatalf("err = %v", err)
			}
			if b, _ := os.ReadFile(path); string(b) != "old" {
				t.Errorf("old file now %q", b)
			}
			if got := names(t, dir); !slices.Equal(got, []string{"f"}) {
				t.Errorf("folder holds %q", got)
			}
		})
	}
	t.Run("syncdir", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "f")
		defer SetTestHook(func(name string) error {
			if name == "syncdir" {
				return injected
			}
			return nil
		})()
		err := WriteBytes(path, []byte("new"))
		if !errors.Is(err, injected) || !strings.Contains(err.Error(), "written") {
			t.Fatalf("err = %v", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "new" {
			t.Errorf("file holds %q after the rename", b)
		}
	})
}

func TestErrorsNameTheFileNotTheTemporary(t *testing.T) {
	err := WriteBytes(filepath.Join(t.TempDir(), "missing", "f"), nil)
	if err == nil || strings.Contains(err.Error(), tmpInfix) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("err = %v", err)
	}
}

func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{".checkpoint.safetensors.tmp-123", "keep.txt", ".hidden"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	n, err := RemoveTemps(dir)
	if err != nil || n != 1 {
		t.Fatalf("removed %d (%v), want 1", n, err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{".hidden", "keep.txt"}) {
		t.Errorf("folder holds %q", got)
	}
}

func TestBatch(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "00001.txt"), []byte("old"), 0o644)
	b := NewBatch(dir)
	for i := range 20 {
		name := strings.Repeat("0", 4) + string(rune('0'+i%10)) + ".txt"
		if i >= 10 {
			name = "1" + name[1:]
		}
		if err := b.Add(name, func(w io.Writer) error { _, err := w.Write([]byte(name)); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(names(t, dir)); got != 21 {
		t.Fatalf("%d entries before Commit, want 20 temporaries and the old file", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "00001.txt")); string(b) != "old" {
		t.Fatalf("a file was replaced before Commit")
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	got := names(t, dir)
	if len(got) != 20 || slices.ContainsFunc(got, IsTemp) {
		t.Fatalf("after Commit: %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "10003.txt")); string(b) != "10003.txt" {
		t.Fatalf("10003.txt holds %q", b)
	}
	// A failed Add leaves nothing; Abort removes the temporaries.
	b = NewBatch(dir)
	b.Add("x", func(w io.Writer) error { return nil })
	if err := b.Add("y", func(w io.Writer) error { return errors.New("boom") }); err == nil {
		t.Fatal("a failing fill was not reported")
	}
	b.Abort()
	if got := names(t, dir); len(got) != 20 {
		t.Fatalf("after Abort: %q", got)
	}
}
