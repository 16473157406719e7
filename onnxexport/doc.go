// Package onnxexport writes a trained generator as an ONNX model, so that
// its samples can be drawn by any ONNX runtime (onnxruntime in Python,
// JavaScript, C++, ...) without minmax.
//
// Export walks G's modules (those of every architecture registered in
// package arch: mlp, dcgan, resnet, biggan, with all their options) and
// emits, for each, the ONNX nodes that compute what its Forward computes
// in evaluation mode:
//
//	nn.Linear              Gemm (transB), the weight as the layer uses it
//	nn.Conv2D              Conv (weight turned from (O, K, K, I) to (O, I, K, K))
//	nn.ConvTranspose2D     ConvTranspose (weight (I, K, K, O) to (I, O, K, K))
//	nn.BatchNorm           BatchNormalization with the running statistics
//	nn.ConditionalBatchNorm  BatchNormalization, then Gemm gains and shifts, Mul, Add
//	nn.Embedding           Gather on the class input
//	nn.SelfAttention       1×1 Conv, MaxPool, MatMul, Softmax, Transpose, Reshape
//	nn.Upsample2D          Resize (nearest, asymmetric, floor: pixel repetition)
//	activations            Relu, LeakyRelu, Tanh, Sigmoid, Softplus
//	z chunks, conditions   Slice, Concat
//
// Weight transforms are folded into the initializers: a spectrally
// normalised weight is stored as W/σ with σ = uᵀWv computed, as
// nn.SpectralNorm does in evaluation mode, from the saved u and v (no
// power iteration), so the model computes exactly what
// generator.Generator.Generate computes. A module or transform the
// exporter does not know is refused with its path and type.
//
// Inside minmax images are channel-last; the exported graph works in
// ONNX's NCHW from the first map on (a Reshape and a Transpose after the
// first Linear layer), so its output is NCHW, as `minmax sample --out
// x.npy` writes images.
//
// The model (opset 17, IR version 8) has a dynamic batch, the dimension
// named "N":
//
//	input  z       float32 [N, latent]      the latent codes
//	input  class   int64   [N]              conditional generators only
//	output images  float32 [N, C, H, W]     in [-1, 1] (image generators)
//	output points  float32 [N, dim]         (toy generators)
//
// Its metadata_props and doc string record what the generator file
// records: the minmax version, the architecture and its options, the data
// source, the step, the class names.
//
// The protobuf definitions are those of
// github.com/advancedclimatesystems/gonnx/onnx (generated with
// google.golang.org/protobuf).
package onnxexport
