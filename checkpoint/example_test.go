package checkpoint_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/minmaxgan/minmax/checkpoint"
	"github.com/minmaxgan/minmax/tensor"
)

func Example() {
	dir, err := os.MkdirTemp("", "checkpoint-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "gan.safetensors")

	// Save a model's parameters with some metadata.
	w, _ := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	b, _ := tensor.FromData([]float32{0.5, -0.5}, 2)
	params := map[string]*tensor.Tensor{"G.fc1.weight": w, "G.fc1.bias": b}
	if err := checkpoint.Save(path, params, map[string]string{"step": "1000"}); err != nil {
		log.Fatal(err)
	}

	// Load it and restore it into a freshly built model of the same shape.
	f, err := checkpoint.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	model := map[string]*tensor.Tensor{
		"G.fc1.weight": tensor.New(2, 3),
		"G.fc1.bias":   tensor.New(2),
	}
	if err := f.Restore(model, false); err != nil {
		log.Fatal(err)
	}
	fmt.Println("step", f.Meta["step"])
	fmt.Println(model["G.fc1.weight"])

	// A model of another shape is refused, and left untouched.
	wider := map[string]*tensor.Tensor{
		"G.fc1.weight": tensor.New(4, 3),
		"G.fc1.bias":   tensor.New(4),
	}
	fmt.Println(f.Restore(wider, false))
	// Output:
	// step 1000
	// Tensor[2 3][1 2 3 4 5 6]
	// G.fc1.bias: checkpoint has [2], model has [4]
	// G.fc1.weight: checkpoint has [2 3], model has [4 3]
}

func ExampleRead() {
	// A truncated file: the header says 8 bytes of data, the file has 4.
	header := `{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	data := append([]byte{byte(len(header)), 0, 0, 0, 0, 0, 0, 0}, header...)
	data = append(data, 0, 0, 0x80, 0x3f)
	_, err := checkpoint.Read("x.safetensors", data)
	fmt.Println(err)
	// Output:
	// checkpoint x.safetensors: truncated: the header describes 8 bytes of tensor data but the file holds 4
}
