package serve

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/lab"
	"github.com/minmaxgan/minmax/run"
)

// chromium finds a Chromium or Chrome to drive, or skips the test (fails
// it when MINMAX_REQUIRE_BROWSER=1, as .ci/run sets after installing
// Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("MINMAX_CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("MINMAX_REQUIRE_BROWSER") == "1" {
		t.Fatal("no Chromium found (MINMAX_REQUIRE_BROWSER=1): apt-get install -y chromium, or set MINMAX_CHROMIUM")
	}
	t.Skip("no Chromium to drive: apt-get install -y chromium (or set MINMAX_CHROMIUM) to run the browser test")
	return ""
}

// browser starts a headless Chromium and collects the console errors,
// uncaught exceptions and failed loads of every page it shows. A Chromium
// that has not shown its first page within 45 s is killed and started
// again once (a headless Chromium sometimes hangs at start on a loaded
// machine); and a browser still open after 5 minutes is closed, so that a
// page that never answers fails the test with its error instead of
// hanging it until go test's timeout.
func browser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var problems []string
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, "console error: "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			problems = append(problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				problems = append(problems, "log error: "+e.Entry.Text+" "+e.Entry.URL)
			}
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	for attempt := 1; ; attempt++ {
		actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelB := chromedp.NewContext(actx, chromedp.WithListener(listen))
		started := make(chan error, 1)
		go func() { started <- chromedp.Do(ctx, chromedp.Navigate("about:blank")) }()
		var err error
		select {
		case err = <-started:
		case <-time.After(45 * time.Second):
			err = fmt.Errorf("Chromium showed no page within 45 s")
		}
		if err != nil {
			cancelB()
			cancelA()
			if attempt < 2 {
				t.Logf("starting Chromium, attempt %d: %v; starting it again", attempt, err)
				continue
			}
			t.Fatalf("starting Chromium: %v", err)
		}
		watchdog := time.AfterFunc(5*time.Minute, func() {
			t.Errorf("the browser was still open after 5 minutes: closing it")
			cancelB()
			cancelA()
		})
		t.Cleanup(func() { watchdog.Stop(); cancelB(); cancelA() })
		return ctx, func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), problems...)
		}
	}
}

// nonBlank counts the painted pixels of the canvases matched by sel
// (pixels that are neither transparent nor near white).
const nonBlank = `(sel) => {
  let n = 0;
  for (const c of document.querySelectorAll(sel)) {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0 && (d[i-1] < 250 || d[i-2] < 250 || d[i-3] < 250)) n++;
  }
  return n;
}`

func painted(ctx context.Context, sel string) (int, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[int]("("+nonBlank+")("+strconv.Quote(sel)+")"))
}

var stepText = regexp.MustCompile(`^step (\d+) of (\d+)`)

func shownStep(ctx context.Context) (int, error) {
	facts, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#facts")))
	if err != nil {
		return 0, err
	}
	m := stepText.FindStringSubmatch(facts)
	if m == nil {
		return 0, fmt.Errorf("the run page says %q", facts)
	}
	return strconv.Atoi(m[1])
}

// screenshot saves the page when MINMAX_SCREENSHOTS names a folder.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("MINMAX_SCREENSHOTS")
	if dir == "" {
		return
	}
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Error(err)
		return
	}
	os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644)
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v\nthe page shows:\n%.2000s", what, err, html)
	}
}

// slowly paces a run to about 300 steps a second, so that a page can
// watch it train.
type slowly struct{}

func (slowly) Step(gan.Stats, int, int, time.Duration) { time.Sleep(3 * time.Millisecond) }
func (slowly) Eval(run.Eval)                           {}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

// The dashboard in a real browser: the runs page lists the runs; a run
// page draws its curves and moves while a run trains into it; the slider
// changes the sample grid; the game on the plane is drawn; the theory page
// shows the JSD of minmax theory; and no page logs an error.
func TestDashboardInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is long: it runs without -short (go test ./...), not in .ci/run's -race -short pass")
	}
	ctx, problems := browser(t)
	fixed := runsFolder(t)
	root := t.TempDir()
	for _, name := range []string{"toy", "digits"} {
		if err := os.Symlink(filepath.Join(fixed, name), filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	ts := newServer(t, root)

	// A run that trains while the page watches it.
	rec := toyRecipe(100000)
	rec.Run.EvalEvery = 200
	live, err := run.New(rec, filepath.Join(root, "live"), run.Options{Progress: slowly{}})
	if err != nil {
		t.Fatal(err)
	}
	trainCtx, stopTraining := context.WithCancel(context.Background())
	trained := make(chan error, 1)
	go func() {
		_, err := live.Train(trainCtx)
		live.Close()
		trained <- err
	}()
	defer func() {
		stopTraining()
		<-trained
	}()

	// The runs page; comparing two runs draws their curves together.
	do(t, ctx, "runs page", chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(css(`#runs tbody tr[data-run="toy"]`)),
		chromedp.WaitVisible(css(`#runs tbody tr[data-run="digits"]`)),
		chromedp.WaitVisible(css(`#runs tbody tr[data-run="live"] .badge.running`)),
		chromedp.Click(css(`#runs tbody tr[data-run="toy"] input[type=checkbox]`)),
		chromedp.Click(css(`#runs tbody tr[data-run="live"] input[type=checkbox]`)),
		chromedp.WaitVisible(css(`#comparechart canvas`)), chromedp.Sleep(300*time.Millisecond))
	if n, err := painted(ctx, "#comparechart canvas"); err != nil || n < 200 {
		t.Errorf("the comparison chart is blank (%d pixels painted): %v", n, err)
	}
	screenshot(t, ctx, "runs")

	// The live run's page draws its curves and advances.
	do(t, ctx, "run page", chromedp.Navigate(ts.URL+"/runs/live"),
		chromedp.WaitVisible(css(`#chart-losses canvas`)), chromedp.Sleep(500*time.Millisecond))
	if n, err := painted(ctx, "#chart-losses canvas"); err != nil || n < 200 {
		t.Errorf("the loss chart is blank (%d pixels painted): %v", n, err)
	}
	s0, err := shownStep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	s1, err := shownStep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s1 <= s0 {
		t.Errorf("the live page stayed at step %d while the run trained", s0)
	}
	do(t, ctx, "the plane", chromedp.WaitVisible(css(`#plane`)), chromedp.Sleep(300*time.Millisecond))
	if n, err := painted(ctx, "#plane"); err != nil || n < 1000 {
		t.Errorf("the plane of the 2-D game is blank (%d pixels): %v", n, err)
	}
	t.Logf("live page: step %d, then %d two seconds later", s0, s1)
	screenshot(t, ctx, "run_live_2d")

	// The image run: the slider changes the grid.
	src := func() string {
		a, err := chromedp.Run(ctx, chromedp.AttributeValue(css(`#grid`), "src"))
		if err != nil {
			t.Fatal(err)
		}
		return a.Value
	}
	do(t, ctx, "image run page", chromedp.Navigate(ts.URL+"/runs/digits"), chromedp.WaitVisible(css(`#grid`)))
	src0 := src()
	do(t, ctx, "slider", chromedp.SetValue(css(`#slider`), "0"),
		chromedp.Steps(func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Evaluate[bool](`document.getElementById("slider").dispatchEvent(new Event("input"))`)(ctx, tg)
			return chromedp.Void{}, err
		}), chromedp.Sleep(300*time.Millisecond))
	src1 := src()
	if src0 == src1 || !strings.Contains(src0, "step_000004.png") || !strings.Contains(src1, "step_000000.png") {
		t.Errorf("the slider did not change the grid: %q then %q", src0, src1)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("grid").complete && document.getElementById("grid").naturalWidth > 0`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the grid image did not load: %v", err)
	}
	// The sampler draws from the generator at a class.
	do(t, ctx, "sampler", chromedp.SetValue(css(`#sclass`), "3"), chromedp.Click(css(`#sampleform button`)))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("sampleimg").naturalWidth > 0`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Errorf("sampler: %v", err)
	}
	screenshot(t, ctx, "run_images")

	// The theory page: JSD as minmax theory computes it, to 1e-9.
	p, q := "N(0, 1)", "mix(0.5:N(-1, 1), 0.5:N(2, 0.5))"
	ex, err := lab.ComputeExact(dist.MustParse(p), dist.MustParse(q))
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "theory page", chromedp.Navigate(ts.URL+"/theory"), chromedp.WaitVisible(css(`#jsd`)),
		chromedp.SetValue(css(`#p`), p), chromedp.SetValue(css(`#q`), q), chromedp.Click(css(`#theoryform button`)))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.location.search.includes("mix") && document.getElementById("jsd").textContent !== ""`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	shown, err := chromedp.Run(ctx, chromedp.Text(css(`#jsd`)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := strconv.ParseFloat(strings.TrimSpace(shown), 64)
	if err != nil || math.Abs(got-ex.JSD) > 1e-9 {
		t.Errorf("the theory page shows JSD %q, minmax theory computes %.12f", shown, ex.JSD)
	}
	t.Logf("theory page: JSD %s, minmax theory %.15g", shown, ex.JSD)
	if n, err := painted(ctx, "#theorychart canvas"); err != nil || n < 200 {
		t.Errorf("the theory chart is blank (%d): %v", n, err)
	}
	screenshot(t, ctx, "theory")
	// A spec with an error: the message points at its column, and the
	// field is marked. (The browser logs the API's answer, 400, as a
	// failed load: the one error expected.)
	before := len(problems())
	do(t, ctx, "theory error", chromedp.SetValue(css(`#q`), "ring(8, sd=)"), chromedp.Click(css(`#theoryform button`)),
		chromedp.WaitVisible(css(`#perror`)))
	msg, err := chromedp.Run(ctx, chromedp.Text(css(`#perror`)))
	if err != nil || !strings.Contains(msg, "Q:") || !strings.Contains(msg, "column 12") {
		t.Errorf("the spec error says %q (%v)", msg, err)
	}
	if bad, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("q").classList.contains("bad")`)); err != nil || !bad {
		t.Errorf("the wrong spec's field is not marked (%v)", err)
	}
	all := problems()
	for i, p := range all {
		if i >= before && strings.Contains(p, "status of 400") && strings.Contains(p, "/api/theory?") {
			continue
		}
		t.Errorf("the browser reported: %s", p)
	}
	do(t, ctx, "closing the pages", chromedp.Navigate("about:blank"))
}
