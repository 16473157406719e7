// Package run is a training run on disk: it trains a toy GAN (package gan)
// and keeps everything a user needs in one directory.
//
//	DIR/config.yaml              the effective recipe (preset, file and flags merged)
//	DIR/metrics.jsonl            one line per step (losses, mean D on real and fake,
//	                             gradient norms) and one per evaluation (mode coverage,
//	                             the JSD estimate of eq. 7)
//	DIR/checkpoint.safetensors   G, D, both optimizers, step, RNG state and config
//	DIR/samples/step_NNNNNN.csv  generated points from a fixed set of latent codes
//	DIR/eval.json                the final evaluation
//	DIR/*.png, DIR/*.gif         the pictures
//	DIR/tb/events.out.tfevents.* TensorBoard event files: the numbers of metrics.jsonl
//	                             as scalars, the sample grids of image runs as images
//	                             (one file per training process; see TBDir)
//
// Checkpoints are written atomically, periodically and when the run is
// interrupted (the caller cancels the context on SIGINT/SIGTERM); Resume
// continues a run bit-identically to one that was never interrupted.
package run
