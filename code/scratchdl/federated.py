"""Federated learning (chapter 11): training on data that never leaves its owners.

Each ``Client`` keeps its own examples and trains a copy of the global model on them; the
server only ever sees model states (or updates), and averages them:

- partitions that hand a dataset to clients: ``partition_iid``, ``partition_dirichlet``
  (label skew, Dirichlet concentration alpha) and ``partition_quantity`` (size skew);
- ``federated_average`` (weights by sample counts) and ``fedavg``, the training loop of
  McMahan et al. (2017): sample clients, train locally for a few epochs, average; with
  FedProx's proximal term (Li et al. 2020) and server momentum (Hsu et al. 2019) as
  answers to clients whose data differ;
- privacy: ``PairwiseMasking`` (the masks of Bonawitz et al.'s secure aggregation, 2017),
  ``paillier_sum`` (additively homomorphic encryption, Paillier 1999, with the ``phe``
  library), ``privatize`` (clip and add Gaussian noise, the Gaussian mechanism of
  differential privacy), and the leak they defend against, ``leaked_rows`` / ``leak_scores``;
- ``run_flower``: the same clients on Flower's simulation engine (``flwr``), in this
  process or, with ``run_flower_subprocess``, in a child process that leaves nothing behind.

State dicts are ``Sequential.state_dict()`` dicts, {"0.W": array, ...}.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from .io import read_npz, write_npz
from .optimizers import get_optimizer
from .training import minibatches
from .utils import as_rng, check_positive_int, check_samples

# ---------------------------------------------------------------------------- partitions


def _check_clients(n_clients, n_samples, owner):
    n_clients = check_positive_int(n_clients, "n_clients", owner)
    if n_clients > n_samples:
        raise ValueError(f"{owner}: {n_clients} clients need at least {n_clients} samples, got {n_samples}")
    return n_clients


def partition_iid(n_samples, n_clients, rng=None):
    """Shuffle 0..n_samples-1 and cut it into n_clients parts whose sizes differ by at most
    one. Returns a list of n_clients sorted index arrays."""
    n_clients = _check_clients(n_clients, n_samples, "partition_iid")
    order = as_rng(rng).permutation(n_samples)
    return [np.sort(part) for part in np.array_split(order, n_clients)]


def partition_dirichlet(labels, n_clients, alpha, rng=None, min_size=1, max_tries=100):
    """Label skew: for each class, the share of each client is drawn from a Dirichlet
    distribution with concentration ``alpha`` (small alpha: most clients see mostly one
    class; large alpha: close to IID). labels: (N,) ints. Draws again (up to ``max_tries``)
    until every client has at least ``min_size`` samples. Returns a list of index arrays."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"partition_dirichlet expected labels of shape (N,), got {labels.shape}")
    n_clients = _check_clients(n_clients, labels.size, "partition_dirichlet")
    if not alpha > 0:
        raise ValueError(f"partition_dirichlet expected alpha > 0, got {alpha!r}")
    rng = as_rng(rng)
    for _ in range(max_tries):
        parts = [[] for _ in range(n_clients)]
        for label in np.unique(labels):
            index = rng.permutation(np.flatnonzero(labels == label))
            shares = rng.dirichlet(np.full(n_clients, float(alpha)))
            cuts = (np.cumsum(shares)[:-1] * index.size).astype(int)
            for part, piece in zip(parts, np.split(index, cuts)):
                part.append(piece)
        parts = [np.sort(np.concatenate(p)) for p in parts]
        if min(p.size for p in parts) >= min_size:
            return parts
    raise ValueError(f"partition_dirichlet: no draw in {max_tries} gave every one of {n_clients} clients "
                     f"{min_size} samples; use fewer clients or a larger alpha")


def partition_quantity(n_samples, n_clients, alpha, rng=None, min_size=1):
    """Quantity skew: client sizes proportional to a Dirichlet(alpha) draw (each at least
    ``min_size``), samples assigned at random, so the label mix stays IID. Returns a list
    of sorted index arrays."""
    n_clients = _check_clients(n_clients, n_samples, "partition_quantity")
    if not alpha > 0:
        raise ValueError(f"partition_quantity expected alpha > 0, got {alpha!r}")
    if n_clients * min_size > n_samples:
        raise ValueError(f"partition_quantity: {n_clients} clients of at least {min_size} samples need "
                         f"{n_clients * min_size}, got {n_samples}")
    rng = as_rng(rng)
    shares = rng.dirichlet(np.full(n_clients, float(alpha)))
    extra = np.floor(shares * (n_samples - n_clients * min_size)).astype(int)
    extra[: n_samples - n_clients * min_size - extra.sum()] += 1    # hand out the remainder
    sizes = extra + min_size
    order = rng.permutation(n_samples)
    return [np.sort(part) for part in np.split(order, np.cumsum(sizes)[:-1])]


# ---------------------------------------------------------------------------- clients


class Client:
    """One participant: x (N, ...) and labels y (N,) that stay here, and local training.

    ``update(model, state, ...)`` loads the global state into ``model`` (a scratch copy the
    caller owns), trains it on this client's data and returns the new state dict.
    """

    def __init__(self, x, y, name=None):
        x, y = check_samples(x, y, f"Client {name!r}" if name is not None else "Client")
        self.x, self.y, self.name = x, y, name

    def __len__(self):
        return self.x.shape[0]

    def __repr__(self):
        return f"Client({self.name!r}, {len(self)} samples)"

    def update(self, model, state, epochs=1, batch_size=32, optimizer="sgd", learning_rate=0.1,
               proximal_mu=0.0, rng=None):
        """Train a copy of `state` on the local data: ``epochs`` passes of shuffled
        minibatches with a fresh optimizer (its name or a callable returning one).
        proximal_mu > 0 adds FedProx's term (mu / 2) ||w - w_global||^2 to the loss, which
        pulls the local weights back toward the global ones. Returns the new state dict."""
        model.load_state_dict(state)
        epochs = check_positive_int(epochs, "epochs", "Client.update")
        opt = optimizer() if callable(optimizer) else get_optimizer(optimizer, learning_rate=learning_rate)
        params = model.params
        anchor = {k: state[k] for k in params} if proximal_mu else None
        rng = as_rng(rng)
        for _ in range(epochs):
            for xb, yb in minibatches(self.x, self.y, batch_size, rng):
                model.loss(xb, yb)
                grads = model.backward()
                if anchor is not None:   # d/dw of (mu/2)||w - w_g||^2; new arrays, layers keep theirs
                    grads = {k: g + proximal_mu * (params[k] - anchor[k]) for k, g in grads.items()}
                opt.step(params, grads)
        return model.state_dict()


def make_clients(x, y, parts):
    """A Client per index array of `parts` (from a partition function), named 0, 1, ..."""
    x, y = check_samples(x, y, "make_clients")
    return [Client(x[p], y[p], name=i) for i, p in enumerate(parts)]


# ---------------------------------------------------------------------------- averaging


def federated_average(states, weights):
    """sum_k (w_k / sum w) * state_k, key by key, accumulated in the order given (the
    order and formula of Flower's FedAvg, so the two agree bit for bit).
    states: list of state dicts with equal keys and shapes; weights: sample counts."""
    states = list(states)
    weights = np.asarray(weights, dtype=np.float64)
    if not states or weights.shape != (len(states),):
        raise ValueError(f"federated_average expected one weight per state, got {len(states)} states "
                         f"and weights of shape {weights.shape}")
    if np.any(weights < 0) or not weights.sum() > 0:
        raise ValueError(f"federated_average expected non-negative weights with a positive sum, got {weights}")
    first = states[0]
    for i, s in enumerate(states[1:], 1):
        if s.keys() != first.keys() or any(s[k].shape != first[k].shape for k in first):
            raise ValueError(f"federated_average: state {i} has keys or shapes that differ from state 0: "
                             f"{ {k: v.shape for k, v in s.items()} } vs { {k: v.shape for k, v in first.items()} }")
    factors = [float(w) / float(weights.sum()) for w in weights]
    out = {}
    for s, f in zip(states, factors):
        for k, v in s.items():
            if k in out:
                out[k] += v * f
            else:
                out[k] = v * f
    return out


def flatten(state):
    """A state dict as one float64 vector (keys in sorted order)."""
    return np.concatenate([np.ravel(state[k]).astype(np.float64) for k in sorted(state)])


def unflatten(vector, like):
    """The inverse of flatten: a state dict shaped like `like` from a vector."""
    needed = sum(v.size for v in like.values())
    if np.shape(vector) != (needed,):
        raise ValueError(f"unflatten: the state needs a vector of {needed} numbers, got shape {np.shape(vector)}")
    out, start = {}, 0
    for k in sorted(like):
        n = like[k].size
        out[k] = vector[start:start + n].reshape(like[k].shape).astype(like[k].dtype)
        start += n
    return out


def privatize(update, clip, noise_multiplier, rng=None):
    """The Gaussian mechanism on one update (a vector): scale it down to L2 norm ``clip`` if
    it is longer, then add N(0, (noise_multiplier * clip)^2) to every coordinate."""
    update = np.asarray(update, dtype=np.float64)
    if not clip > 0 or not noise_multiplier >= 0:
        raise ValueError(f"privatize expected clip > 0 and noise_multiplier >= 0, got {clip}, {noise_multiplier}")
    norm = np.linalg.norm(update)
    clipped = update * min(1.0, clip / norm) if norm > 0 else update
    if noise_multiplier == 0:
        return clipped
    return clipped + as_rng(rng).normal(0.0, noise_multiplier * clip, size=update.shape)


def fedavg(model, clients, rounds, fraction=1.0, local_epochs=1, batch_size=32, optimizer="sgd",
           learning_rate=0.1, proximal_mu=0.0, server_momentum=0.0, dp_clip=None, dp_noise=0.0,
           eval_data=None, seed=0):
    """Federated averaging (McMahan et al. 2017). Trains `model` in place; returns its history.

    Every round, ``max(1, round(fraction * K))`` of the K clients are sampled (seeded by
    ``(seed, round)``), each trains the global state for ``local_epochs`` (``Client.update``,
    seeded by ``(seed, round, client)``), and the server averages their states weighted by
    sample counts. server_momentum b > 0: the server keeps a velocity of the average
    update, v <- b v + (w - avg), w <- w - v (FedAvgM). dp_clip: each client clips its
    update (new state - global state) to this L2 norm and adds Gaussian noise of std
    dp_noise * dp_clip before sending (``privatize``). eval_data: (x, y), evaluated after
    every round. History: "round", "clients" (sampled ids), "accuracy" (if eval_data).
    """
    clients = list(clients)
    if not clients or not all(isinstance(c, Client) for c in clients):
        raise ValueError("fedavg expected a non-empty list of Client objects")
    rounds = check_positive_int(rounds, "rounds", "fedavg")
    if not 0 < fraction <= 1:
        raise ValueError(f"fedavg expected 0 < fraction <= 1, got {fraction}")
    k = len(clients)
    per_round = max(1, int(round(fraction * k)))
    state = model.state_dict()
    velocity = {key: np.zeros_like(v) for key, v in state.items()}
    history = {"round": [], "clients": [], "accuracy": []}
    scratch = model
    for r in range(1, rounds + 1):
        chosen = np.sort(np.random.default_rng([seed, r]).choice(k, size=per_round, replace=False))
        states, weights = [], []
        for i in chosen:
            rng = np.random.default_rng([seed, r, int(i)])
            new = clients[i].update(scratch, state, local_epochs, batch_size, optimizer, learning_rate,
                                    proximal_mu, rng)
            if dp_clip is not None:
                delta = privatize(flatten(new) - flatten(state), dp_clip, dp_noise, rng)
                new = unflatten(flatten(state) + delta, state)
            states.append(new)
            weights.append(len(clients[i]))
        average = federated_average(states, weights)
        if server_momentum:
            for key in state:
                velocity[key] = server_momentum * velocity[key] + (state[key] - average[key])
                average[key] = state[key] - velocity[key]
        state = average
        model.load_state_dict(state)
        history["round"].append(r)
        history["clients"].append(chosen.tolist())
        if eval_data is not None:
            history["accuracy"].append(model.accuracy(*eval_data))
    return history


# ---------------------------------------------------------------------------- secure aggregation

FRACTION_BITS = 32   # fixed point: a value v travels as round(v * 2^32) modulo 2^64


def quantize(vector, fraction_bits=FRACTION_BITS):
    """Floats -> uint64 fixed point (two's complement modulo 2^64): sums of these wrap
    around exactly, so masks can cancel without any rounding."""
    scaled = np.round(np.asarray(vector, dtype=np.float64) * 2.0 ** fraction_bits)
    if np.any(np.abs(scaled) >= 2.0 ** 62):
        raise ValueError(f"quantize: a value is too large for {fraction_bits} fraction bits in 64 bits")
    return scaled.astype(np.int64).view(np.uint64)


def dequantize(vector, fraction_bits=FRACTION_BITS):
    """uint64 fixed point (a sum of quantized values) -> floats."""
    return np.asarray(vector, dtype=np.uint64).view(np.int64).astype(np.float64) / 2.0 ** fraction_bits


def _prg(seed, size):
    """The mask a shared seed expands to: uniform 64-bit words (a pseudo-random generator)."""
    return np.random.Generator(np.random.PCG64(seed)).integers(0, 2 ** 64, size=size, dtype=np.uint64,
                                                                endpoint=False)


class PairwiseMasking:
    """Pairwise additive masks (Bonawitz et al. 2017), for n_clients vectors of ``size``.

    Every pair i < j shares a seed s_ij (in the real protocol, agreed by Diffie-Hellman
    key exchange; here drawn from ``rng``). Client i adds PRG(s_ij) for every j > i and
    subtracts PRG(s_ji) for every j < i, modulo 2^64: each masked vector alone is uniform
    noise, and in the sum of all of them every mask appears once with + and once with -.
    """

    def __init__(self, n_clients, size, rng=None):
        self.n_clients = check_positive_int(n_clients, "n_clients", "PairwiseMasking")
        self.size = check_positive_int(size, "size", "PairwiseMasking")
        rng = as_rng(rng)
        self.seeds = {(i, j): int(rng.integers(0, 2 ** 63)) for i in range(n_clients)
                      for j in range(i + 1, n_clients)}

    def _pair_mask(self, i, j):
        """What client i adds for its pair with j (the negative of what j adds)."""
        if i < j:
            return _prg(self.seeds[(i, j)], self.size)
        return np.uint64(0) - _prg(self.seeds[(j, i)], self.size)

    def mask(self, i, vector):
        """Client i's masked vector: quantize(vector) + its masks, modulo 2^64 (uint64)."""
        vector = np.asarray(vector)
        if vector.shape != (self.size,):
            raise ValueError(f"PairwiseMasking.mask expected a vector of shape ({self.size},), got {vector.shape}")
        if not 0 <= i < self.n_clients:
            raise ValueError(f"PairwiseMasking.mask: client {i} is not in 0..{self.n_clients - 1}")
        masked = quantize(vector)
        for j in range(self.n_clients):
            if j != i:
                masked += self._pair_mask(i, j)     # uint64 arithmetic wraps modulo 2^64
        return masked

    def aggregate(self, masked, recover=True):
        """The server's side: masked {client: vector} from the clients that answered -> the
        float sum of their vectors. Clients missing from `masked` dropped out after the masks
        were set up: their pairwise masks do not cancel. With recover=True the survivors
        reveal their seeds shared with the dropped clients (Bonawitz et al. recover them from
        secret shares), and the server removes those masks; with recover=False the result
        is garbage."""
        if not masked:
            raise ValueError("PairwiseMasking.aggregate got no masked vectors")
        total = np.zeros(self.size, dtype=np.uint64)
        for vector in masked.values():
            total += np.asarray(vector, dtype=np.uint64)
        dropped = [j for j in range(self.n_clients) if j not in masked]
        if recover:
            for i in masked:
                for j in dropped:
                    total -= self._pair_mask(i, j)
        return dequantize(total)


def secure_sum(vectors, rng=None, dropped=(), recover=True):
    """Sum a list of equal-length vectors through PairwiseMasking; clients in ``dropped``
    send nothing. Returns (sum, {client: masked vector the server saw})."""
    vectors = [np.asarray(v, dtype=np.float64) for v in vectors]
    if not vectors or any(v.shape != vectors[0].shape or v.ndim != 1 for v in vectors):
        raise ValueError("secure_sum expected a non-empty list of 1-D vectors of one length, got shapes "
                         f"{[v.shape for v in vectors]}")
    masking = PairwiseMasking(len(vectors), vectors[0].size, rng)
    masked = {i: masking.mask(i, v) for i, v in enumerate(vectors) if i not in set(dropped)}
    return masking.aggregate(masked, recover=recover), masked


# ---------------------------------------------------------------------------- Paillier


def paillier_sum(vectors, key_length=1024, keypair=None, precision=2.0 ** -32):
    """Sum vectors under Paillier encryption (the ``phe`` library): every client encrypts its
    vector with the public key, the server adds ciphertexts (an addition of plaintexts is a
    multiplication of ciphertexts), and the holder of the private key decrypts only the sum.

    vectors: list of equal-length 1-D float vectors. keypair: (public, private), or None to
    generate one of ``key_length`` bits. precision: every value is encoded with this
    resolution, so all ciphertexts share one exponent and add directly.
    Returns (sum, seconds) with seconds = {"keygen", "encrypt", "add", "decrypt"}.
    """
    from phe import paillier   # an optional dependency: only this function needs it

    vectors = [np.asarray(v, dtype=np.float64) for v in vectors]
    if not vectors or any(v.shape != vectors[0].shape or v.ndim != 1 for v in vectors):
        raise ValueError("paillier_sum expected a non-empty list of 1-D vectors of one length")
    seconds = {}
    start = time.perf_counter()
    public, private = keypair if keypair is not None else paillier.generate_paillier_keypair(n_length=key_length)
    seconds["keygen"] = time.perf_counter() - start
    start = time.perf_counter()
    encrypted = [[public.encrypt(float(x), precision=precision) for x in v] for v in vectors]
    seconds["encrypt"] = time.perf_counter() - start
    start = time.perf_counter()
    total = encrypted[0]
    for other in encrypted[1:]:
        total = [a + b for a, b in zip(total, other)]
    seconds["add"] = time.perf_counter() - start
    start = time.perf_counter()
    result = np.array([private.decrypt(c) for c in total])
    seconds["decrypt"] = time.perf_counter() - start
    return result, seconds


# ---------------------------------------------------------------------------- the leak


def leaked_rows(update, threshold=0.0):
    """The rows of a weight update (V, K) that moved by more than ``threshold`` in some
    column: for a first layer fed bag-of-words rows, the words of the training text."""
    update = np.asarray(update)
    if update.ndim != 2:
        raise ValueError(f"leaked_rows expected a (V, K) weight update, got shape {update.shape}")
    return np.flatnonzero(np.abs(update).max(axis=1) > threshold)


def leak_scores(recovered, true):
    """(precision, recall) of recovered ids against the true ids, pooled over many texts:
    recovered, true: lists of id arrays, one per text. Precision is 1.0 when nothing was
    recovered (no false claims); recall 1.0 when there was nothing to find."""
    if len(recovered) != len(true):
        raise ValueError(f"leak_scores expected as many recovered sets as true sets, got {len(recovered)} "
                         f"and {len(true)}")
    hits = sum(np.intersect1d(r, t).size for r, t in zip(recovered, true))
    n_recovered = sum(np.size(r) for r in recovered)
    n_true = sum(np.size(t) for t in true)
    return (hits / n_recovered if n_recovered else 1.0), (hits / n_true if n_true else 1.0)


# ---------------------------------------------------------------------------- Flower

QUIET_LOGGERS = ("flwr", "ray")


def _quiet_flower():
    """No telemetry request, and only errors from Flower's and Ray's loggers."""
    import logging

    os.environ["FLWR_TELEMETRY_ENABLED"] = "0"
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def flower_apps(clients, model, rounds, local_epochs=1, batch_size=32, optimizer="sgd",
                learning_rate=0.1, seed=0):
    """The chapter's clients and FedAvg as a Flower ``ClientApp`` and ``ServerApp``.

    The ClientApp is ``Client.update`` behind Flower's Message API: it reads the global
    arrays and the round from the message, trains with the same seeds as ``fedavg``
    ((seed, round, client)), and replies with its arrays and its sample count. The
    ServerApp runs Flower's FedAvg on every client every round, with the replies put in
    client order before averaging (arrival order would change the float rounding).
    Returns (client_app, server_app, result): result["state"] holds the final global
    state dict after the run.
    """
    _quiet_flower()
    from flwr.app import Array, ArrayRecord, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp
    from flwr.serverapp import ServerApp
    from flwr.serverapp.strategy import FedAvg

    clients, n = list(clients), len(clients)
    initial = model.state_dict()
    client_app, server_app, result = ClientApp(), ServerApp(), {}

    @client_app.train()
    def train(msg, context):
        i = int(context.node_config["partition-id"])
        r = int(msg.content["config"]["server-round"])
        state = {k: a.numpy() for k, a in msg.content["arrays"].items()}
        # a copy: Ray hands the app's arrays over read-only, and training writes into the model
        new = clients[i].update(copy.deepcopy(model), state, local_epochs, batch_size, optimizer,
                                learning_rate, rng=np.random.default_rng([seed, r, i]))
        reply = RecordDict({"arrays": ArrayRecord({k: Array(v) for k, v in new.items()}),
                            "metrics": MetricRecord({"num-examples": len(clients[i]), "client": i})})
        return Message(content=reply, reply_to=msg)

    class OrderedFedAvg(FedAvg):
        def aggregate_train(self, server_round, replies):
            replies = list(replies)
            failed = [m.error.reason for m in replies if m.has_error()]
            if failed:   # averaging fewer clients would be another model: stop and say why
                result["errors"] = failed
                raise RuntimeError(f"round {server_round}: {len(failed)} client(s) failed: {failed[0]}")
            replies.sort(key=lambda m: m.content["metrics"]["client"])
            return super().aggregate_train(server_round, replies)

    @server_app.main()
    def main(grid, context):
        strategy = OrderedFedAvg(fraction_train=1.0, fraction_evaluate=0.0, min_train_nodes=n,
                                 min_available_nodes=n)
        out = strategy.start(grid=grid, num_rounds=rounds,
                             initial_arrays=ArrayRecord({k: Array(v) for k, v in initial.items()}))
        result["state"] = {k: a.numpy() for k, a in out.arrays.items()}

    return client_app, server_app, result


def run_flower(clients, model, rounds, local_epochs=1, batch_size=32, optimizer="sgd",
               learning_rate=0.1, seed=0, num_cpus=2):
    """Run ``flower_apps`` on Flower's simulation engine (Ray, one virtual SuperNode per
    client) in this process; returns the final global state dict. Ray is shut down at the
    end. In a notebook or a test, prefer ``run_flower_subprocess``."""
    client_app, server_app, result = flower_apps(clients, model, rounds, local_epochs, batch_size,
                                                 optimizer, learning_rate, seed)
    import logging

    import ray
    from flwr.simulation import run_simulation

    try:
        # Ray is started here rather than by Flower: if it cannot start, this raises at once,
        # where the engine would log the failure and wait. On a busy machine its node can
        # miss a startup deadline (30 s), so it gets a second chance.
        for attempt in range(2):
            if ray.is_initialized():
                break
            try:
                ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR)
            except Exception:   # Ray raises a bare Exception for "node timed out during startup"
                ray.shutdown()
                if attempt == 1:
                    raise
        run_simulation(server_app=server_app, client_app=client_app, num_supernodes=len(clients),
                       backend_config={"init_args": {"num_cpus": num_cpus, "log_to_driver": False},
                                       "client_resources": {"num_cpus": 1, "num_gpus": 0.0}})
    finally:
        if ray.is_initialized():
            ray.shutdown()
    if "state" not in result:
        reasons = "; ".join(result.get("errors", [])) or "see its log above"
        raise RuntimeError(f"the Flower simulation ended without a global model ({reasons})")
    return result["state"]


def run_flower_subprocess(clients, sizes, initial_state, rounds, local_epochs=1, batch_size=32,
                          optimizer="sgd", learning_rate=0.1, seed=0, num_cpus=2, timeout=300):
    """``run_flower`` in a child Python process, for an ``MLP(sizes)`` model starting from
    ``initial_state``: the clients' data and the settings go through a temporary folder,
    the engine's log stays in the child, and the child's whole process group (Ray's
    daemons included) is killed if it does not finish within ``timeout`` seconds.
    Returns (final state dict, seconds the child ran)."""
    if not isinstance(optimizer, str):
        raise ValueError("run_flower_subprocess needs the optimizer by name (it crosses a process boundary)")
    with tempfile.TemporaryDirectory(prefix="scratchdl-flower-") as folder:
        arrays = {f"x{i}": c.x for i, c in enumerate(clients)}
        arrays.update({f"y{i}": c.y for i, c in enumerate(clients)})
        arrays.update({f"state/{k}": v for k, v in initial_state.items()})
        write_npz(os.path.join(folder, "inputs.npz"), arrays)
        settings = dict(n_clients=len(clients), sizes=[int(s) for s in sizes], rounds=rounds,
                        local_epochs=local_epochs, batch_size=batch_size, optimizer=optimizer,
                        learning_rate=learning_rate, seed=seed, num_cpus=num_cpus)
        with open(os.path.join(folder, "settings.json"), "w") as f:
            json.dump(settings, f)
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "scratchdl.federated", folder],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 start_new_session=True, env={**os.environ, "FLWR_TELEMETRY_ENABLED": "0"})
        try:
            log, _ = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(child)
            log = child.communicate()[0] or ""
            raise RuntimeError(f"the Flower simulation did not finish within {timeout} s and was stopped; "
                               f"its log ends:\n" + "\n".join(log.splitlines()[-30:])) from None
        finally:
            _kill_group(child)
        seconds = time.perf_counter() - start
        out = os.path.join(folder, "state.npz")
        if child.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(f"the Flower simulation failed (exit code {child.returncode}); its log ends:\n"
                               + "\n".join(log.splitlines()[-30:]))
        return read_npz(out, what="Flower result"), seconds


def _kill_group(child):
    """Kill whatever is left of the child's process group (Ray's daemons, after a crash)."""
    import signal

    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if child.poll() is None:
        child.wait()


def _flower_child(folder):
    """The child of run_flower_subprocess: read the inputs, run Flower, write state.npz."""
    from .models import MLP

    with open(os.path.join(folder, "settings.json")) as f:
        settings = json.load(f)
    arrays = read_npz(os.path.join(folder, "inputs.npz"), what="Flower inputs", max_bytes=None)
    clients = [Client(arrays[f"x{i}"], arrays[f"y{i}"], name=i) for i in range(settings.pop("n_clients"))]
    model = MLP(settings.pop("sizes"), init=0.0)
    model.load_state_dict({k[len("state/"):]: v for k, v in arrays.items() if k.startswith("state/")})
    state = run_flower(clients, model, **settings)
    write_npz(os.path.join(folder, "state.npz"), dict(sorted(state.items())))


if __name__ == "__main__":
    _flower_child(sys.argv[1])
