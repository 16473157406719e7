// Runs an ONNX model exported by minmax with onnxruntime-node, on latent
// codes from a .npy file (as `minmax sample --z-out` writes them) and, for
// a conditional generator, classes from an IDX file (as `minmax sample
// --labels-out` writes them) or a .npy file, and writes the model's output
// to a .npy file (float32).
//
//   node run_onnx.js MODEL.onnx Z.npy [--class LABELS.idx|LABELS.npy] OUT.npy
//
// onnxruntime-node is found as any Node module (set NODE_PATH to the
// node_modules folder it was installed into). It prints one JSON line: the
// model's input and output names and the output's shape.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function readNPY(path) {
  const b = fs.readFileSync(path);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(path + ': not a .npy file');
  const major = b[6];
  const hl = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const off = major === 1 ? 10 : 12;
  const header = b.toString('latin1', off, off + hl);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(path + ': Fortran order');
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const body = b.subarray(off + hl);
  const n = shape.reduce((a, d) => a * d, 1);
  let data;
  switch (descr) {
    case '<f4':
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = body.readFloatLE(4 * i);
      break;
    case '<i8':
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = Number(body.readBigInt64LE(8 * i));
      break;
    case '|u1':
      data = Float32Array.from(body.subarray(0, n));
      break;
    default:
      throw new Error(path + ': dtype ' + descr + ' (want <f4, <i8 or |u1)');
  }
  return { shape, data };
}

function readLabels(path) {
  if (path.endsWith('.npy')) return Array.from(readNPY(path).data);
  const b = fs.readFileSync(path);
  if (b[0] !== 0 || b[1] !== 0 || b[2] !== 8 || b[3] !== 1) throw new Error(path + ': not a 1-D uint8 IDX file');
  const n = b.readUInt32BE(4);
  return Array.from(b.subarray(8, 8 + n));
}

function writeNPY(path, dims, data) {
  let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims.join(', ') + (dims.length === 1 ? ',' : '') + '), }';
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i], 4 * i);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

async function main() {
  const args = process.argv.slice(2);
  let classFile = null;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--class') classFile = args[++i];
    else pos.push(args[i]);
  }
  if (pos.length !== 3) throw new Error('usage: node run_onnx.js MODEL.onnx Z.npy [--class LABELS] OUT.npy');
  const [modelPath, zPath, outPath] = pos;
  const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'all' });
  const z = readNPY(zPath);
  if (z.shape.length !== 2) throw new Error(zPath + ': shape ' + z.shape + ', want [N, latent]');
  const feeds = { z: new ort.Tensor('float32', z.data, z.shape) };
  if (session.inputNames.includes('class')) {
    if (!classFile) throw new Error('the model is class-conditional: give --class LABELS');
    const labels = readLabels(classFile);
    if (labels.length !== z.shape[0]) throw new Error(classFile + ': ' + labels.length + ' labels for ' + z.shape[0] + ' codes');
    feeds.class = new ort.Tensor('int64', BigInt64Array.from(labels.map((v) => BigInt(v))), [labels.length]);
  }
  const results = await session.run(feeds);
  const name = session.outputNames[0];
  const out = results[name];
  writeNPY(outPath, out.dims, out.data);
  console.log(JSON.stringify({ inputs: session.inputNames, outputs: session.outputNames, dims: out.dims }));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
