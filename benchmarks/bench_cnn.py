"""Speed of scratchdl's convolutional networks (scratchdl.conv) against PyTorch on the CPU.

    python benchmarks/bench_cnn.py                 # 1 and 2 threads, 9 repeats each
    python benchmarks/bench_cnn.py --threads 2 --repeats 15 --only train
    python benchmarks/bench_cnn.py --profile       # where the time of one training step goes
    python benchmarks/bench_cnn.py --no-torch

Three measurements, all in float32, batch 100:

(a) training: one step of scratchdl.models.SimpleConvNet (conv 30 filters 5x5 -> max-pool 2
    -> ReLU -> affine 100 -> ReLU -> affine 10; Saito's network with the first ReLU after the
    pooling, which computes the same function) on shuffled MNIST training images:
    forward, softmax cross-entropy, backward, Adam (learning rate 1e-3), loss read back;
    PyTorch trains the same network from the same initial weights;
(b) inference: the same network's scores for MNIST test images, 1000 at a time;
(c) one Conv2D layer alone, forward and backward (with the input gradient, as in a middle
    layer), at the sizes of Saito's DeepConvNet (3x3 kernels, padding 1).

Every configuration (framework x thread count) runs in its own process with its thread
count set before numpy or PyTorch load: PyTorch gets OMP_NUM_THREADS = torch.set_num_threads;
scratchdl gets SCRATCHDL_NUM_THREADS (its own threads, scratchdl.parallel) with BLAS on one
thread, or with --scratchdl-threads blas, OPENBLAS_NUM_THREADS (threads inside the matrix
products only). Each measurement is timed ``--repeats`` times, the configurations taking turns, so a burst
of load from other programs hits all of them alike; every repeat comes right after an
untimed run of a third of its length (caches, allocator, and time for the spinning threads
of the configuration before to fall asleep).
Reported: the median samples/s with the range (min-max) over the repeats, and the ratio
scratchdl / PyTorch as the ratio of the medians with the range of the per-repeat ratios
(each repeat's scratchdl time against the PyTorch time taken right after it). PyTorch is
optional (a dev-only measuring stick, not a dependency of the book): without it only
scratchdl runs.
"""
import argparse
import os
import platform
import statistics
import time
from itertools import cycle

import numpy as np
from threads import SCRATCHDL_MODES, PartTimer, frameworks, spread, start  # benchmarks/threads.py

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


def simple_convnet():
    from scratchdl.models import SimpleConvNet
    return SimpleConvNet(dtype=np.float32, rng=0)


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
    from scratchdl.conv import Conv2D
    from scratchdl.optimizers import Adam

    model = simple_convnet()
    optimizer = Adam(learning_rate=LEARNING_RATE)
    batches = batch_indices(len(train_x), np.random.default_rng(0))

    def train_step():
        index = next(batches)
        model.loss(train_x[index], train_y[index], train=True)
        optimizer.step(model.params, model.backward())

    test_batches = cycle(range(0, len(test_x), INFERENCE_BATCH))

    def infer():
        start = next(test_batches)
        model.predict(test_x[start:start + INFERENCE_BATCH])

    runners = {"train": timer(train_step), "infer": timer(infer)}
    rng = np.random.default_rng(0)
    for c_in, c_out, size in CONV_LAYERS:
        conv = Conv2D(c_in, c_out, 3, padding=1, rng=rng, dtype=np.float32)
        x = rng.standard_normal((BATCH_SIZE, c_in, size, size), dtype=np.float32)
        dout = rng.standard_normal((BATCH_SIZE, c_out, size, size), dtype=np.float32)

        def conv_step(conv=conv, x=x, dout=dout):
            conv.forward(x)
            conv.backward(dout)
        runners[f"conv{c_in}"] = timer(conv_step)

    def accuracy():
        return model.accuracy(test_x, test_y)
    return runners, accuracy


def torch_runners(train_x, train_y, test_x, test_y):
    import torch
    nn = torch.nn
    # the same layers, starting from scratchdl's initial weights (Linear keeps W transposed)
    start = simple_convnet().params
    model = nn.Sequential(nn.Conv2d(1, 30, 5), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(30 * 12 * 12, 100), nn.ReLU(), nn.Linear(100, 10))
    with torch.no_grad():
        for index, transpose in ((0, False), (4, True), (6, True)):
            weight = start[f"{index}.W"]
            model[index].weight.copy_(torch.from_numpy(weight.T.copy() if transpose else weight))
            model[index].bias.copy_(torch.from_numpy(start[f"{index}.b"]))
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

    test_batches = cycle(range(0, len(test), INFERENCE_BATCH))

    def infer():
        start = next(test_batches)
        with torch.inference_mode():
            model(test[start:start + INFERENCE_BATCH])

    runners = {"train": timer(train_step), "infer": timer(infer)}
    torch.manual_seed(0)
    for c_in, c_out, size in CONV_LAYERS:
        conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        x = torch.randn(BATCH_SIZE, c_in, size, size, requires_grad=True)
        dout = torch.randn(BATCH_SIZE, c_out, size, size)

        def conv_step(conv=conv, x=x, dout=dout):
            conv(x).backward(dout)
        runners[f"conv{c_in}"] = timer(conv_step)

    def accuracy():
        with torch.inference_mode():
            return float((model(test).argmax(1).numpy() == test_y).mean())
    return runners, accuracy


def worker(connection, framework, threads):
    """Runs in its own process, so numpy's and PyTorch's thread pools never compete: waits
    for (name, warm-up, count) requests: runs the measurement ``warm-up`` times untimed,
    then ``count`` times, and answers with the seconds those took."""
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
        name, warmup, count = request
        runners[name](warmup)
        connection.send(runners[name](count))


PART = "    of which, alone: "      # a part of the row above, timed on its own (not in the sum)


def profile_worker(connection):
    """Where the time of one scratchdl training step goes: each layer's forward and
    backward, the loss and Adam; and the first Conv2D's forward taken apart, its im2col and
    its matrix product timed on their own. Waits for step counts, answers with the times."""
    from scratchdl.conv import im2col
    from scratchdl.optimizers import Adam

    train_x, train_y, *_ = load_data()
    model, optimizer = simple_convnet(), Adam(learning_rate=LEARNING_RATE)
    conv = model.layers[0]
    batches = batch_indices(len(train_x), np.random.default_rng(0))
    timed = PartTimer()
    times = timed.times

    def step():
        index = next(batches)
        x = images = timed("take the batch", lambda: train_x[index])
        for i, layer in enumerate(model.layers):
            x = timed(f"forward  {i} {layer!r}", layer.forward, x, train=True)
            if i == 0:
                col = timed(PART + "im2col copy", im2col, images, conv.kernel_size)
                timed(PART + "matrix product W @ col", np.matmul,
                      conv.params["W"].reshape(conv.out_channels, -1), col)
        timed("loss (softmax cross-entropy)", model.loss_layer.forward, x, train_y[index])
        d = timed("loss backward", model.loss_layer.backward)
        for i in range(len(model.layers) - 1, -1, -1):
            layer = model.layers[i]
            d = timed(f"backward {i} {layer!r}", layer.backward, d, input_grad=i > 0)
        timed("Adam", optimizer.step, model.params, model.grads)

    while (steps := connection.recv()) is not None:
        for _ in range(steps // 3):     # untimed, as before every repeat of the benchmark
            step()
        times.clear()
        for _ in range(steps):
            step()
        connection.send(times)


def run_profile(threads_list, steps, repeats, mode):
    """One process per thread count, taking turns (``repeats`` rounds of ``steps`` steps)."""
    workers, times = {}, {}
    for threads in threads_list:
        workers[threads], times[threads] = start(profile_worker, (), threads, mode), {}
    for turn in range(repeats):
        for threads, (parent, _) in workers.items():
            parent.send(steps)
            for name, values in parent.recv().items():
                times[threads].setdefault(name, []).extend(values)
    for parent, process in workers.values():
        parent.send(None)
        process.join()
    medians = {t: {name: 1e3 * statistics.median(v) for name, v in times[t].items()} for t in threads_list}
    print(f"one scratchdl training step of SimpleConvNet, batch 100, float32: median ms over "
          f"{repeats} x {steps} steps, the thread counts taking turns")
    print(f"{'':64}" + "".join(f"{f'{t} thread' + 's' * (t > 1):>12}" for t in threads_list))
    for name in medians[threads_list[0]]:
        print(f"{name:64}" + "".join(f"{medians[t][name]:12.3f}" for t in threads_list))
    totals = [sum(v for k, v in medians[t].items() if not k.startswith(PART)) for t in threads_list]
    print(f"{'sum':64}" + "".join(f"{total:12.3f}" for total in totals))



def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts to measure, each framework with the same (default: 1 2)")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--steps", type=int, default=60, help="training steps per timed repeat")
    parser.add_argument("--conv-steps", type=int, default=10, help="Conv2D forward+backward per timed repeat")
    parser.add_argument("--only", choices=["train", "infer", "conv"], help="run one of the three measurements")
    parser.add_argument("--profile", action="store_true",
                        help="instead: time each part of one scratchdl training step, at each thread count")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--scratchdl-threads", choices=SCRATCHDL_MODES, default="workers",
                        help="how scratchdl uses several cores: its own threads with BLAS on one "
                             "(workers, the default) or BLAS's threads only (blas)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; numpy {np.__version__}; "
          f"load average {os.getloadavg()[0]:.2f} at the start; scratchdl's threads: {args.scratchdl_threads}")
    if args.profile:
        run_profile(args.threads, 20, args.repeats, args.scratchdl_threads)
        return

    compared = frameworks(args.no_torch)
    configs = [(threads, framework) for threads in args.threads for framework in compared]
    workers = {(threads, framework): start(worker, (framework, threads), threads,
                                           args.scratchdl_threads if framework == "scratchdl" else None)
               for threads, framework in configs}
    sources = [parent.recv() for parent, _ in workers.values()]
    print(f"data: {sources[0]}")
    print(f"each configuration in its own process; {args.repeats} repeats, taking turns\n")

    def measure(config, name, count):
        parent = workers[config][0]
        parent.send((name, max(1, count // 3), count))
        return parent.recv()

    # (name, calls per repeat, samples per call, label)
    jobs = [("train", args.steps, BATCH_SIZE, "(a) SimpleConvNet training step, batch 100, Adam"),
            ("infer", 10, INFERENCE_BATCH, "(b) SimpleConvNet inference, 10,000 test images in batches of 1000")]
    jobs += [(f"conv{c_in}", args.conv_steps, BATCH_SIZE,
              f"(c) Conv2D {c_in}->{c_out} 3x3 pad 1 at {size}x{size}, forward+backward, batch 100")
             for c_in, c_out, size in CONV_LAYERS]
    if args.only:
        jobs = [job for job in jobs if job[0].startswith(args.only)]
    seconds = {(name, config): [] for name, *_ in jobs for config in configs}
    for name, count, samples, _ in jobs:
        for _ in range(args.repeats):
            for config in configs:                 # take turns
                seconds[name, config].append(measure(config, name, count))
    accuracy = {}
    for config, (parent, process) in workers.items():
        parent.send(None)
        accuracy[config] = parent.recv()
        process.join()

    print(f"samples per second: median (min-max) of {args.repeats} repeats; "
          f"ratio: of the medians (min-max of the per-repeat ratios)")
    for name, count, samples, label in jobs:
        print(f"\n{label}")
        print(f"{'threads':>9} {'scratchdl':>24} {'PyTorch':>24} {'scratchdl / PyTorch':>24}")
        for threads in args.threads:
            ours = [count * samples / s for s in seconds[name, (threads, "scratchdl")]]
            if "pytorch" not in compared:
                print(f"{threads:9d} {spread(ours):>24} {'-':>24} {'-':>24}")
                continue
            theirs = [count * samples / s for s in seconds[name, (threads, "pytorch")]]
            ratios = [a / b for a, b in zip(ours, theirs)]
            ratio = statistics.median(ours) / statistics.median(theirs)
            ratio_text = f"{ratio:.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
            print(f"{threads:9d} {spread(ours):>24} {spread(theirs):>24} {ratio_text:>24}")
    if "train" in (job[0] for job in jobs):
        print("\ntest accuracy after the timed training (both start from the same weights and train the "
              "same network):\n  " + ", ".join(f"{f} {t} thread{'s' * (t > 1)} {a:.3f}" for (t, f), a in accuracy.items()))
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
