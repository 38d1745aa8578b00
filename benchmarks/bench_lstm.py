"""Speed of scratchdl's character-level LSTM (scratchdl.recurrent, scratchdl.char_model) against PyTorch's nn.LSTM on the CPU.

    python benchmarks/bench_lstm.py                  # 1 and 2 threads, 9 repeats each, 512 units
    python benchmarks/bench_lstm.py --hidden 256 --threads 2 --repeats 5
    python benchmarks/bench_lstm.py --profile        # where the time of one training step goes
    python benchmarks/bench_lstm.py --no-torch

What is measured, in float32: one training step of the character language model of
chapter 10 (Embedding 64 -> LSTM -> Affine to the vocabulary at every step), on a batch of
64 streams of 100 characters of Shakespeare's training text taken in order (truncated
backpropagation through time: the LSTM's final state is the next batch's initial state,
detached): forward, softmax cross-entropy over every step, backward through time,
gradient clipping by global norm 5, Adam (learning rate 2e-3), the loss read back as a
Python float. PyTorch trains the same network (nn.Embedding, nn.LSTM, nn.Linear,
CrossEntropyLoss, clip_grad_norm_, torch.optim.Adam) from the same initial weights, copied
from scratchdl's model (gate order mapped; PyTorch's second LSTM bias b_hh held at zero
and not trained, so both have the same parameters), on the same batches. No dropout, so both
compute the same function. Reported in characters per second (batch x sequence length
per step), and, after the timed steps (both sides have taken the same number), the
validation loss on the three held-out plays in nats per character.

Every configuration (framework x thread count) runs in its own spawned process with its
thread count set before numpy or PyTorch load (PyTorch: OMP_NUM_THREADS =
torch.set_num_threads; scratchdl: SCRATCHDL_NUM_THREADS, its own threads, with BLAS on one
thread, or with --scratchdl-threads blas, OPENBLAS_NUM_THREADS); the repeats take turns, each right after an untimed third as long;
median and min-max over the repeats; the ratio of the medians with the range of the
per-repeat ratios (the method of bench_cnn.py and benchmarks/README.md). Without the
Shakespeare data file it times random text of the same alphabet and says so.
"""
import argparse
import os
import platform
import statistics
import time

import numpy as np
from threads import SCRATCHDL_MODES, PartTimer, frameworks, set_threads, spread, start  # benchmarks/threads.py

BATCH_SIZE = 64
SEQ_LEN = 100
EMBED_DIM = 64
LEARNING_RATE = 2e-3
MAX_NORM = 5.0


def load_text():
    """(train_text, {play: text}, description of the source)."""
    try:
        from scratchdl.datasets import load_shakespeare
        train, valid = load_shakespeare()
        source = (f"Shakespeare, {len(train):,} training characters; validation "
                  + ", ".join(f"{k} ({len(v):,})" for k, v in valid.items()))
    except Exception as error:  # no data file: time on random text of a similar alphabet
        rng = np.random.default_rng(0)
        alphabet = np.array(list("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.,;:!?'\n-"))
        train = "".join(alphabet[rng.integers(0, len(alphabet), 2_000_000)])
        valid = {"random": "".join(alphabet[rng.integers(0, len(alphabet), 50_000)])}
        source = f"RANDOM text (Shakespeare unavailable: {type(error).__name__}: {error})"
    return train, valid, source


def build(train, valid, hidden):
    from scratchdl.char_model import CharLanguageModel, char_vocabulary
    return CharLanguageModel(char_vocabulary(train, valid), embed_dim=EMBED_DIM, hidden=hidden, rng=0,
                             dtype=np.float32)


def batch_stream(ids):
    """The training batches in order, epoch after epoch: (x, y) of shape (64, 100)."""
    from scratchdl.training import SequenceBatches
    batches = SequenceBatches(ids, BATCH_SIZE, SEQ_LEN)
    while True:
        yield from batches


def timer(function):
    def run(count):
        start = time.perf_counter()
        for _ in range(count):
            function()
        return time.perf_counter() - start
    return run


def scratchdl_runner(train, valid, hidden):
    from scratchdl.optimizers import Adam, ClipGradNorm
    from scratchdl.char_model import validation_losses
    model = build(train, valid, hidden)
    optimizer = ClipGradNorm(Adam(LEARNING_RATE), MAX_NORM)
    batches = batch_stream(model.encode(train))

    def train_step():
        x, y = next(batches)
        model.loss(x, y, train=True)
        optimizer.step(model.params, model.backward())

    return timer(train_step), lambda: validation_losses(model, valid)["all"]


def torch_runner(train, valid, hidden):
    import torch
    from scratchdl.recurrent import to_torch_order

    nn = torch.nn
    start = build(train, valid, hidden)
    ids = start.encode(train)
    V, H = len(start.chars), hidden
    emb, lstm, head = start.layers

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(V, EMBED_DIM)
            self.lstm = nn.LSTM(EMBED_DIM, H, batch_first=True)
            self.linear = nn.Linear(H, V)

        def forward(self, x, state=None):
            h, state = self.lstm(self.embedding(x), state)
            return self.linear(h), state

    model = Model()
    with torch.no_grad():   # scratchdl's initial weights, in PyTorch's layout and gate order
        model.embedding.weight.copy_(torch.from_numpy(emb.params["W"]))
        model.lstm.weight_ih_l0.copy_(torch.from_numpy(to_torch_order(lstm.params["Wx"], H).T.copy()))
        model.lstm.weight_hh_l0.copy_(torch.from_numpy(to_torch_order(lstm.params["Wh"], H).T.copy()))
        model.lstm.bias_ih_l0.copy_(torch.from_numpy(to_torch_order(lstm.params["b"], H)))
        model.lstm.bias_hh_l0.zero_()
        model.linear.weight.copy_(torch.from_numpy(head.params["W"].T.copy()))
        model.linear.bias.copy_(torch.from_numpy(head.params["b"]))
    # scratchdl's LSTM has one bias; PyTorch's two (b_ih + b_hh) would get two Adam steps per
    # update, twice the effective learning rate of the bias: keep b_hh at zero, untrained
    model.lstm.bias_hh_l0.requires_grad_(False)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=LEARNING_RATE)
    loss_fn = nn.CrossEntropyLoss()
    batches = batch_stream(ids)
    carried = [None]

    def train_step():
        x, y = next(batches)
        optimizer.zero_grad(set_to_none=True)
        scores, state = model(torch.from_numpy(x.astype(np.int64)), carried[0])
        carried[0] = tuple(s.detach() for s in state)
        loss = loss_fn(scores.reshape(-1, V), torch.from_numpy(y.astype(np.int64)).reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], MAX_NORM)
        optimizer.step()
        loss.item()

    def text_loss(text, streams=32, seq_len=200):
        """The same streaming evaluation as CharLanguageModel.text_loss."""
        ids = start.encode(text)
        length = (len(ids) - 1) // streams
        x = torch.from_numpy(np.stack([ids[k * length:(k + 1) * length] for k in range(streams)]).astype(np.int64))
        y = torch.from_numpy(np.stack([ids[k * length + 1:(k + 1) * length + 1] for k in range(streams)]).astype(np.int64))
        total, count, state = 0.0, 0, None
        with torch.inference_mode():
            for s in range(0, length, seq_len):
                scores, state = model(x[:, s:s + seq_len], state)
                total += float(nn.functional.cross_entropy(scores.reshape(-1, V).double(),
                                                           y[:, s:s + seq_len].reshape(-1), reduction="sum"))
                count += y[:, s:s + seq_len].numel()
            rest = ids[streams * length:]
            if len(rest) >= 2:
                scores, _ = model(torch.from_numpy(rest[None, :-1].astype(np.int64)))
                total += float(nn.functional.cross_entropy(scores.reshape(-1, V).double(),
                                                           torch.from_numpy(rest[1:].astype(np.int64)), reduction="sum"))
                count += len(rest) - 1
        return total / count

    def validation():
        weights = {k: len(v) - 1 for k, v in valid.items()}
        return sum(text_loss(valid[k]) * w for k, w in weights.items()) / sum(weights.values())

    return timer(train_step), validation


def worker(connection, framework, threads, hidden):
    """Its own process: answers (warm-up, count) requests with the seconds ``count`` steps
    took after ``warm-up`` untimed ones; None asks for the validation loss and ends."""
    if framework == "pytorch":
        import torch
        torch.set_num_threads(threads)
    train, valid, source = load_text()
    make = scratchdl_runner if framework == "scratchdl" else torch_runner
    run, validation = make(train, valid, hidden)
    connection.send(source)
    while True:
        request = connection.recv()
        if request is None:
            connection.send(validation())
            return
        warmup, count = request
        run(warmup)
        connection.send(run(count))


def profile(hidden, steps):
    """Each part of one scratchdl training step, median ms over ``steps`` steps."""
    from scratchdl.optimizers import Adam, ClipGradNorm
    train, valid, source = load_text()
    model = build(train, valid, hidden)
    optimizer = ClipGradNorm(Adam(LEARNING_RATE), MAX_NORM)
    batches = batch_stream(model.encode(train))
    lstm = model.layers[1]
    timed = PartTimer()
    times = timed.times

    for step in range(steps + 2):
        if step == 2:
            times.clear()          # two untimed steps first
        x, y = next(batches)
        h = x
        for layer in model.layers:
            h = timed(f"forward  {layer!r}", layer.forward, h, train=True)
        timed(PART + "h_{t-1} @ Wh alone, T times", lambda: [np.matmul(lstm.hs[t], lstm.params["Wh"])
                                                            for t in range(SEQ_LEN)])
        timed("softmax cross-entropy", model.loss_layer.forward, h, y)
        d = timed("loss backward", model.loss_layer.backward)
        for i in range(len(model.layers) - 1, -1, -1):
            layer = model.layers[i]
            d = timed(f"backward {layer!r}", layer.backward, d, input_grad=i > 0)
        timed("clip + Adam", optimizer.step, model.params, model.grads)
    print(f"data: {source}")
    print(f"one scratchdl training step, batch {BATCH_SIZE} x {SEQ_LEN} characters, hidden {hidden}, "
          f"float32: median ms over {steps} steps")
    total = 0.0
    for name, values in times.items():
        ms = 1e3 * statistics.median(values)
        total += 0 if name.startswith(PART) else ms
        print(f"{name:52} {ms:9.1f}")
    print(f"{'sum':52} {total:9.1f}   ({BATCH_SIZE * SEQ_LEN / total * 1e3:,.0f} characters/s)")


PART = "    of which, alone: "



def main():
    from scratchdl.char_model import CHAR_LSTM_CONFIG
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    hidden = CHAR_LSTM_CONFIG["hidden"]
    parser.add_argument("--hidden", type=int, default=hidden, help=f"LSTM units (default {hidden}, chapter 10's model)")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--steps", type=int, default=10, help="training steps per timed repeat")
    parser.add_argument("--profile", action="store_true", help="instead: time each part of a scratchdl step")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--scratchdl-threads", choices=SCRATCHDL_MODES, default="workers",
                        help="how scratchdl uses several cores: its own threads with BLAS on one "
                             "(workers, the default) or BLAS's threads only (blas)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; numpy {np.__version__}; "
          f"load average {os.getloadavg()[0]:.2f} at the start; scratchdl's threads: {args.scratchdl_threads}")
    if args.profile:
        set_threads(args.threads[0])      # for BLAS: only if it was not loaded yet
        if args.scratchdl_threads == "workers":
            from scratchdl import parallel
            parallel.set_workers(args.threads[0])
        print(f"{args.threads[0]} thread(s); BLAS threads as OPENBLAS_NUM_THREADS was at the start "
              f"({os.environ.get('OPENBLAS_NUM_THREADS', 'unset')} now)")
        profile(args.hidden, 10)
        return
    compared = frameworks(args.no_torch)
    configs = [(threads, framework) for threads in args.threads for framework in compared]
    workers = {(threads, framework): start(worker, (framework, threads, args.hidden), threads,
                                           args.scratchdl_threads if framework == "scratchdl" else None)
               for threads, framework in configs}
    sources = [parent.recv() for parent, _ in workers.values()]
    print(f"data: {sources[0]}")
    print(f"char LSTM training step: embedding {EMBED_DIM}, LSTM {args.hidden}, batch {BATCH_SIZE} x "
          f"{SEQ_LEN} characters, float32, clip 5, Adam {LEARNING_RATE:g}")
    print(f"each configuration in its own process; {args.repeats} repeats of {args.steps} steps, taking turns\n")

    seconds = {config: [] for config in configs}
    for _ in range(args.repeats):
        for config in configs:
            parent = workers[config][0]
            parent.send((max(1, args.steps // 3), args.steps))
            seconds[config].append(parent.recv())
    steps_taken = args.repeats * (max(1, args.steps // 3) + args.steps)
    losses = {}
    for config, (parent, process) in workers.items():
        parent.send(None)
        losses[config] = parent.recv()
        process.join()

    chars = args.steps * BATCH_SIZE * SEQ_LEN
    print(f"{'threads':>7} {'scratchdl chars/s':>24} {'PyTorch chars/s':>24} {'scratchdl / PyTorch':>22}")
    for threads in args.threads:
        ours = [chars / s for s in seconds[threads, "scratchdl"]]
        if "pytorch" not in compared:
            print(f"{threads:7d} {spread(ours):>24} {'-':>24} {'-':>22}")
            continue
        theirs = [chars / s for s in seconds[threads, "pytorch"]]
        ratios = [a / b for a, b in zip(ours, theirs)]
        ratio = statistics.median(ours) / statistics.median(theirs)
        print(f"{threads:7d} {spread(ours):>24} {spread(theirs):>24} "
              f"{f'{ratio:.2f}x ({min(ratios):.2f}-{max(ratios):.2f})':>22}")
    print(f"\nvalidation loss (nats/character, the held-out text) after {steps_taken} steps from the same "
          f"initial weights on the same batches:")
    for (threads, framework), loss in losses.items():
        print(f"  {framework:9} {threads} thread{'s' * (threads > 1)}: {loss:.4f}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
