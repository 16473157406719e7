// Command screenshots photographs the pages of a running `minmax serve`
// with headless Chromium (chromedp), for the README, and says how long each
// page took to show its content. Run a server first, then:
//
//	go run ./scripts/screenshots -url http://127.0.0.1:8080 -out docs/img \
//	    -run ring8=2d -run dcgan-fashion-mnist=images -theory 'p=...&q=...'
//
// Each -run NAME=LABEL writes dashboard_run_LABEL.png; the runs page and the
// theory page are dashboard_runs.png and dashboard_theory.png.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

type runList []string

func (r *runList) String() string     { return strings.Join(*r, ",") }
func (r *runList) Set(v string) error { *r = append(*r, v); return nil }

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "the server")
	out := flag.String("out", ".", "folder for the PNGs")
	theory := flag.String("theory", "", "query of the theory page (p=...&q=...), URL-encoded")
	width := flag.Int("width", 1400, "window width in pixels")
	wait := flag.Duration("wait", 3*time.Second, "time for a run page's live content to settle before the picture")
	height := flag.Int("height", 1100, "window height in pixels: the picture's height, unless -full")
	full := flag.Bool("full", false, "photograph whole pages, not the window")
	var runs runList
	flag.Var(&runs, "run", "NAME=LABEL: photograph /runs/NAME as dashboard_run_LABEL.png (repeatable)")
	flag.Parse()
	if err := shoot(*base, *out, *theory, *width, *height, *full, *wait, runs); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func shoot(base, out, theory string, width, height int, full bool, wait time.Duration, runs runList) error {
	path := ""
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		return fmt.Errorf("no Chromium: apt-get install -y chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(width, height), chromedp.Flag("hide-scrollbars", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	save := func(name string) error {
		shot := chromedp.CaptureScreenshot()
		if full {
			shot = chromedp.FullScreenshot(100)
		}
		b, err := chromedp.Run(ctx, shot)
		if err != nil {
			return err
		}
		p := filepath.Join(out, name)
		fmt.Println("wrote", p)
		return os.WriteFile(p, b, 0o644)
	}
	page := func(url, ready string) (time.Duration, error) {
		t0 := time.Now()
		err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(ready)))
		return time.Since(t0), err
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil { // start the browser before timing
		return err
	}
	d, err := page(base+"/", "#runs tbody tr")
	if err != nil {
		return fmt.Errorf("runs page: %w", err)
	}
	fmt.Printf("runs page: its table in %v\n", d.Round(time.Millisecond))
	if err := save("dashboard_runs.png"); err != nil {
		return err
	}
	for _, r := range runs {
		name, label, _ := strings.Cut(r, "=")
		d, err := page(base+"/runs/"+name, "#chart-losses canvas")
		if err != nil {
			return fmt.Errorf("run %s: %w", name, err)
		}
		fmt.Printf("run %s: curves drawn %v after opening the page\n", name, d.Round(time.Millisecond))
		marks, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`performance.getEntriesByType("navigation").map(e => "response end " + e.responseEnd.toFixed(0) + " ms, DOM ready " + e.domContentLoadedEventEnd.toFixed(0) + " ms").concat(performance.getEntriesByType("mark").filter((m, i, a) => a.findIndex(x => x.name === m.name) === i).map(m => m.name.replace("minmax:", "") + " " + m.startTime.toFixed(0) + " ms")).join(", ")`))
		fmt.Printf("  in the page: %s\n", marks)
		chromedp.Do(ctx, chromedp.Sleep(wait))
		if err := save("dashboard_run_" + label + ".png"); err != nil {
			return err
		}
	}
	if theory != "" {
		d, err := page(base+"/theory?"+theory, "#theorychart canvas, #theoryplane")
		if err != nil {
			return fmt.Errorf("theory page: %w", err)
		}
		fmt.Printf("theory page: figures in %v\n", d.Round(time.Millisecond))
		chromedp.Do(ctx, chromedp.Sleep(500*time.Millisecond))
		if err := save("dashboard_theory.png"); err != nil {
			return err
		}
	}
	return nil
}
