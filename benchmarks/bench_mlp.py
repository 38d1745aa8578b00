"""Training speed of scratchdl's MLP 784-100-10 against the same network in PyTorch.

    python benchmarks/bench_mlp.py                  # 1 and 2 threads, float32 and float64, 9 repeats
    python benchmarks/bench_mlp.py --threads 1 --iterations 600 --repeats 15

What is timed: the training loop only (shuffled mini-batches of 100, forward, loss,
backward, SGD update with learning rate 0.1), each repeat right after an untimed warm-up
of the same loop (it also outlasts the spinning threads of the configuration before). Every configuration
(framework x dtype x thread count) runs in its own process; the repeats take turns. Reported:
samples per second, the median with the range (min-max) over the repeats, and the ratio
scratchdl / PyTorch as the ratio of the medians with the range of the per-repeat ratios.
Data loading and evaluation are not timed. PyTorch is optional (a dev-only tool, not a
dependency of the book): without it only scratchdl runs.
"""
import argparse
import os
import platform
import statistics
import time

import numpy as np
from scratchdl.models import MLP
from scratchdl.training import Trainer, minibatches
from threads import frameworks, spread, start  # benchmarks/threads.py

BATCH_SIZE = 100
LEARNING_RATE = 0.1
SIZES = [784, 100, 10]


def load_data():
    """MNIST training images (N, 784) in [0, 1] and labels (N,), or random data of that shape."""
    try:
        from scratchdl.datasets import load_mnist
        (train_x, train_y), _ = load_mnist(normalize=True, flatten=True)
        return train_x, train_y, f"MNIST training set, {len(train_x)} images (scratchdl.datasets.load_mnist)"
    except Exception as error:  # no datasets module or no data file: time on random data
        rng = np.random.default_rng(0)
        source = f"RANDOM data shaped like MNIST, 60000 x 784 (MNIST unavailable: {type(error).__name__}: {error})"
        return rng.random((60000, 784)), rng.integers(0, 10, 60000), source


def batches_forever(x, y, rng):
    while True:
        yield from minibatches(x, y, BATCH_SIZE, rng=rng)


def scratchdl_runner(x, y, dtype, threads):
    """A function run(iterations) -> seconds, training scratchdl's MLP on (x, y), and its accuracy."""
    x = x.astype(dtype)   # once, up front: the model would otherwise convert every batch
    model = MLP(SIZES, activation="relu", init="he", rng=0, dtype=dtype)
    trainer = Trainer(model, "sgd", batch_size=BATCH_SIZE, progress=False, learning_rate=LEARNING_RATE)
    batches = batches_forever(x, y, np.random.default_rng(0))

    def run(iterations):
        start = time.perf_counter()
        for _ in range(iterations):
            trainer.step(*next(batches))
        return time.perf_counter() - start

    return run, lambda: model.accuracy(x[:10000], y[:10000])


def torch_runner(x, y, dtype, threads):
    """The same network, initialization, loss and optimizer in PyTorch."""
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    torch_dtype = {"float32": torch.float32, "float64": torch.float64}[np.dtype(dtype).name]
    nn = torch.nn
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        linear = nn.Linear(n_in, n_out)
        nn.init.normal_(linear.weight, std=np.sqrt(2.0 / n_in))   # He, like scratchdl
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.ReLU()]
    model = nn.Sequential(*layers[:-1]).to(torch_dtype)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    tx = torch.from_numpy(x.astype(dtype))
    ty = torch.from_numpy(y.astype(np.int64))
    rng = np.random.default_rng(0)

    def index_batches():
        while True:
            order = torch.from_numpy(rng.permutation(len(tx)))
            for start in range(0, len(tx), BATCH_SIZE):
                index = order[start:start + BATCH_SIZE]
                yield tx[index], ty[index]

    batches = index_batches()

    def run(iterations):
        start = time.perf_counter()
        for _ in range(iterations):
            xb, yb = next(batches)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            loss.item()   # scratchdl's step returns the loss as a Python float too
        return time.perf_counter() - start

    def accuracy():
        with torch.no_grad():
            return (model(tx[:10000]).argmax(1) == ty[:10000]).double().mean().item()

    return run, accuracy


def worker(connection, framework, dtype, threads):
    """Runs in its own process, so PyTorch's and numpy's thread pools never compete; waits
    for (warm-up, iterations) requests and answers with the seconds the iterations took."""
    x, y, source = load_data()
    make = scratchdl_runner if framework == "scratchdl" else torch_runner
    run, accuracy = make(x, y, dtype, threads)
    connection.send(source)
    while True:
        request = connection.recv()
        if request is None:
            connection.send(accuracy())
            return
        warmup, iterations = request
        run(warmup)
        connection.send(run(iterations))



def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=300, help="timed iterations per repeat (600 = 1 epoch)")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--warmup", type=int, default=100, help="untimed iterations before every repeat")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts to measure, each framework with the same (default: 1 2)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    args = parser.parse_args()

    print(f"network: MLP {'-'.join(map(str, SIZES))} ReLU, SGD lr {LEARNING_RATE}, batch {BATCH_SIZE}; "
          f"{args.iterations} timed iterations x {args.repeats} repeats, each after {args.warmup} untimed")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}; "
          f"load average {os.getloadavg()[0]:.2f} at the start")

    compared = frameworks(args.no_torch)
    dtypes = ("float32", "float64")
    configs = [(t, d, f) for t in args.threads for d in dtypes for f in compared]
    workers = {(threads, dtype, framework): start(worker, (framework, dtype, threads), threads)
               for threads, dtype, framework in configs}
    source = [workers[c][0].recv() for c in configs][0]
    print(f"data: {source}")
    print("each configuration in its own process, the repeats taking turns")
    # take turns: a burst of load from other programs hits every configuration alike
    rates = {c: [] for c in configs}
    for _ in range(args.repeats):
        for config in configs:
            parent = workers[config][0]
            parent.send((args.warmup, args.iterations))
            rates[config].append(args.iterations * BATCH_SIZE / parent.recv())
    accuracy = {}
    for config, (parent, process) in workers.items():
        parent.send(None)
        accuracy[config] = parent.recv()
        process.join()

    print(f"\nsamples per second: median (min-max) of {args.repeats} repeats; "
          f"ratio: of the medians (min-max of the per-repeat ratios)")
    print(f"{'dtype':8} {'threads':>7} {'scratchdl':>28} {'PyTorch':>28} {'scratchdl / PyTorch':>22}"
          f" {'accuracy':>15}")
    for dtype in dtypes:
        for threads in args.threads:
            ours = rates[threads, dtype, "scratchdl"]
            acc = f"{accuracy[threads, dtype, 'scratchdl']:.3f}"
            if "pytorch" not in compared:
                print(f"{dtype:8} {threads:7d} {spread(ours):>28} {'-':>28} {'-':>22} {acc:>15}")
                continue
            theirs = rates[threads, dtype, "pytorch"]
            ratios = [a / b for a, b in zip(ours, theirs)]
            ratio = f"{statistics.median(ours) / statistics.median(theirs):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
            acc += f" / {accuracy[threads, dtype, 'pytorch']:.3f}"
            print(f"{dtype:8} {threads:7d} {spread(ours):>28} {spread(theirs):>28} {ratio:>22} {acc:>15}")
    print("\n(accuracy: scratchdl / PyTorch, on the first 10,000 training images after the run)")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
