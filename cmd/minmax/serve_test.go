package main

import (
	"bufio"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// minmax serve as a process: it says where it listens, serves the runs,
// warns when it listens beyond the loopback, and stops cleanly on Ctrl-C.
func TestServeCommand(t *testing.T) {
	root := t.TempDir()
	runs := filepath.Join(root, "runs")
	if _, err := runCLI(t, smallToy(filepath.Join(runs, "first"), "20")...); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		addr string
		warn bool
	}{{"127.0.0.1:0", false}, {"0.0.0.0:0", true}} {
		cmd := minmaxCmd("serve", "--addr", c.addr, runs)
		stdout, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			cmd.Process.Kill()
			t.Fatalf("no address printed: %v (%s)", err, stderr.String())
		}
		m := regexp.MustCompile(`http://([^/]+)/`).FindStringSubmatch(line)
		if m == nil {
			cmd.Process.Kill()
			t.Fatalf("serve printed %q", line)
		}
		host := strings.Replace(m[1], "0.0.0.0", "127.0.0.1", 1)
		host = strings.Replace(host, "[::]", "127.0.0.1", 1)
		resp, err := http.Get("http://" + host + "/api/runs")
		if err != nil {
			cmd.Process.Kill()
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"name":"first"`) {
			t.Errorf("%s: /api/runs answered %d: %s", c.addr, resp.StatusCode, b)
		}
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: serve ended with %v after Ctrl-C", c.addr, err)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%s: serve did not stop on Ctrl-C", c.addr)
		}
		if warned := strings.Contains(stderr.String(), "warning: listening on"); warned != c.warn {
			t.Errorf("%s: warning %v, want %v (stderr %q)", c.addr, warned, c.warn, stderr.String())
		}
	}
	for _, args := range [][]string{{"serve", "--addr", "8080"}, {"serve", filepath.Join(root, "nothing-here")}, {"serve", "--max-samples", "0"}} {
		if _, err := runCLI(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
