// Package serve is `minmax serve`: a web dashboard of training runs and a
// sampling API over their generator files, from one binary with its pages
// embedded (no CDN, no network access).
//
// The server reads run directories and never writes into them. It finds
// runs in the folders it is given (a folder that is a run, or a folder of
// runs such as runs/), and follows each run's files as the trainer writes
// them, so a run started by `minmax train` in another terminal appears and
// moves without a restart:
//
//	config.yaml       the recipe: data, architecture, loss, steps
//	status.json       running, finished, interrupted or failed (with the
//	                  directory lock, so a killed trainer shows as interrupted)
//	metrics.jsonl     followed by byte offset: new lines are sent as they land
//	samples/          step_NNNNNN.png grids (image runs), step_NNNNNN.json
//	                  fields of the game (toy runs: P, Q_G, D)
//	generator.safetensors  loaded once per version for the sampling API
//
// Pages: / (the runs), /runs/{run} (one run, live), /theory (eq. 6-7 for any
// P and Q, computed by package theory on the server).
//
// API (JSON errors name the parameter, with status 400; unknown runs are
// 404):
//
//	GET /api/runs                                 the runs and their latest scores
//	GET /api/runs/{run}                           one run's summary
//	GET /api/runs/{run}/metrics?since=STEP        metrics.jsonl records after STEP
//	GET /api/runs/{run}/events                    server-sent events: metrics, snapshots, status
//	GET /api/runs/{run}/snapshots                 the steps with a sample grid or field
//	GET /api/runs/{run}/samples?n=&seed=&class=&truncation=&format=png|npy|json
//	GET /api/runs/{run}/interpolate?seed=&to=&steps=&class=&truncation=&format=
//	GET /api/runs/{run}/files/{name}              a picture of the run (samples/..., *.png, *.gif)
//	GET /api/theory?p=SPEC&q=SPEC                 D*, V_D(G, D*) and both sides of eq. (7)
//
// Same parameters, same samples: codes come from the seed exactly as
// `minmax sample --seed` draws them. Generation is bounded (n at most
// MaxSamples, a few requests at a time, each with a deadline).
package serve
