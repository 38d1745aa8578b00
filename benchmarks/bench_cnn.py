"""Speed of scratchdl's convolution engine (scratchdl.conv) against PyTorch on the CPU.

    python benchmarks/bench_cnn.py                 # two threads each, 5 repeats (median)
    python benchmarks/bench_cnn.py --threads 1 --repeats 9
    python benchmarks/bench_cnn.py --only train --repeats 15
    python benchmarks/bench_cnn.py --no-torch

Three measurements, all in float32, each framework in its own process with the same
number of threads (OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = torch.set_num_threads):

(a) training: one step of SimpleConvNet (conv 30 filters 5x5 -> ReLU -> max-pool 2 ->
    affine 100 -> ReLU -> affine 10) on shuffled mini-batches of 100 MNIST images:
    forward, softmax cross-entropy, backward, Adam (learning rate 1e-3), loss read back;
(b) inference: the same network's scores for the MNIST test images, 1000 at a time;
(c) one Conv2D layer alone, forward and backward (with the input gradient, as in a
    middle layer), batch 100, at the sizes of Saito's DeepConvNet (3x3 kernels, padding 1).

Each is warmed up, then timed ``--repeats`` times, the frameworks taking turns so a burst
of load from other programs hits both alike; the median is reported. PyTorch is optional
(a dev-only measuring stick, not a dependency of the book): without it only scratchdl runs.
"""
import argparse
import importlib.metadata
import importlib.util
import multiprocessing
import os
import platform
import statistics
import time

import numpy as np

BATCH_SIZE = 100
INFERENCE_BATCH = 1000
LEARNING_RATE = 1e-3
# (in_channels, out_channels, height = width) of DeepConvNet's convolutions (Saito, ch. 8)
CONV_LAYERS = [(16, 16, 28), (32, 32, 14), (64, 64, 8)]


def load_data():
    """MNIST as float32 (N, 1, 28, 28) in [0, 1], or random data of that shape."""
    try:
        from scratchdl.datasets import load_mnist
        (train_x, train_y), (test_x, test_y) = load_mnist(flatten=False, dtype=np.float32)
        source = f"MNIST, {len(train_x)} training and {len(test_x)} test images (scratchdl.datasets.load_mnist)"
    except Exception as error:  # no data file: time on random data of the same shape
        rng = np.random.default_rng(0)
        train_x, test_x = rng.random((60000, 1, 28, 28), dtype=np.float32), rng.random((10000, 1, 28, 28), dtype=np.float32)
        train_y, test_y = rng.integers(0, 10, 60000), rng.integers(0, 10, 10000)
        source = f"RANDOM data shaped like MNIST (MNIST unavailable: {type(error).__name__}: {error})"
    return train_x, train_y, test_x, test_y, source


def batch_indices(n, rng):
    """Shuffled mini-batch indices, epoch after epoch."""
    while True:
        order = rng.permutation(n)
        for start in range(0, n - BATCH_SIZE + 1, BATCH_SIZE):
            yield order[start:start + BATCH_SIZE]


def timer(function):
    """run(count) -> seconds for ``count`` calls of function()."""
    def run(count):
        start = time.perf_counter()
        for _ in range(count):
            function()
        return time.perf_counter() - start
    return run


def scratchdl_runners(train_x, train_y, test_x, test_y):
    from scratchdl.conv import Conv2D, MaxPool2D
    from scratchdl.layers import Affine, Flatten, ReLU
    from scratchdl.models import Sequential
    from scratchdl.optimizers import Adam

    rng = np.random.default_rng(0)
    dtype = np.float32
    model = Sequential([Conv2D(1, 30, 5, rng=rng, dtype=dtype), ReLU(), MaxPool2D(2), Flatten(),
                        Affine(30 * 12 * 12, 100, rng=rng, dtype=dtype), ReLU(),
                        Affine(100, 10, rng=rng, dtype=dtype)])
    optimizer = Adam(learning_rate=LEARNING_RATE)
    batches = batch_indices(len(train_x), rng)

    def train_step():
        index = next(batches)
        model.loss(train_x[index], train_y[index], train=True)
        optimizer.step(model.params, model.backward())

    def infer():
        for start in range(0, len(test_x), INFERENCE_BATCH):
            model.predict(test_x[start:start + INFERENCE_BATCH])

    runners = {"train": timer(train_step), "infer": timer(infer)}
    for c_in, c_out, size in CONV_LAYERS:
        conv = Conv2D(c_in, c_out, 3, padding=1, rng=rng, dtype=dtype)
        x = rng.standard_normal((BATCH_SIZE, c_in, size, size), dtype=dtype)
        dout = rng.standard_normal((BATCH_SIZE, c_out, size, size), dtype=dtype)

        def conv_step(conv=conv, x=x, dout=dout):
            conv.forward(x)
            conv.backward(dout)
        runners[f"conv{c_in}"] = timer(conv_step)

    def accuracy():
        return float(np.mean(model.predict(test_x).argmax(axis=1) == test_y))
    return runners, accuracy


def torch_runners(train_x, train_y, test_x, test_y):
    import torch
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(30 * 12 * 12, 100), nn.ReLU(), nn.Linear(100, 10))
    for module in model:
        if isinstance(module, (nn.Conv2d, nn.Linear)):   # He-normal weights, zero biases, like scratchdl
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            nn.init.zeros_(module.bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(train_x), torch.from_numpy(train_y.astype(np.int64))
    test = torch.from_numpy(test_x)
    batches = batch_indices(len(train_x), np.random.default_rng(0))

    def train_step():
        index = torch.from_numpy(next(batches))
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(tx[index]), ty[index])
        loss.backward()
        optimizer.step()
        loss.item()   # scratchdl's loss is a Python float too

    def infer():
        with torch.inference_mode():
            for start in range(0, len(test), INFERENCE_BATCH):
                model(test[start:start + INFERENCE_BATCH])

    runners = {"train": timer(train_step), "infer": timer(infer)}
    for c_in, c_out, size in CONV_LAYERS:
        conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        x = torch.randn(BATCH_SIZE, c_in, size, size, requires_grad=True)
        dout = torch.randn(BATCH_SIZE, c_out, size, size)

        def conv_step(conv=conv, x=x, dout=dout):
            conv(x).backward(dout)
        runners[f"conv{c_in}"] = timer(conv_step)

    def accuracy():
        with torch.inference_mode():
            return (model(test).argmax(1).numpy() == test_y).mean()
    return runners, accuracy


def worker(connection, framework, threads):
    """Runs in its own process, so numpy's and PyTorch's thread pools never compete: waits
    for (name, count) requests and answers with the seconds taken."""
    if framework == "pytorch":
        import torch
        torch.set_num_threads(threads)
    data = load_data()
    make = scratchdl_runners if framework == "scratchdl" else torch_runners
    runners, accuracy = make(*data[:4])
    connection.send(data[4])
    while True:
        request = connection.recv()
        if request is None:
            connection.send(accuracy())
            return
        name, count = request
        connection.send(runners[name](count))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS / PyTorch threads for both (default 2)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=60, help="training steps per timed repeat")
    parser.add_argument("--conv-steps", type=int, default=10, help="Conv2D forward+backward per timed repeat")
    parser.add_argument("--only", choices=["train", "infer", "conv"], help="run one of the three measurements")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    args = parser.parse_args()
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)   # before a worker process loads its BLAS

    frameworks = ["scratchdl"]
    # only look for torch here: importing it would start its thread pool in this process
    if not args.no_torch and importlib.util.find_spec("torch") is not None:
        frameworks.append("pytorch")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; numpy {np.__version__}; "
          f"{args.threads} threads per framework, each in its own process")
    if "pytorch" in frameworks:
        print(f"PyTorch {importlib.metadata.version('torch')}")
    elif not args.no_torch:
        print("PyTorch was not found: timing scratchdl only")

    context = multiprocessing.get_context("spawn")
    workers = {}
    for framework in frameworks:
        parent, child = context.Pipe()
        process = context.Process(target=worker, args=(child, framework, args.threads), daemon=True)
        process.start()
        workers[framework] = (parent, process)
    sources = [parent.recv() for parent, _ in workers.values()]
    print(f"data: {sources[0]}\n")

    # (name, calls per repeat, samples per call, label)
    jobs = [("train", args.steps, BATCH_SIZE, "(a) SimpleConvNet training step, batch 100, Adam"),
            ("infer", 1, 10000, "(b) SimpleConvNet inference, 10,000 test images in batches of 1000")]
    jobs += [(f"conv{c_in}", args.conv_steps, BATCH_SIZE,
              f"(c) Conv2D {c_in}->{c_out} 3x3 pad 1 at {size}x{size}, forward+backward, batch 100")
             for c_in, c_out, size in CONV_LAYERS]
    if args.only:
        jobs = [job for job in jobs if job[0].startswith(args.only)]
    rates = {(job[0], f): [] for job in jobs for f in frameworks}
    for name, count, samples, _ in jobs:
        for parent, _ in workers.values():      # warm-up: caches, allocator, thread pools
            parent.send((name, max(1, count // 3)))
            parent.recv()
        for _ in range(args.repeats):
            for framework in frameworks:          # take turns
                parent = workers[framework][0]
                parent.send((name, count))
                rates[name, framework].append(count * samples / parent.recv())
    accuracy = {}
    for framework, (parent, process) in workers.items():
        parent.send(None)
        accuracy[framework] = parent.recv()
        process.join()

    print(f"{'':74} {'scratchdl':>10} {'PyTorch':>10} {'ratio':>7}")
    print(f"{'samples per second (median of ' + str(args.repeats) + ')':74} {'':>10} {'':>10} {'sdl/pt':>7}")
    for name, _, _, label in jobs:
        ours = statistics.median(rates[name, "scratchdl"])
        if "pytorch" in frameworks:
            theirs = statistics.median(rates[name, "pytorch"])
            print(f"{label:74} {ours:10,.0f} {theirs:10,.0f} {ours / theirs:6.2f}x")
        else:
            print(f"{label:74} {ours:10,.0f} {'-':>10} {'-':>7}")
    print("\ntest accuracy after the timed training (a sanity check that both train the same network): "
          + ", ".join(f"{f} {a:.3f}" for f, a in accuracy.items()))


if __name__ == "__main__":
    main()
