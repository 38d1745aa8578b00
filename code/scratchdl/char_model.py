"""The character-level language model of chapter 10 and the recipe of its shipped weights:
Embedding -> LSTM (scratchdl.recurrent) -> Affine at every step, trained on Shakespeare's
works with three plays held out (scratchdl.datasets.load_shakespeare).
"""
import json
import math
import os
import time

import numpy as np

from . import io
from .layers import Affine, Dropout, Embedding
from .losses import SoftmaxCrossEntropy
from .models import ARCHITECTURE_KEY, Sequential, _summary
from .recurrent import LSTM, _Recurrent
from .utils import as_rng, check_positive_int


class CharLanguageModel(Sequential):
    """Embedding -> LSTM (one or more, stateful) -> Affine at every step: the scores for the
    next character after each character of a text.

    chars: the vocabulary, a string of distinct characters; a character's id is its
    position in it (the recipes sort it by code point). ids x: (N, T) -> scores (N, T, V).
    embed_dim: size of the character vectors; hidden: units per LSTM layer; layers: how
    many LSTM layers; dropout: rate of the Dropout after each LSTM layer (0: none).
    rng: seed or Generator of the initial weights and the dropout masks.
    """

    def __init__(self, chars, embed_dim=64, hidden=256, layers=1, dropout=0.0, forget_bias=1.0,
                 rng=None, dtype=np.float32):
        chars = "".join(chars)
        if not chars or len(set(chars)) != len(chars):
            raise ValueError("CharLanguageModel expected chars: a non-empty string of distinct characters")
        self.chars = chars
        self.index = {ch: i for i, ch in enumerate(chars)}
        self.config = {"embed_dim": int(embed_dim), "hidden": int(hidden), "layers": int(layers),
                       "dropout": float(dropout), "forget_bias": float(forget_bias),
                       "dtype": np.dtype(dtype).name}
        rng = as_rng(rng)
        V = len(chars)
        stack = [Embedding(V, embed_dim, init=0.1, rng=rng, dtype=dtype)]
        size = embed_dim
        for _ in range(check_positive_int(layers, "layers", "CharLanguageModel")):
            stack.append(LSTM(size, hidden, forget_bias=forget_bias, stateful=True, rng=rng, dtype=dtype))
            if dropout > 0:
                stack.append(Dropout(dropout, rng=rng))
            size = hidden
        stack.append(Affine(hidden, V, init="xavier", rng=rng, dtype=dtype))
        super().__init__(stack, loss=SoftmaxCrossEntropy())
        self.metadata = {}     # numbers saved with the weights, e.g. the recipe's validation losses

    @property
    def recurrent_layers(self):
        return [layer for layer in self.layers if isinstance(layer, _Recurrent)]

    def encode(self, text):
        """The ids of the characters of ``text``, int32 (L,); a ValueError names unknown ones."""
        try:
            return np.fromiter((self.index[ch] for ch in text), dtype=np.int32, count=len(text))
        except KeyError:
            unknown = sorted(set(text) - set(self.index))
            raise ValueError(f"CharLanguageModel: characters not in the vocabulary: {unknown[:10]!r}") from None

    def decode(self, ids):
        return "".join(self.chars[i] for i in np.asarray(ids).ravel())

    def sample(self, prompt, n, temperature=1.0, top_k=None, rng=None):
        """Generate ``n`` characters after ``prompt`` (a non-empty string); returns them
        (without the prompt).

        Each next character is drawn from softmax(scores / temperature), restricted to the
        ``top_k`` most likely characters if given. temperature 0 takes the most likely one
        every time (argmax decoding). rng: seed or Generator (the same seed, the same text).
        The model's carried training state is left as it was.
        """
        if not isinstance(prompt, str) or not prompt:
            raise ValueError("sample expected a non-empty prompt string")
        n = int(n)
        if n < 0:
            raise ValueError(f"sample expected n >= 0, got {n}")
        if not temperature >= 0:
            raise ValueError(f"sample expected temperature >= 0, got {temperature}")
        if top_k is not None and not (isinstance(top_k, (int, np.integer)) and 1 <= top_k <= len(self.chars)):
            raise ValueError(f"sample expected top_k None or an int in [1, {len(self.chars)}], got {top_k!r}")
        rng = as_rng(rng)
        ids = self.encode(prompt)[None, :]
        out = []
        state = self.zero_state(1)
        for _ in range(n):
            scores, state = self.stream(ids, state)
            logits = scores[0, -1].astype(np.float64)
            if temperature == 0:
                nxt = int(np.argmax(logits))
            else:
                logits = logits / temperature
                if top_k is not None and top_k < logits.size:
                    cut = np.partition(logits, -top_k)[-top_k]
                    logits = np.where(logits >= cut, logits, -np.inf)
                p = np.exp(logits - logits.max())
                p /= p.sum()
                nxt = int(rng.choice(p.size, p=p))
            out.append(nxt)
            ids = np.array([[nxt]])
        return self.decode(out)

    def zero_state(self, n):
        """The state before any character, for ``n`` streams: one tuple of zero arrays (N, H)
        per LSTM layer, (h, c)."""
        return [(np.zeros((n, layer.hidden_size), layer.dtype),) * len(layer.state_names)
                for layer in self.recurrent_layers]

    def stream(self, ids, states):
        """Read ids (N, T) in inference mode from ``states`` (one (h, c) tuple per LSTM layer,
        e.g. ``zero_state(N)``); returns (scores (N, T, V), the states after the last step).
        The layers' carried training state is not touched; afterwards each layer's ``hs``
        and ``cs`` hold its states at every step (chapter 10 plots them)."""
        x, new, k = ids, [], 0
        for layer in self.layers:
            if isinstance(layer, _Recurrent):
                state = dict(zip(("h0", "c0"), states[k]))
                carried = layer.carried
                x = layer.forward(x, train=False, **state)
                layer.carried = carried
                new.append((layer.h_final, layer.c_final) if isinstance(layer, LSTM) else (layer.h_final,))
                k += 1
            else:
                x = layer.forward(x, train=False)
        return x, new

    def text_loss(self, text, streams=16, seq_len=200):
        """Mean cross-entropy in nats per character of predicting each character of ``text``
        from the ones before it (the first has no prediction). The text is cut into
        ``streams`` pieces read side by side, each from a zero state, in chunks of
        ``seq_len`` steps with the state carried."""
        ids = self.encode(text)
        if len(ids) < 2:
            raise ValueError("text_loss needs at least two characters")
        streams = max(1, min(int(streams), (len(ids) - 1) // 2))
        length = (len(ids) - 1) // streams
        total, count = 0.0, 0
        pieces = [(ids[k * length: (k + 1) * length], ids[k * length + 1: (k + 1) * length + 1])
                  for k in range(streams)]
        rest = ids[streams * length:]          # the tail that does not fill a stream
        state = self.zero_state(streams)
        x_all = np.stack([p[0] for p in pieces])
        y_all = np.stack([p[1] for p in pieces])
        for start in range(0, length, seq_len):
            scores, state = self.stream(x_all[:, start:start + seq_len], state)
            total += _summed_nll(scores, y_all[:, start:start + seq_len])
            count += y_all[:, start:start + seq_len].size
        if len(rest) >= 2:
            scores, _ = self.stream(rest[None, :-1], self.zero_state(1))
            total += _summed_nll(scores, rest[None, 1:])
            count += len(rest) - 1
        return total / count

    # files: the weights, the architecture, the vocabulary and the configuration

    def save(self, path):
        """Write the weights, the vocabulary, the configuration and ``metadata`` (a dict of
        numbers and strings, as JSON) to the .npz file ``path`` (reproducibly, via
        scratchdl.io; no pickle)."""
        arrays = {**self.params, **self.buffers, ARCHITECTURE_KEY: np.array(self.architecture()),
                  "__chars__": np.array(self.chars), "__config__": np.array(json.dumps(self.config, sort_keys=True)),
                  "__metadata__": np.array(json.dumps(self.metadata, sort_keys=True))}
        io.write_npz(path, dict(sorted(arrays.items())))

    def load(self, path):
        """Load a file written by save() into this model (same vocabulary and architecture),
        in place; everything is checked before anything is assigned. Returns self."""
        path = os.fspath(path)
        arrays = io.read_npz(path, what="model file")
        chars = arrays.pop("__chars__", None)
        arrays.pop("__config__", None)
        metadata = arrays.pop("__metadata__", None)
        arch = arrays.pop(ARCHITECTURE_KEY, None)
        if chars is None or arch is None:
            raise ValueError(f"{path}: not a CharLanguageModel file (no vocabulary or architecture)")
        if str(chars) != self.chars:
            raise ValueError(f"{path} was saved with another vocabulary ({len(str(chars))} characters, "
                             f"this model has {len(self.chars)})")
        if str(arch) != self.architecture():
            raise ValueError(f"{path} was saved from a different architecture:\n  file:  {_summary(str(arch))}\n"
                             f"  model: {_summary(self.architecture())}")
        self._assign(arrays, path)
        self.metadata = {} if metadata is None else json.loads(str(metadata))
        return self

    @classmethod
    def from_file(cls, path):
        """The model saved in ``path``, built from the vocabulary and configuration stored there."""
        arrays = io.read_npz(os.fspath(path), what="model file")
        if "__chars__" not in arrays or "__config__" not in arrays:
            raise ValueError(f"{path}: not a CharLanguageModel file (no vocabulary or configuration)")
        config = json.loads(str(arrays["__config__"]))
        model = cls(str(arrays["__chars__"]), embed_dim=config["embed_dim"], hidden=config["hidden"],
                    layers=config["layers"], dropout=config["dropout"], forget_bias=config["forget_bias"],
                    rng=0, dtype=np.dtype(config["dtype"]))
        return model.load(path)

    def __repr__(self):
        return f"CharLanguageModel({len(self.chars)} characters, " + \
            ", ".join(f"{k}={v}" for k, v in self.config.items() if k != "dtype") + ")"


def _summed_nll(scores, targets):
    """Sum over positions of -log softmax(scores)[target], in float64."""
    s = scores.astype(np.float64).reshape(-1, scores.shape[-1])
    s -= s.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(s).sum(axis=1))
    return float(np.sum(log_z - s[np.arange(len(s)), np.asarray(targets).ravel()]))


# --- the shipped model's recipe (registered in scratchdl.pretrained as "char_lstm") --------------
# One LSTM layer of 512 units over 64-dimensional character vectors, float32, dropout 0.2 on
# the LSTM's outputs (without it a model of this size overfits: its training loss keeps
# falling while the held-out loss levels off); six epochs; Adam with a learning rate
# falling along a cosine and gradient clipping by global norm; truncated
# backpropagation through time over windows of 100 characters in 64 streams, each epoch
# starting the cut at a random offset. Every 10th batch starts from a zero state
# instead of the carried one: evaluation and sampling start from zeros, and a model that
# never trained from there can latch into states it never saw (measured: a 128-unit model
# after 150 steps scored 7 nats per character on a quarter of Macbeth's stretches, started
# from zeros, and 2.4 on the others; resetting every 10th batch removed it). Validation:
# the three held-out plays. max_steps (None: every step of the epochs) stops a run early,
# with the schedule still laid out for the whole run.

CHAR_LSTM_CONFIG = {"embed_dim": 64, "hidden": 512, "layers": 1, "dropout": 0.2, "batch_size": 64,
                    "seq_len": 100, "learning_rate": 2e-3, "final_learning_rate": 1e-4, "max_norm": 5.0,
                    "reset_every": 10, "max_steps": None}
CHAR_LSTM_EPOCHS = 6


def _shakespeare(data):
    if data is not None:
        return data
    from . import datasets
    return datasets.load_shakespeare()


def char_vocabulary(train_text, valid):
    """Every character of the training text and the held-out plays, sorted by code point."""
    return "".join(sorted(set(train_text).union(*map(set, valid.values()))))


def char_lstm_build(seed=0, chars=None, config=None):
    """The untrained shipped architecture. chars: the vocabulary (default: Shakespeare's)."""
    config = {**CHAR_LSTM_CONFIG, **(config or {})}
    if chars is None:
        chars = char_vocabulary(*_shakespeare(None))
    return CharLanguageModel(chars, embed_dim=config["embed_dim"], hidden=config["hidden"],
                             layers=config["layers"], dropout=config["dropout"], rng=seed, dtype=np.float32)


def char_lstm_load(path):
    """The model in the file ``path`` (written by CharLanguageModel.save)."""
    return CharLanguageModel.from_file(path)


def validation_losses(model, valid, streams=32):
    """{play: nats per character} for each held-out text, and "all": their character-weighted
    mean (the loss on the three plays together)."""
    losses = {name: model.text_loss(text, streams=streams) for name, text in valid.items()}
    weights = {name: len(text) - 1 for name, text in valid.items()}
    losses["all"] = sum(losses[k] * weights[k] for k in weights) / sum(weights.values())
    return losses


def _log_line(epoch, losses):
    """One line of the training log: the held-out losses after ``epoch`` epochs."""
    return (f"epoch {epoch:5.2f}: validation {losses['all']:.4f} nats/char "
            f"({losses['all'] / math.log(2):.3f} bits); "
            + ", ".join(f"{k} {v:.4f}" for k, v in losses.items() if k != "all"))


def train_probe(train_text, valid):
    """A stretch of the training text as long as the held-out plays together, from its
    middle: the final model's loss on it, measured like the held-out loss, shows how much
    better it knows text it trained on."""
    n = sum(len(text) for text in valid.values())
    start = max(0, (len(train_text) - n) // 2)
    return train_text[start:start + n]


def char_lstm_train(epochs=CHAR_LSTM_EPOCHS, seed=0, progress=True, data=None, config=None,
                    checkpoint=None, evals_per_epoch=1, log=None, checkpoint_every=100):
    """Train the shipped character model. data: (train_text, {play: text}) (default
    scratchdl.datasets.load_shakespeare()); config: overrides of CHAR_LSTM_CONFIG.
    checkpoint: a path the model is saved to every ``checkpoint_every`` steps and after every
    evaluation; log: a callable that gets each log line as it is made (e.g. print), and a
    line with the training loss every 100 steps. Returns (model, report): the report has
    the validation loss of the three plays together and of each play, in nats per
    character, the same in bits, the loss on a stretch of the training text measured the
    same way ("train loss", see train_probe), the training time and "log", one line per
    evaluation. The model's ``metadata`` holds the same (without
    the time), and save() writes it into the file."""
    from .optimizers import Adam, ClipGradNorm
    from .schedules import Scheduled, cosine_decay
    from .training import SequenceBatches
    config = {**CHAR_LSTM_CONFIG, **(config or {})}
    train_text, valid = _shakespeare(data)
    epochs = check_positive_int(epochs, "epochs", "char_lstm_train")
    model = char_lstm_build(seed, chars=char_vocabulary(train_text, valid), config=config)
    ids = model.encode(train_text)
    rng = np.random.default_rng(seed)
    batch_size, seq_len = config["batch_size"], config["seq_len"]
    per_epoch = len(SequenceBatches(ids[seq_len:], batch_size, seq_len))   # the shortest an epoch gets
    total = epochs * per_epoch
    stop = total if config.get("max_steps") is None else min(total, config["max_steps"])
    schedule = cosine_decay(config["learning_rate"], total=total, final=config["final_learning_rate"])
    optimizer = ClipGradNorm(Scheduled(Adam(config["learning_rate"]), schedule), config["max_norm"])
    eval_at = {round(per_epoch * k / evals_per_epoch) for k in range(1, evals_per_epoch + 1)}
    lines, start = [], time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=stop, unit="step")
    done, losses = 0, None
    for epoch in range(epochs):
        if done == stop:
            break
        offset = int(rng.integers(seq_len))            # a different cut into windows each epoch
        batches = SequenceBatches(ids[offset:], batch_size, seq_len)
        model.reset_state()
        epoch_losses = []
        for step, (x, y) in enumerate(batches, start=1):
            if step > per_epoch or done == stop:
                break
            if config["reset_every"] and step % config["reset_every"] == 0:
                model.reset_state()
            loss = model.loss(x, y, train=True)
            optimizer.step(model.params, model.backward())
            epoch_losses.append(loss)
            done += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
            if checkpoint is not None and step % checkpoint_every == 0:
                model.save(checkpoint)
            if log is not None and step % 100 == 0:
                log(f"  step {epoch * per_epoch + step}/{total}: loss {np.mean(epoch_losses[-100:]):.4f}, "
                    f"{time.perf_counter() - start:.0f} s")
            losses = None
            if step in eval_at or done == stop:
                losses = validation_losses(model, valid)
                line = _log_line(epoch + step / per_epoch, losses)
                lines.append(line)
                if log is not None:
                    log(line + f"; running train loss {np.mean(epoch_losses[-100:]):.4f}; "
                        f"{time.perf_counter() - start:.0f} s")
                if checkpoint is not None:
                    model.save(checkpoint)
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - start
    if losses is None:          # the last step was not followed by an evaluation
        losses = validation_losses(model, valid)
    report = {"log": lines, "validation loss": losses["all"],
              "validation bits per character": losses["all"] / math.log(2)}
    report.update({f"validation loss {k}": v for k, v in losses.items() if k != "all"})
    report["train loss"] = model.text_loss(train_probe(train_text, valid), streams=32)
    report["training seconds"] = seconds
    # saved with the weights (the wall time is not: equal weights must give equal bytes)
    model.metadata = {"recipe": f"char_lstm_train(epochs={epochs}, seed={seed})", "config": config,
                      **{k: v for k, v in report.items() if k != "training seconds"}}
    return model, report
