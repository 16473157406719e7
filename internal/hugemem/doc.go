// Package hugemem places long-lived float32 buffers on memory the kernel
// may back with 2 MiB pages.
//
// A training step streams tens of megabytes of activations and gradients
// (dcgan28: arrays of 1.6 to 3.2 MB; its tape's arena held about 60 MB
// of huge pages during a run). On 4 KiB
// pages each of those arrays spans hundreds of pages, more than the
// TLB's second level holds for a whole step's working set, so the
// kernels' strided reads keep walking page tables. Linux backs memory
// with transparent huge pages where a program asks (madvise
// MADV_HUGEPAGE, under the usual policy "madvise"); the Go runtime never
// asks for its heap. A Slab carves buffers from chunks it has advised:
// autograd's tape takes its arena from one.
//
// Only the placement of memory changes, never a value: results are the
// same bits with or without huge pages, and where the kernel has none
// (other systems, THP set to "never") the buffers are ordinary memory.
package hugemem
