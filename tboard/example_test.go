package tboard_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/minmaxgan/minmax/tboard"
)

// A run's scalars written as a TensorBoard event file and read back.
func Example() {
	dir, err := os.MkdirTemp("", "tb")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	w, err := tboard.Create(dir)
	if err != nil {
		log.Fatal(err)
	}
	wall := time.Unix(1_700_000_000, 0)
	for step := int64(1); step <= 2; step++ {
		if err := w.AddScalars(step, wall, []tboard.Scalar{{Tag: "loss_d", Value: 1.5 / float32(step)}}); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	events, err := tboard.ReadEvents(w.Path())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(events[0].GetFileVersion())
	for _, ev := range events[1:] {
		for _, v := range ev.GetSummary().GetValue() {
			fmt.Println(ev.GetStep(), v.GetTag(), v.GetSimpleValue())
		}
	}
	// Output:
	// brain.Event:2
	// 1 loss_d 1.5
	// 2 loss_d 0.75
}
