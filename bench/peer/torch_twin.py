#!/usr/bin/python3
"""PyTorch twin of `minmax bench`: the same four workloads, timed the same way.

    /usr/bin/python3 bench/peer/torch_twin.py --workload dcgan28 --threads 1
    /usr/bin/python3 bench/peer/torch_twin.py --workload biggan32 --threads 1,2
    /usr/bin/python3 bench/peer/torch_twin.py --info       # which BLAS and OpenBLAS kernel
    /usr/bin/python3 bench/peer/torch_twin.py --workload toy --count    # FLOPs and parameters

Set-up (Debian): apt-get install -y python3-torch libopenblas0-openmp dataset-fashion-mnist.
scripts/compare.sh runs this twin and `minmax bench` side by side and prints
the ratios that README.md's "Speed against PyTorch" states.

Output: one JSON line per result on stdout, in the shape of `minmax bench
--json` ({"workload", "threads", "rate", "unit", "gflops", "windows",
"seconds"}) plus what was measured (torch version, BLAS, OpenBLAS kernel,
data); anything else goes to stderr.

Timing, as bench.Run in bench/bench.go: a warm-up of at least 0.5 s (and at
least two steps here: PyTorch creates Adam's state and oneDNN's primitives on
the first), then 5 windows (--windows) of at least 650 ms each; the rate is
the median over the windows (the middle one after sorting).

BLAS: PyTorch from Debian does its matrix products through whichever
libblas.so.3 the loader finds. The twin measures PyTorch as a user who
installed the OpenMP OpenBLAS gets it: unless --keep-blas-env is given it
starts itself again with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from
the environment (some machines pin OPENBLAS_CORETYPE=Haswell as a safety
default, which halves OpenBLAS's GEMM on AVX-512 CPUs) and with the OpenMP
build of OpenBLAS first on LD_LIBRARY_PATH. The kernel OpenBLAS then picked
for the CPU (openblas_get_corename) is printed with every result.

The workloads (../shared/bench/README.md of the minmax project defines them;
bench/bench.go builds minmax's side):

  mm1024    one float32 1024x1024 @ 1024x1024 product (call/s, 2.147 GFLOP).
  toy       one GAN step on a ring of 8 Gaussians (radius 2, std 0.02), batch
            512. G: z(256) -> 128 -> ReLU -> 128 -> ReLU -> 2 (49,666
            parameters); D: 2 -> 128 -> ReLU -> 128 -> ReLU -> 1 logit
            (17,025), as minmax's mlp architecture with its defaults. Adam 1e-3
            (0.5, 0.999) for both. D minimises mean softplus(-D(real)) + mean
            softplus(D(fake)) (real and fake through D separately); G, with
            D's weights frozen, the non-saturating mean softplus(-D(fake)) on
            the same fake batch and the updated D. 0.255 GFLOP per step
            (255,066,112, as bench/flops.go counts minmax's).
  dcgan28   the same step for the DCGAN on Fashion-MNIST 28x28, latent 100,
            batch 64, Adam 2e-4 (0.5, 0.999).
            G: Linear(100 -> 128*7*7, no bias) -> BN -> ReLU -> ConvT(128 -> 64,
            k4 s2 p1, no bias) -> BN -> ReLU -> ConvT(64 -> 1, k4 s2 p1) -> tanh
            (759,681 parameters); D: Conv(1 -> 64, k4 s2 p1) -> LReLU(0.2) ->
            Conv(64 -> 128, k4 s2 p1, no bias) -> BN -> LReLU(0.2) -> Linear(6272
            -> 1) (138,689), as minmax's dcgan architecture at width 64. BN in
            training mode. Real batches are drawn as an epoch-based trainer
            draws them (a fresh permutation of the 60,000 training images each
            epoch). 9.44 GFLOP per step (9,441,116,160, as bench/flops.go).
  biggan32  one step of the class-conditional BigGAN at 32x32x3, 10 classes,
            batch 64, width 64, latent 120: spectral norm (one power iteration
            per training forward, eps 1e-6) on every convolution, linear layer
            and D's class embedding; G's shared class embedding (10 x 128) with
            the hierarchical z (4 chunks of 30) into conditional batch norm;
            self-attention at 16x16 in G and D; projection discriminator;
            orthogonal initialisation; hinge loss; Adam 2e-4 (0, 0.999) eps 1e-8
            for both; EMA of G (0.9999). G has 395,396 parameters and D 270,530,
            as minmax's biggan architecture with its defaults (the test
            TestBigGANIsTheBenchmarkNetwork in arch/ checks minmax's side).
            The step is BigGAN-PyTorch's: G without gradient on fresh z and
            classes, D on generated and real images as one batch, hinge loss,
            D's Adam step; then fresh z and classes, G through the frozen D,
            G's Adam step, the EMA. Data: 50,000 fixed random images with
            random labels (the speed does not depend on the pixels).
            D's second block runs its 1x1 shortcut at 16x16 and then pools,
            as the workload's definition says; minmax pools first (the two
            commute: the same function), which saves 0.80 GFLOP, so PyTorch
            runs 127.76 GFLOP per step where bench/flops.go counts 126.95
            for minmax (spectral norm's power iterations, which PyTorch runs
            on every training forward pass, add a few MFLOP).

FLOPs (--count, and the numerator of "gflops"): the multiply-adds of every
matrix product and convolution one step runs in PyTorch, forward and
backward, 2 FLOP each, seen through a dispatch mode (count_flops); not the
elementwise work, normalisation or Adam.
"""
import argparse
import gzip
import json
import os
import sys
import time

# Debian's OpenMP build of OpenBLAS (libopenblas0-openmp) for this machine's architecture.
OPENBLAS_OPENMP = "/usr/lib/%s/openblas-openmp" % (__import__("sysconfig").get_config_var("MULTIARCH") or "x86_64-linux-gnu")
PINNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
REEXEC_MARK = "MINMAX_TWIN_REMOVED"  # set in the restarted process: what was taken out
SETUP_LINE = "apt-get update && apt-get install -y python3-torch libopenblas0-openmp dataset-fashion-mnist"
WORKLOADS = ("mm1024", "toy", "dcgan28", "biggan32")


def say(*a):
    print("twin:", *a, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------
# The BLAS environment. It must be settled before libtorch (and with it
# libblas.so.3) is loaded, so this runs before `import torch`.
# ----------------------------------------------------------------------------

def settle_blas_env(keep):
    """Restart this script without OpenBLAS's pinning variables and with the
    OpenMP OpenBLAS first on the library path, unless keep or already done."""
    if keep or REEXEC_MARK in os.environ:
        return
    env = dict(os.environ)
    removed = []
    for k in PINNING_VARS:
        if k in env:
            removed.append("%s=%s" % (k, env.pop(k)))
    path = [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p]
    moved = False
    if os.path.exists(os.path.join(OPENBLAS_OPENMP, "libblas.so.3")) and (not path or path[0] != OPENBLAS_OPENMP):
        env["LD_LIBRARY_PATH"] = ":".join([OPENBLAS_OPENMP] + [p for p in path if p != OPENBLAS_OPENMP])
        moved = True
    if not removed and not moved:
        return
    env[REEXEC_MARK] = " ".join(removed)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env)


def mapped_libraries():
    """Paths of the shared objects mapped into this process."""
    out = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 6 and fields[5].startswith("/") and fields[5] not in out:
                    out.append(fields[5])
    except OSError:
        pass
    return out


class BlasInfo:
    """Which BLAS PyTorch's products go to, read from the libraries this
    process mapped; for OpenBLAS, its kernel and configuration through
    ctypes, and a handle to set its thread count."""

    def __init__(self):
        import ctypes
        libs = mapped_libraries()
        names = [os.path.basename(p) for p in libs]
        self.lib = None
        self.core = None
        self.config = None
        self.path = None
        ob = [p for p in libs if os.path.basename(p).startswith("libopenblas")]
        if ob:
            self.path = ob[0]
            try:
                self.lib = ctypes.CDLL(self.path)
                for attr, fn in (("core", "openblas_get_corename"), ("config", "openblas_get_config")):
                    f = getattr(self.lib, fn)
                    f.restype = ctypes.c_char_p
                    setattr(self, attr, f().decode())
            except (OSError, AttributeError):
                self.lib = None
            if "openmp" in self.path or (self.config and "USE_OPENMP" in self.config):
                self.kind = "openblas-openmp"
            elif "serial" in self.path:
                self.kind = "openblas-serial"
            else:
                self.kind = "openblas-pthread"
        elif any("mkl" in n for n in names):
            self.kind = "mkl"
        elif any("blis" in n for n in names):
            self.kind = "blis"
        elif any(p.endswith("/blas/libblas.so.3") or "/blas/libblas.so" in p for p in libs):
            self.kind = "reference"  # Debian's netlib BLAS: slow, not what the ratios assume
        else:
            self.kind = "unknown"

    def set_threads(self, n):
        # The OpenMP OpenBLAS follows omp_set_num_threads (torch.set_num_threads);
        # the pthread build needs telling.
        if self.lib is not None and hasattr(self.lib, "openblas_set_num_threads"):
            import ctypes
            self.lib.openblas_set_num_threads(ctypes.c_int(n))

    def describe(self):
        if self.core:
            return "%s, kernel %s" % (self.kind, self.core)
        return self.kind


def environment(torch, blas):
    import re
    cap = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    removed = os.environ.get(REEXEC_MARK)
    return {
        "peer": "pytorch",
        "torch": torch.__version__,
        "blas": blas.kind,
        "openblas_core": blas.core,
        "openblas_config": blas.config,
        "openblas_library": blas.path,
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
        "removed_from_env": removed or None,
        "aten_cpu_capability": cap.group(1) if cap else None,
        "mkldnn": bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
    }


# ----------------------------------------------------------------------------
# Timing, as bench.Run in bench/bench.go.
# ----------------------------------------------------------------------------

def measure(step, windows, min_window=0.65, warmup=0.5, min_warmup_steps=2):
    """Warm up, then time `windows` windows of at least min_window seconds;
    returns (median rate, seconds timed)."""
    clock = time.perf_counter
    t0, n = clock(), 0
    while n < min_warmup_steps or clock() - t0 < warmup:
        step()
        n += 1
    rates, total = [], 0.0
    for _ in range(windows):
        n, t = 0, clock()
        while True:
            step()
            n += 1
            el = clock() - t
            if el >= min_window:
                break
        total += el
        rates.append(n / el)
    rates.sort()
    return rates[len(rates) // 2], total


# ----------------------------------------------------------------------------
# Counting the floating-point work of one step: every matrix product and
# convolution (forward and backward) that PyTorch actually runs, seen
# through a dispatch mode. Elementwise work, normalisation and Adam are not
# counted (as in the README's 9.4 GFLOP for dcgan28).
# ----------------------------------------------------------------------------

def count_flops(torch, run):
    """FLOPs (2 per multiply-add) of the products and convolutions that run()
    runs: {"total", "products" (mm, addmm, bmm, mv, ... of the forward and the
    backward passes), "convolutions" (forward), "convolution_backward"}."""
    from torch.utils._python_dispatch import TorchDispatchMode
    aten = torch.ops.aten
    tally = {"products": 0, "convolutions": 0, "convolution_backward": 0}

    def numel(shape):
        n = 1
        for s in shape:
            n *= s
        return n

    def conv_macs(x, w, y, transposed):
        # w is (Cout, Cin/groups, k...) for a convolution and (Cin, Cout/groups, k...)
        # for a transposed one; every output (input) element of the former
        # (latter) takes Cin/groups*k... (Cout/groups*k...) multiply-adds.
        k = numel(w.shape[2:])
        return (x.numel() if transposed else y.numel()) * w.shape[1] * k

    class Counter(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            f = func.overloadpacket
            if f in (aten.mm,):
                a, b = args[0], args[1]
                tally["products"] += 2 * a.shape[0] * a.shape[1] * b.shape[1]
            elif f in (aten.addmm,):
                a, b = args[1], args[2]
                tally["products"] += 2 * a.shape[0] * a.shape[1] * b.shape[1]
            elif f in (aten.bmm,):
                a, b = args[0], args[1]
                tally["products"] += 2 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
            elif f in (aten.baddbmm,):
                a, b = args[1], args[2]
                tally["products"] += 2 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
            elif f in (aten.mv, aten.addmv):
                m = args[0] if f is aten.mv else args[1]
                tally["products"] += 2 * m.shape[0] * m.shape[1]
            elif f in (aten.dot, aten.vdot):
                tally["products"] += 2 * args[0].numel()
            elif f is aten.convolution:
                tally["convolutions"] += 2 * conv_macs(args[0], args[1], out, args[6])
            elif f is aten.convolution_backward:
                grad_out, x, w = args[0], args[1], args[2]
                transposed, mask = args[7], args[10]
                tally["convolution_backward"] += 2 * conv_macs(x, w, grad_out, transposed) * (int(mask[0]) + int(mask[1]))
            return out

    with Counter():
        run()
    tally["total"] = sum(tally.values())
    return tally


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------

def read_idx_images(path):
    import numpy as np
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 16 or raw[:4] != b"\x00\x00\x08\x03":
        raise ValueError("%s: not an IDX file of uint8 images (magic %r)" % (path, raw[:4]))
    n, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    if len(raw) != 16 + n * rows * cols:
        raise ValueError("%s: %d bytes, expected %d for %d images of %dx%d" % (path, len(raw), 16 + n * rows * cols, n, rows, cols))
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 1, rows, cols)


def fashion_mnist_dirs(override):
    """Where minmax looks for Fashion-MNIST (imgdata.Open): only
    $MINMAX_DATA/fashion-mnist when MINMAX_DATA is set, else the Debian
    package's folder, then the user cache."""
    if override:
        return [override]
    root = os.environ.get("MINMAX_DATA")
    if root:
        return [os.path.join(root, "fashion-mnist")]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return ["/usr/share/datasets/fashion-mnist", os.path.join(cache, "minmax", "fashion-mnist")]


def find_train_images(d):
    for sep in ("-", "."):
        for ext in (".gz", ""):
            p = os.path.join(d, "train-images" + sep + "idx3-ubyte" + ext)
            if os.path.isfile(p):
                return p
    return None


def fashion_mnist(torch, override):
    """The 60,000 training images as a uint8 tensor (N, 1, 28, 28) and a
    description; random images, with a warning, when the set is missing."""
    dirs = fashion_mnist_dirs(override)
    for d in dirs:
        p = find_train_images(d)
        if p:
            return torch.from_numpy(read_idx_images(p).copy()), "fashion-mnist (%s)" % p
    say("Fashion-MNIST not found (looked in %s); timing dcgan28 on 60,000 random images instead. "
        "The speed does not depend on the pixels, but `minmax bench --workload dcgan28` needs the real set: %s"
        % (" and ".join(dirs), SETUP_LINE))
    g = torch.Generator().manual_seed(7)
    return torch.randint(0, 256, (60000, 1, 28, 28), dtype=torch.uint8, generator=g), "random images (Fashion-MNIST not found)"


class EpochBatches:
    """Batches of indices drawn as an epoch-based trainer draws them: a fresh
    permutation each epoch, the last partial batch dropped."""

    def __init__(self, torch, n, batch):
        self.torch, self.n, self.batch = torch, n, batch
        self.perm, self.pos = torch.randperm(n), 0

    def next(self):
        if self.pos + self.batch > self.n:
            self.perm, self.pos = self.torch.randperm(self.n), 0
        idx = self.perm[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return idx


# ----------------------------------------------------------------------------
# Workloads: each returns (step, info) where info has the unit, and may have
# parameter counts and the data used.
# ----------------------------------------------------------------------------

def count_params(m):
    return sum(p.numel() for p in m.parameters())


def nonsaturating_step(torch, G, D, opt_g, opt_d, real_batch, latent_batch):
    """One step of the seed's game with the non-saturating G loss, as both
    minmax's trainer and PyTorch's DCGAN example take it: G's forward pass
    once; D on real and on the (detached) generated batch, separately; D's
    Adam step; then G's loss on the same generated batch through the updated
    D with D's weights frozen; G's Adam step."""
    F = torch.nn.functional
    d_params = list(D.parameters())

    def step():
        real = real_batch()
        fake = G(latent_batch())
        opt_d.zero_grad(set_to_none=True)
        loss_d = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
        loss_d.backward()
        opt_d.step()
        for p in d_params:
            p.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        loss_g = F.softplus(-D(fake)).mean()
        loss_g.backward()
        opt_g.step()
        for p in d_params:
            p.requires_grad_(True)
        last["d"], last["g"] = loss_d, loss_g

    # The step keeps its last losses, as the ruler's peer does to report
    # them; it changes how PyTorch's CPU allocator reuses memory from one
    # step to the next, and with it the rate: alternated six times on
    # 2026-12-06, the toy step ran at 140-232 step/s (median 162) without
    # and 164-234 (median 228) with, the ruler's peer at 163-236 (222).
    last = {}
    return step


def setup_mm1024(torch, args):
    n = 1024
    a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)

    def step():
        torch.mm(a, b, out=c)

    return step, {"unit": "call/s", "flops": 2.0 * n * n * n}


def setup_toy(torch, args):
    nn = torch.nn
    batch, latent, hidden = 512, 256, 128

    def mlp(sizes):
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i + 2 < len(sizes):
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)

    G = mlp([latent, hidden, hidden, 2])
    D = mlp([2, hidden, hidden, 1])
    adam = dict(lr=1e-3, betas=(0.5, 0.999))
    opt_g, opt_d = torch.optim.Adam(G.parameters(), **adam), torch.optim.Adam(D.parameters(), **adam)
    angles = torch.arange(8, dtype=torch.float32) * (2 * torch.pi / 8)
    means = 2.0 * torch.stack([angles.cos(), angles.sin()], 1)

    def real_batch():
        return means[torch.randint(0, 8, (batch,))] + 0.02 * torch.randn(batch, 2)

    def latent_batch():
        return torch.randn(batch, latent)

    step = nonsaturating_step(torch, G, D, opt_g, opt_d, real_batch, latent_batch)
    return step, {"unit": "step/s", "params_g": count_params(G), "params_d": count_params(D)}


def setup_dcgan28(torch, args):
    nn = torch.nn
    F = torch.nn.functional
    batch, latent = 64, 100

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(latent, 128 * 7 * 7, bias=False)
            self.bn0 = nn.BatchNorm2d(128)
            self.up1 = nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.up2 = nn.ConvTranspose2d(64, 1, 4, 2, 1)

        def forward(self, z):
            h = F.relu(self.bn0(self.fc(z).view(z.shape[0], 128, 7, 7)))
            h = F.relu(self.bn1(self.up1(h)))
            return torch.tanh(self.up2(h))

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 64, 4, 2, 1)
            self.conv2 = nn.Conv2d(64, 128, 4, 2, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(128)
            self.fc = nn.Linear(128 * 7 * 7, 1)

        def forward(self, x):
            h = F.leaky_relu(self.conv1(x), 0.2)
            h = F.leaky_relu(self.bn2(self.conv2(h)), 0.2)
            return self.fc(h.flatten(1))

    def init(m):  # DCGAN's: weights N(0, 0.02), batch-norm scales N(1, 0.02), biases 0
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)

    G, D = Generator(), Discriminator()
    G.apply(init)
    D.apply(init)
    adam = dict(lr=2e-4, betas=(0.5, 0.999))
    opt_g, opt_d = torch.optim.Adam(G.parameters(), **adam), torch.optim.Adam(D.parameters(), **adam)
    images, source = fashion_mnist(torch, args.data)
    order = EpochBatches(torch, images.shape[0], batch)

    def real_batch():
        return images.index_select(0, order.next()).float().div_(127.5).sub_(1.0)

    def latent_batch():
        return torch.randn(batch, latent)

    step = nonsaturating_step(torch, G, D, opt_g, opt_d, real_batch, latent_batch)
    return step, {"unit": "step/s", "params_g": count_params(G), "params_d": count_params(D), "data": source}


def setup_biggan32(torch, args):
    nn = torch.nn
    F = torch.nn.functional
    batch, latent, classes, width, shared_dim, n_images = 64, 120, 10, 64, 128, 50000
    chunk = latent // 4  # one chunk for G's first layer, one per up-block
    ydim = chunk + shared_dim

    def sn(m):
        return nn.utils.spectral_norm(m, eps=1e-6)

    def conv(cin, cout, k, bias=True):
        return sn(nn.Conv2d(cin, cout, k, 1, k // 2, bias=bias))

    class CondBN(nn.Module):
        """Batch norm without its own scale and shift; they come from y."""

        def __init__(self, c):
            super().__init__()
            self.norm = nn.BatchNorm2d(c, affine=False)
            self.scale = sn(nn.Linear(ydim, c, bias=False))
            self.shift = sn(nn.Linear(ydim, c, bias=False))

        def forward(self, x, y):
            s = 1.0 + self.scale(y)
            b = self.shift(y)
            return self.norm(x) * s[:, :, None, None] + b[:, :, None, None]

    class SelfAttention(nn.Module):
        """SAGAN's attention: keys and values pooled 2x2, output scaled by a
        learned gamma that starts at 0."""

        def __init__(self, c):
            super().__init__()
            self.theta = conv(c, c // 8, 1, bias=False)
            self.phi = conv(c, c // 8, 1, bias=False)
            self.g = conv(c, c // 2, 1, bias=False)
            self.o = conv(c // 2, c, 1, bias=False)
            self.gamma = nn.Parameter(torch.zeros(()))

        def forward(self, x):
            n, c, h, w = x.shape
            q = self.theta(x).flatten(2)                         # (n, c/8, hw)
            k = F.max_pool2d(self.phi(x), 2).flatten(2)          # (n, c/8, hw/4)
            v = F.max_pool2d(self.g(x), 2).flatten(2)            # (n, c/2, hw/4)
            attn = torch.softmax(torch.bmm(q.transpose(1, 2), k), dim=-1)  # (n, hw, hw/4)
            o = torch.bmm(v, attn.transpose(1, 2)).view(n, c // 2, h, w)
            return x + self.gamma * self.o(o)

    class UpBlock(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.bn1, self.conv1 = CondBN(c), conv(c, c, 3)
            self.bn2, self.conv2 = CondBN(c), conv(c, c, 3)
            self.shortcut = conv(c, c, 1)

        def forward(self, x, y):
            h = F.interpolate(F.relu(self.bn1(x, y)), scale_factor=2, mode="nearest")
            h = self.conv2(F.relu(self.bn2(self.conv1(h), y)))
            return h + self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.shared = nn.Embedding(classes, shared_dim)  # no spectral norm, as BigGAN
            self.fc = sn(nn.Linear(chunk, width * 4 * 4))
            self.blocks = nn.ModuleList([UpBlock(width) for _ in range(3)])  # 4 -> 8 -> 16 -> 32
            self.attention = SelfAttention(width)  # after the second block, at 16x16
            self.bn = nn.BatchNorm2d(width)
            self.out = conv(width, 3, 3)

        def forward(self, z, c):
            zs = z.split(chunk, dim=1)
            e = self.shared(c)
            h = self.fc(zs[0]).view(z.shape[0], width, 4, 4)
            for i, block in enumerate(self.blocks):
                h = block(h, torch.cat([zs[i + 1], e], dim=1))
                if i == 1:
                    h = self.attention(h)
            return torch.tanh(self.out(F.relu(self.bn(h))))

    class DownBlock(nn.Module):
        """D's residual block. The first has no pre-activation and pools
        before its 1x1 shortcut; the others pre-activate and pool after it;
        blocks that neither pool nor change width have an identity shortcut."""

        def __init__(self, cin, cout, down, first):
            super().__init__()
            self.down, self.first = down, first
            self.conv1, self.conv2 = conv(cin, cout, 3), conv(cout, cout, 3)
            self.shortcut = conv(cin, cout, 1) if down or cin != cout else None

        def forward(self, x):
            h = x if self.first else F.relu(x)
            h = self.conv2(F.relu(self.conv1(h)))
            if self.down:
                h = F.avg_pool2d(h, 2)
            s = x
            if self.first:
                s = F.avg_pool2d(s, 2) if self.down else s
                s = self.shortcut(s) if self.shortcut is not None else s
            else:
                s = self.shortcut(s) if self.shortcut is not None else s
                s = F.avg_pool2d(s, 2) if self.down else s
            return h + s

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.block1 = DownBlock(3, width, True, True)          # 32 -> 16
            self.attention = SelfAttention(width)                  # at 16x16
            self.block2 = DownBlock(width, width, True, False)     # 16 -> 8
            self.block3 = DownBlock(width, width, False, False)    # 8x8
            self.block4 = DownBlock(width, width, False, False)    # 8x8
            self.fc = sn(nn.Linear(width, 1))
            self.embed = sn(nn.Embedding(classes, width))         # the projection

        def forward(self, x, c):
            h = self.block4(self.block3(self.block2(self.attention(self.block1(x)))))
            h = F.relu(h).sum(dim=(2, 3))
            return self.fc(h).squeeze(1) + (self.embed(c) * h).sum(1)

    def orthogonal(model):
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.Embedding)):
                nn.init.orthogonal_(getattr(m, "weight_orig", m.weight))

    G, D = Generator(), Discriminator()
    orthogonal(G)
    orthogonal(D)
    G_ema = Generator()
    G_ema.load_state_dict(G.state_dict())
    G_ema.requires_grad_(False)
    ema_params = list(zip(G_ema.parameters(), G.parameters()))
    ema_buffers = list(zip(G_ema.buffers(), G.buffers()))
    adam = dict(lr=2e-4, betas=(0.0, 0.999), eps=1e-8)
    opt_g, opt_d = torch.optim.Adam(G.parameters(), **adam), torch.optim.Adam(D.parameters(), **adam)

    gen = torch.Generator().manual_seed(args.seed + 1)
    images = torch.randint(0, 256, (n_images, 3, 32, 32), dtype=torch.uint8, generator=gen)
    labels = torch.randint(0, classes, (n_images,), generator=gen)
    order = EpochBatches(torch, n_images, batch)
    d_params = list(D.parameters())
    decay = 0.9999

    def step():
        # (1) D: generated images without gradient, then D on generated and real as one batch.
        idx = order.next()
        x = images.index_select(0, idx).float().div_(127.5).sub_(1.0)
        y_real = labels.index_select(0, idx)
        z, y_fake = torch.randn(batch, latent), torch.randint(0, classes, (batch,))
        with torch.no_grad():
            fake = G(z, y_fake)
        out = D(torch.cat([fake, x]), torch.cat([y_fake, y_real]))
        loss_d = F.relu(1.0 + out[:batch]).mean() + F.relu(1.0 - out[batch:]).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # (2) G: fresh z and classes, through the updated D with its weights frozen.
        for p in d_params:
            p.requires_grad_(False)
        z, y_fake = torch.randn(batch, latent), torch.randint(0, classes, (batch,))
        loss_g = -D(G(z, y_fake), y_fake).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for p in d_params:
            p.requires_grad_(True)
        # (3) the EMA of G (batch-norm statistics copied).
        with torch.no_grad():
            for e, p in ema_params:
                e.mul_(decay).add_(p, alpha=1.0 - decay)
            for e, b in ema_buffers:
                e.copy_(b)
        last["d"], last["g"] = loss_d, loss_g  # as nonsaturating_step

    last = {}
    return step, {"unit": "step/s", "params_g": count_params(G), "params_d": count_params(D),
                  "data": "50,000 random images with random labels"}


SETUPS = {"mm1024": setup_mm1024, "toy": setup_toy, "dcgan28": setup_dcgan28, "biggan32": setup_biggan32}


# ----------------------------------------------------------------------------

def parse_threads(values):
    out = []
    for v in values:
        for part in str(v).split(","):
            part = part.strip()
            if part:
                n = int(part)
                if n < 1:
                    raise ValueError("--threads must be at least 1, got %d" % n)
                out.append(n)
    return out or [1]


def main():
    ap = argparse.ArgumentParser(
        description="PyTorch twin of `minmax bench`: " + ", ".join(WORKLOADS) + " (see the module docstring)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", "--bench", dest="workloads", action="append",
                    help="workload to time (repeat, or comma-separated): " + ", ".join(WORKLOADS))
    ap.add_argument("--threads", action="append", default=None,
                    help="thread counts, e.g. 1 or 1,2 (default 1)")
    ap.add_argument("--windows", type=int, default=5, help="timed windows; the median is reported (default 5)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=None,
                    help="folder with Fashion-MNIST's train-images-idx3-ubyte[.gz] (default: where minmax looks)")
    ap.add_argument("--keep-blas-env", action="store_true",
                    help="measure with the BLAS environment as it is (OPENBLAS_CORETYPE, LD_LIBRARY_PATH)")
    ap.add_argument("--info", action="store_true", help="print the PyTorch and BLAS in use as one JSON line and exit")
    ap.add_argument("--count", action="store_true",
                    help="print each workload's FLOPs per unit and parameter counts as JSON and exit (no timing)")
    args = ap.parse_args()

    workloads = []
    for w in args.workloads or ([] if args.info else ["mm1024"]):
        workloads += [x.strip() for x in w.split(",") if x.strip()]
    for w in workloads:
        if w not in SETUPS:
            ap.error("unknown workload %r; want one of %s" % (w, ", ".join(WORKLOADS)))
    try:
        threads = parse_threads(args.threads or ["1"])
    except ValueError as e:
        ap.error(str(e))
    if args.windows < 1:
        ap.error("--windows must be at least 1")

    settle_blas_env(args.keep_blas_env)
    # Thread pools read these when libtorch (OpenMP) loads; each measurement
    # then sets its own count with torch.set_num_threads.
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[k] = str(max(threads))
    try:
        import torch
    except ImportError as e:
        sys.exit("torch_twin.py: cannot import torch with %s (%s). On Debian: %s, and run it with /usr/bin/python3"
                 % (sys.executable, e, SETUP_LINE))

    blas = BlasInfo()
    env = environment(torch, blas)
    if args.info:
        print(json.dumps(env), flush=True)
        return
    if blas.kind == "reference":
        say("PyTorch is using the reference (netlib) BLAS, many times slower than OpenBLAS: " + SETUP_LINE)
    note = ""
    if env["removed_from_env"]:
        note = " (removed from the environment: %s)" % env["removed_from_env"]
    elif env["openblas_coretype_env"]:
        note = " (OPENBLAS_CORETYPE=%s kept by --keep-blas-env)" % env["openblas_coretype_env"]
    say("PyTorch %s, BLAS %s%s" % (torch.__version__, blas.describe(), note))

    for w in workloads:
        for n in threads:
            torch.manual_seed(args.seed)
            torch.set_num_threads(n)
            blas.set_threads(n)
            step, info = SETUPS[w](torch, args)
            if args.count:
                tally = {"total": info["flops"]} if info.get("flops") else count_flops(torch, step)
                rec = {"workload": w, "gflop_per_unit": round(tally["total"] / 1e9, 4),
                       "gflop_by_kind": {k: round(v / 1e9, 4) for k, v in tally.items() if k != "total"}}
                rec.update({k: v for k, v in info.items() if k not in ("unit", "flops")})
                print(json.dumps(rec), flush=True)
                break
            flops = info.get("flops") or count_flops(torch, step)["total"]
            rate, seconds = measure(step, args.windows)
            rec = {"workload": w, "threads": n, "rate": rate, "unit": info["unit"],
                   "gflops": rate * flops / 1e9, "windows": args.windows, "seconds": round(seconds, 3),
                   "torch": env["torch"], "blas": env["blas"], "openblas_core": env["openblas_core"],
                   "torch_threads": torch.get_num_threads()}
            if "data" in info:
                rec["data"] = info["data"]
            print(json.dumps(rec), flush=True)
            say("%-8s threads=%d  %.3f %s  (%.1f GFLOP/s)  median of %d windows, %.1f s timed"
                % (w, n, rate, info["unit"], rate * flops / 1e9, args.windows, seconds))


if __name__ == "__main__":
    main()
