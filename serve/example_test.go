package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/minmaxgan/minmax/recipe"
	"github.com/minmaxgan/minmax/run"
	"github.com/minmaxgan/minmax/serve"
)

// The server over a folder of runs: the API lists a finished run, and
// samples its generator.
func Example() {
	root, err := os.MkdirTemp("", "runs")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	rec, _ := recipe.Preset("ring8")
	rec.Optim.Steps, rec.Run.EvalEvery, rec.Run.CheckpointEvery = 20, 10, 10
	r, err := run.New(rec, filepath.Join(root, "first"), run.Options{NoPictures: true})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Train(context.Background()); err != nil {
		log.Fatal(err)
	}
	r.Close()

	s, err := serve.New(serve.Options{Roots: []string{root}})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(s) // minmax serve listens on 127.0.0.1:8080
	defer ts.Close()
	defer s.Close()
	resp, err := http.Get(ts.URL + "/api/runs")
	if err != nil {
		log.Fatal(err)
	}
	var list struct{ Runs []serve.RunSummary }
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	for _, r := range list.Runs {
		fmt.Println(r.Name, r.Status, r.Step, r.Kind, r.Dim)
	}
	resp, err = http.Get(ts.URL + "/api/runs/first/samples?n=3&seed=7")
	if err != nil {
		log.Fatal(err)
	}
	var pts struct{ Points [][]float32 }
	json.NewDecoder(resp.Body).Decode(&pts)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, len(pts.Points), "points of dimension", len(pts.Points[0]))
	// Output:
	// first finished 20 points 2
	// 200 3 points of dimension 2
}
