"""Words as vectors (chapter 9): tokens, a vocabulary, bags of words, and word2vec.

Text becomes numbers in three steps, each a few lines here:

- ``tokenize(text)``: lowercase words, HTML line breaks and punctuation removed
  ("Great<br />fun!" -> ["great", "fun"]); apostrophes inside a word stay ("don't").
- ``Vocabulary``: the words kept (seen at least ``min_count`` times), most frequent first,
  after the special tokens (a padding id 0 and an unknown-word id 1 by default); it turns
  tokens into ids and back.
- ``bag_of_words`` (multi-hot rows, one column per word) and ``unique_ids`` (the same
  information as padded lists of ids, what an ``Embedding`` layer with a padding row sums).

Word vectors by skip-gram with negative sampling (Mikolov et al. 2013, "Distributed
representations of words and phrases and their compositionality"): ``SkipGram`` trains
them, ``WordVectors`` holds them and answers ``nearest`` and ``analogy`` queries by cosine
similarity on unit-length vectors, and scores them on the Google analogy questions
(``evaluate_analogies``). The recipe of the shipped vectors is ``word2vec_train``.
"""
from __future__ import annotations

import re
import time
from collections import Counter

import numpy as np

from . import io
from .utils import as_rng, check_positive_int, check_positive_number

PAD, UNK = "<pad>", "<unk>"


# ---------------------------------------------------------------------------- tokens

class Tokenizer:
    """Split text into lowercase words: ``Tokenizer()("It's great!<br />Fun.")`` ->
    ``["it's", "great", "fun"]``.

    HTML tags (IMDB reviews hold ``<br />`` line breaks) become spaces; a word is a run of
    letters and digits, possibly joined by apostrophes inside it; every other character
    (punctuation, hyphens, quotes) separates words. Empty or blank text gives [].
    """

    _tag = re.compile(r"<[^>]*>")
    _word = re.compile(r"[^\W_]+(?:'[^\W_]+)*")

    def __init__(self, lowercase=True):
        self.lowercase = bool(lowercase)

    def __call__(self, text):
        if not isinstance(text, str):
            raise ValueError(f"Tokenizer expected a str, got {type(text).__name__}")
        text = self._tag.sub(" ", text).replace("\u2019", "'")   # curly apostrophe -> '
        if self.lowercase:
            text = text.lower()
        return self._word.findall(text)

    def __repr__(self):
        return f"Tokenizer(lowercase={self.lowercase})"


tokenize = Tokenizer()


class Vocabulary:
    """The words a model knows, each with an id.

    counts: {word: count} (a Counter of tokens). Words seen fewer than ``min_count`` times
    are dropped; the rest are sorted most frequent first (ties alphabetically), and cut to
    ``max_size`` words if given. ``specials`` come first with count 0: by default ``"<pad>"``
    (id 0, for padding) and ``"<unk>"`` (id 1, every unknown word). ``unknown`` names the
    special that stands for unknown words, or None: then encoding an unknown word is a
    KeyError unless ``drop_unknown``.

    words: list of str (id -> word); index: {word: id}; counts: (V,) int64.
    """

    def __init__(self, counts, min_count=1, max_size=None, specials=(PAD, UNK), unknown=UNK):
        min_count = check_positive_int(min_count, "min_count", "Vocabulary")
        if max_size is not None:
            max_size = check_positive_int(max_size, "max_size", "Vocabulary")
        specials = list(specials)
        if unknown is not None and unknown not in specials:
            raise ValueError(f"Vocabulary: unknown={unknown!r} must be one of the specials {specials}")
        if len(set(specials)) != len(specials):
            raise ValueError(f"Vocabulary: the specials {specials} repeat a token")
        kept = sorted(((w, c) for w, c in counts.items() if c >= min_count and w not in specials),
                      key=lambda wc: (-wc[1], wc[0]))
        if max_size is not None:
            kept = kept[:max_size]
        self.words = specials + [w for w, _ in kept]
        self.counts = np.array([0] * len(specials) + [c for _, c in kept], dtype=np.int64)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.specials = specials
        self.unknown = unknown
        self.unknown_id = None if unknown is None else self.index[unknown]

    @classmethod
    def from_texts(cls, texts, tokenizer=tokenize, **kwargs):
        """A Vocabulary of the tokens of `texts` (a list of str); kwargs as for the constructor."""
        counts = Counter()
        for text in texts:
            counts.update(tokenizer(text))
        return cls(counts, **kwargs)

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def __getitem__(self, word):
        """The id of `word`; the unknown id for a word not kept (KeyError if there is none)."""
        i = self.index.get(word, self.unknown_id)
        if i is None:
            raise KeyError(f"{word!r} is not in the vocabulary (and it has no unknown token)")
        return i

    def encode(self, tokens, drop_unknown=False):
        """tokens: list of str -> (L,) int64 ids. Unknown words get the unknown id, or are
        left out with ``drop_unknown`` (as word2vec does)."""
        index, unk = self.index, self.unknown_id
        if drop_unknown:
            ids = [i for i in map(index.get, tokens) if i is not None]
        else:
            ids = [index.get(t, unk) for t in tokens]
            if unk is None and any(i is None for i in ids):
                missing = next(t for t, i in zip(tokens, ids) if i is None)
                raise KeyError(f"{missing!r} is not in the vocabulary (and it has no unknown token); "
                               f"pass drop_unknown=True to leave unknown words out")
        return np.array(ids, dtype=np.int64)

    def decode(self, ids):
        """ids -> list of words."""
        return [self.words[int(i)] for i in np.ravel(ids)]

    def __repr__(self):
        return f"Vocabulary({len(self)} words, specials={self.specials})"


def bag_of_words(docs, vocab_size, binary=True, dtype=np.float32):
    """Documents as rows of word counts: docs: list of (L_i,) id arrays -> (N, vocab_size).

    binary=True: a **multi-hot** row, 1 where the word occurs at all (Trask's encoding);
    False: how many times. Dense, so keep vocab_size and N moderate (25,000 x 10,000 float32
    is 1 GB: use ``unique_ids`` with an Embedding layer for large sets).
    """
    vocab_size = check_positive_int(vocab_size, "vocab_size", "bag_of_words")
    out = np.zeros((len(docs), vocab_size), dtype=dtype)
    for row, ids in enumerate(docs):
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
            raise ValueError(f"bag_of_words: document {row} has ids outside [0, {vocab_size})")
        if binary:
            out[row, ids] = 1
        else:
            np.add.at(out[row], ids, 1)
    return out


def pad_sequences(docs, max_len=None, pad_id=0):
    """docs: list of (L_i,) id arrays -> (N, T) int64, each row its ids then `pad_id`; T is
    the longest length, or ``max_len`` (longer documents are cut at the end)."""
    lengths = [len(d) for d in docs]
    t = max(lengths, default=0) if max_len is None else check_positive_int(max_len, "max_len", "pad_sequences")
    out = np.full((len(docs), max(t, 1)), pad_id, dtype=np.int64)
    for row, ids in enumerate(docs):
        ids = np.asarray(ids, dtype=np.int64)[:t]
        out[row, :len(ids)] = ids
    return out


def unique_ids(docs, max_len=None, pad_id=0, drop=()):
    """Each document's distinct ids, sorted (most frequent words first, for a Vocabulary),
    then `pad_id`: the multi-hot row written as a list. docs: list of id arrays -> (N, T)
    int64, T the largest number of distinct ids, or ``max_len`` (the rarest words of longer
    documents are cut). Summing an Embedding's rows over these ids (its padding row is
    zero) equals ``bag_of_words(docs) @ W``. ``drop``: ids to leave out (e.g. unknown).
    """
    n = len(docs)
    lengths = np.array([len(d) for d in docs], dtype=np.int64)
    flat = np.concatenate([np.asarray(d, dtype=np.int64) for d in docs]) if n else np.zeros(0, np.int64)
    doc = np.repeat(np.arange(n), lengths)
    if len(drop):
        keep = ~np.isin(flat, np.asarray(list(drop), dtype=np.int64))
        flat, doc = flat[keep], doc[keep]
    # one sort for all documents: (document, id) pairs as single integers
    base = int(flat.max()) + 1 if flat.size else 1
    pairs = np.sort(doc * base + flat)     # np.unique without return_inverse hashes: slower
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if pairs.size else pairs
    doc, ids = np.divmod(pairs, base)
    counts = np.bincount(doc, minlength=n)
    t = int(counts.max(initial=0)) if max_len is None else check_positive_int(max_len, "max_len", "unique_ids")
    position = np.arange(len(pairs)) - np.repeat(np.cumsum(counts) - counts, counts)
    inside = position < t
    out = np.full((n, max(t, 1)), pad_id, dtype=np.int64)
    out[doc[inside], position[inside]] = ids[inside]
    return out


# ---------------------------------------------------------------------------- word vectors

def _unit_rows(x):
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


class WordVectors:
    """One vector per word, and the questions one asks of them.

    words: list of V str, most frequent first; vectors: (V, D) float32; counts: (V,) int64
    (optional). Similarity is the cosine, computed on unit-length copies of the vectors
    (``unit``): without the normalisation, long vectors (frequent words) win every query.
    """

    def __init__(self, words, vectors, counts=None):
        words = [str(w) for w in words]
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"WordVectors expected vectors of shape ({len(words)}, D), one row per "
                             f"word, got {vectors.shape}")
        self.words = words
        self.vectors = vectors
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self.index = {w: i for i, w in enumerate(words)}
        if len(self.index) != len(words):
            raise ValueError("WordVectors: a word appears twice in words")
        self.unit = _unit_rows(vectors)

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def __getitem__(self, word):
        return self.vectors[self._id(word)]

    def __repr__(self):
        return f"WordVectors({len(self.words)} words, dim {self.vectors.shape[1]})"

    def _id(self, word):
        try:
            return self.index[word]
        except KeyError:
            raise KeyError(f"{word!r} is not in the vocabulary of these vectors") from None

    def _top(self, target, k, exclude):
        """The k words whose unit vectors have the largest cosine with `target` (D,)."""
        target = target / (np.linalg.norm(target) or 1.0)
        scores = self.unit @ target.astype(np.float32)
        scores[list(exclude)] = -np.inf
        k = min(check_positive_int(k, "k", "WordVectors"), len(scores) - len(set(exclude)))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")][:k]
        return [(self.words[i], float(scores[i])) for i in top]

    def head(self, n):
        """The first n words (the n most frequent) and their vectors, as new WordVectors."""
        n = check_positive_int(n, "n", "WordVectors.head")
        counts = None if self.counts is None else self.counts[:n]
        return WordVectors(self.words[:n], self.vectors[:n], counts)

    def similarity(self, a, b):
        """The cosine of the vectors of words a and b."""
        return float(self.unit[self._id(a)] @ self.unit[self._id(b)])

    def nearest(self, word, k=10):
        """The k words most similar to `word` (a str, not itself included, or a (D,) vector):
        a list of (word, cosine), best first."""
        if isinstance(word, str):
            i = self._id(word)
            return self._top(self.unit[i], k, exclude=[i])
        return self._top(np.asarray(word, dtype=np.float32), k, exclude=[])

    def analogy(self, a, b, c, k=5):
        """a is to b as c is to ?: the k words closest to b - a + c (3CosAdd), as (word, cosine).

        ``analogy("man", "king", "woman")`` asks king - man + woman. The three vectors are
        made unit length first, and a, b and c themselves are never answers (otherwise b
        would usually win: the offset b - a is small next to b).
        """
        ids = [self._id(w) for w in (a, b, c)]
        target = self.unit[ids[1]] - self.unit[ids[0]] + self.unit[ids[2]]
        return self._top(target, k, exclude=ids)

    def evaluate_analogies(self, path=None, restrict_vocab=None, batch_size=512):
        """Accuracy on analogy questions, per section and overall (Mikolov et al.'s format).

        path: a questions file, ``: section`` lines followed by lines ``a b c d`` meaning
        a : b :: c : d (``.txt`` or ``.txt.gz``; default the Google set of
        ``scratchdl.datasets.analogy_questions_path()``). Words are lowercased. A question
        counts as right when d is the top answer of ``analogy(a, b, c)``, searched among the
        first ``restrict_vocab`` words (most frequent first; default all). Questions with a
        word outside those are not asked: they are counted in "oov".

        Returns {"accuracy", "correct", "total", "oov", "sections": {name: {"accuracy",
        "correct", "total", "oov"}}}; "total" counts the questions asked.
        """
        if path is None:
            from . import datasets
            path = datasets.analogy_questions_path()
        sections = read_analogy_questions(path)
        n = len(self.words) if restrict_vocab is None else min(len(self.words), int(restrict_vocab))
        unit = self.unit[:n]
        result = {"sections": {}}
        for name, questions in sections.items():
            ids = [[self.index.get(w, n) for w in q] for q in questions]
            ids = np.array(ids, dtype=np.int64).reshape(-1, 4)
            known = np.all(ids < n, axis=1)
            asked = ids[known]
            correct = 0
            for start in range(0, len(asked), batch_size):
                q = asked[start:start + batch_size]
                target = unit[q[:, 1]] - unit[q[:, 0]] + unit[q[:, 2]]
                scores = target @ unit.T
                rows = np.arange(len(q))[:, None]
                scores[rows, q[:, :3]] = -np.inf           # the question's own words are no answer
                correct += int(np.sum(np.argmax(scores, axis=1) == q[:, 3]))
            total = len(asked)
            result["sections"][name] = {"accuracy": correct / total if total else float("nan"),
                                        "correct": correct, "total": total,
                                        "oov": int(len(ids) - total)}
        parts = result["sections"].values()
        result["correct"] = sum(s["correct"] for s in parts)
        result["total"] = sum(s["total"] for s in parts)
        result["oov"] = sum(s["oov"] for s in parts)
        result["accuracy"] = result["correct"] / result["total"] if result["total"] else float("nan")
        return result

    def save(self, path, dtype=np.float16):
        """Write words (unicode array), vectors (as `dtype`, float16 by default) and counts to
        an .npz file, the same bytes for the same vectors (scratchdl.io.write_npz)."""
        arrays = {"words": np.array(self.words, dtype=str), "vectors": self.vectors.astype(dtype)}
        if self.counts is not None:
            arrays["counts"] = self.counts
        io.write_npz(path, arrays)

    @classmethod
    def load(cls, path):
        """The vectors of a file written by save(); read without pickle, as float32."""
        arrays = io.read_npz(path, what="word-vector file")
        for key in ("words", "vectors"):
            if key not in arrays:
                raise ValueError(f"{path}: not a word-vector file (no {key!r} array)")
        if arrays["words"].dtype.kind != "U" or arrays["vectors"].dtype.kind != "f":
            raise ValueError(f"{path}: not a word-vector file (words must be text, vectors floats)")
        return cls(arrays["words"].tolist(), arrays["vectors"], arrays.get("counts"))


def read_analogy_questions(path):
    """{section: list of (a, b, c, d) lowercase tuples} from a questions file (.txt or .txt.gz)."""
    import gzip
    opener = gzip.open if str(path).endswith(".gz") else open
    sections, current = {}, None
    with opener(path, "rt", encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith(":"):
                current = sections.setdefault(line[1:].strip(), [])
                continue
            words = line.lower().split()
            if current is None or len(words) != 4:
                raise ValueError(f"{path}, line {number}: expected ': section' or four words, got {line!r}")
            current.append(tuple(words))
    return sections


# ---------------------------------------------------------------------------- skip-gram

def sgns_loss(context_vectors, mask, output_vectors):
    """The skip-gram negative-sampling loss of a batch of centre words, and its gradients.

    For centre word p, its contexts c (rows of ``context_vectors[p]`` where ``mask[p]``)
    and output rows o_0 (the centre word's own output vector) and o_1..o_K (K negative
    samples, shared by the contexts of p), summed over every pair (p, c):

        loss = - sum  [ log sigmoid(v_c . o_0) + sum_k log sigmoid(-v_c . o_k) ]

    context_vectors: (P, C, D); mask: (P, C) bool (the windows are of different sizes);
    output_vectors: (P, 1 + K, D). Returns (loss, d context_vectors, d output_vectors);
    the gradient rows of masked contexts are zero.
    """
    scores = np.matmul(context_vectors, output_vectors.transpose(0, 2, 1))   # (P, C, 1+K)
    with np.errstate(over="ignore"):                 # exp(-s) = inf for s << 0: sigmoid 0
        sigmoid = 1.0 / (1.0 + np.exp(-scores))
    label = np.zeros(scores.shape[-1], dtype=scores.dtype)
    label[0] = 1.0                                   # 1 for the true word, 0 for the noise
    weight = mask[..., None].astype(scores.dtype)
    # -log sigmoid(s) for the true word, -log sigmoid(-s) = -log(1 - sigmoid(s)) for noise;
    # the floor keeps a saturated score from giving log(0)
    likelihood = np.where(label > 0, sigmoid, 1.0 - sigmoid)
    loss = -float(np.sum(np.log(np.maximum(likelihood, 1e-30)) * weight))
    g = (sigmoid - label) * weight                   # d loss / d score
    return loss, np.matmul(g, output_vectors), np.matmul(g.transpose(0, 2, 1), context_vectors)


def _scatter_add(table, ids, rows):
    """table[ids] += rows, adding every row even when ids repeat (a word used twice in a
    batch gets both updates; ``table[ids] += rows`` would keep only one).

    ids: (n,) ints, rows: (n, D). Rows are sorted by id; an id that occurs once is added
    directly, the rows of a repeated id are summed first (differences of a running sum in
    float64), then each distinct row is written once. Several times faster than np.add.at.
    """
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    first = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    lengths = np.diff(np.r_[first, len(ids)])
    once = lengths == 1
    table[sorted_ids[first[once]]] += rows[order[first[once]]]
    repeated = np.repeat(~once, lengths)
    if repeated.any():
        rep_ids, rep_rows = sorted_ids[repeated], rows[order[repeated]]
        last = np.flatnonzero(np.r_[rep_ids[1:] != rep_ids[:-1], True])
        sums = np.cumsum(rep_rows, axis=0, dtype=np.float64)[last]
        sums[1:] -= sums[:-1].copy()
        table[rep_ids[last]] += sums.astype(table.dtype, copy=False)


class SkipGram:
    """word2vec's skip-gram with negative sampling, in NumPy, a batch of centre words at a time.

    Each word w has an input vector (``W_in``, the word vectors kept at the end) and an
    output vector (``W_out``). For every position of the text and every context word within
    a window of random size 1..``window`` around it, the model is trained to tell the true
    word (score v_context . o_w high) from ``negatives`` noise words drawn from the unigram
    distribution raised to 0.75 (scores low). As in word2vec: words seen fewer than
    ``min_count`` times are dropped; frequent words are randomly left out before the
    windows are cut (``subsample``, t in Mikolov et al.: a word of frequency f is kept with
    probability (sqrt(f / t) + 1) t / f); the learning rate falls linearly from
    ``learning_rate`` to ``min_learning_rate`` over the whole run.

    The one departure from word2vec, for speed: the K noise words are drawn once per
    position and shared by that position's (up to 2 * window) context pairs, so that a
    batch is a few dense matrix products (``sgns_loss``) and two scatter-adds. Each pair
    still meets K independent noise words, so the expected update is word2vec's.
    batch_size: positions per update. Every random choice comes from ``seed``.
    """

    def __init__(self, dim=100, window=5, negatives=5, min_count=5, subsample=1e-3,
                 learning_rate=0.025, min_learning_rate=0.0001 * 0.025, batch_size=1024, seed=0,
                 dtype=np.float32):
        self.dim = check_positive_int(dim, "dim", "SkipGram")
        self.window = check_positive_int(window, "window", "SkipGram")
        self.negatives = check_positive_int(negatives, "negatives", "SkipGram")
        self.min_count = check_positive_int(min_count, "min_count", "SkipGram")
        self.subsample = float(subsample)   # 0: no subsampling
        self.learning_rate = check_positive_number(learning_rate, "learning_rate", "SkipGram")
        self.min_learning_rate = float(min_learning_rate)
        self.batch_size = check_positive_int(batch_size, "batch_size", "SkipGram")
        self.seed = seed
        self.dtype = np.dtype(dtype)
        self.vocabulary = None
        self.W_in = self.W_out = None

    def __repr__(self):
        return (f"SkipGram(dim={self.dim}, window={self.window}, negatives={self.negatives}, "
                f"min_count={self.min_count}, subsample={self.subsample:g})")

    # -- data

    def build_vocabulary(self, sentences):
        """sentences: list of token lists. Keeps words seen >= min_count times (no specials)
        and initialises the vectors: W_in uniform in +-0.5/dim, W_out zero (as word2vec)."""
        counts = Counter()
        for tokens in sentences:
            counts.update(tokens)
        self.vocabulary = Vocabulary(counts, min_count=self.min_count, specials=(), unknown=None)
        if len(self.vocabulary) < 2:
            raise ValueError(f"SkipGram: fewer than 2 words are seen min_count={self.min_count} times")
        v = len(self.vocabulary)
        rng = as_rng(self.seed)
        self.W_in = ((rng.random((v, self.dim)) - 0.5) / self.dim).astype(self.dtype)
        self.W_out = np.zeros((v, self.dim), dtype=self.dtype)
        counts = self.vocabulary.counts.astype(np.float64)
        noise = counts ** 0.75
        self._noise_cdf = np.cumsum(noise / noise.sum())
        self._noise_cdf[-1] = 1.0
        if self.subsample > 0:
            threshold = self.subsample * counts.sum()
            self._keep = np.minimum(1.0, (np.sqrt(counts / threshold) + 1) * threshold / counts)
        else:
            self._keep = np.ones(v)
        return self.vocabulary

    def encode(self, sentences):
        """sentences -> (ids (L,) int32, sentence number of each id (L,) int32), unknown
        words dropped: the corpus as one array, with the boundaries windows may not cross."""
        pieces = [self.vocabulary.encode(s, drop_unknown=True) for s in sentences]
        ids = np.concatenate(pieces).astype(np.int32) if pieces else np.zeros(0, np.int32)
        sentence = np.repeat(np.arange(len(pieces), dtype=np.int32), [len(p) for p in pieces])
        return ids, sentence

    def noise(self, rng, shape):
        """Noise word ids of the given shape, drawn from unigram^0.75."""
        return np.searchsorted(self._noise_cdf, rng.random(shape)).astype(np.int64)

    # -- training

    def fit(self, sentences, epochs=5, progress=True, log=None):
        """Train on sentences (a list of token lists; windows stay inside a sentence).

        Builds the vocabulary first if there is none. Returns the history: per epoch the
        mean loss per pair, the words (before subsampling) per second, the pairs seen.
        log: called with one line of text per epoch (e.g. print).
        """
        if self.vocabulary is None:
            self.build_vocabulary(sentences)
        ids, sentence = self.encode(sentences)
        return self.fit_ids(ids, sentence, epochs=epochs, progress=progress, log=log)

    def fit_ids(self, ids, sentence, epochs=5, progress=True, log=None):
        """fit() on an encoded corpus (see encode)."""
        epochs = check_positive_int(epochs, "epochs", "SkipGram.fit")
        rng = as_rng(self.seed + 1 if isinstance(self.seed, (int, np.integer)) else self.seed)
        history = {"epoch": [], "loss": [], "words_per_second": [], "pairs": [], "seconds": []}
        total_words, done_words = epochs * len(ids), 0
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=total_words, unit="word", unit_scale=True, leave=True)
        try:
            for epoch in range(1, epochs + 1):
                start = time.perf_counter()
                keep = rng.random(len(ids)) < self._keep[ids]      # subsampling, afresh each epoch
                kept, kept_sentence = ids[keep], sentence[keep]
                reach = rng.integers(1, self.window + 1, size=len(kept))   # each position's window
                position_words = len(ids) / max(len(kept), 1)       # raw words per kept position
                loss_sum, pairs = 0.0, 0
                for s in range(0, len(kept), self.batch_size):
                    e = min(s + self.batch_size, len(kept))
                    progress_fraction = (done_words + s * position_words) / total_words
                    lr = self.learning_rate + (self.min_learning_rate - self.learning_rate) * progress_fraction
                    batch_loss, batch_pairs = self._step(kept, kept_sentence, reach, s, e, lr, rng)
                    loss_sum += batch_loss
                    pairs += batch_pairs
                    if bar is not None:
                        bar.update(round(e * position_words) - round(s * position_words))
                done_words += len(ids)
                seconds = time.perf_counter() - start
                history["epoch"].append(epoch)
                history["loss"].append(loss_sum / max(pairs, 1))
                history["words_per_second"].append(len(ids) / seconds)
                history["pairs"].append(pairs)
                history["seconds"].append(seconds)
                if log is not None:
                    log(f"epoch {epoch:2d}: loss per pair {history['loss'][-1]:.4f}, "
                        f"{pairs:,} pairs, {len(ids) / seconds:,.0f} words/s")
        finally:
            if bar is not None:
                bar.close()
        return history

    def _step(self, kept, kept_sentence, reach, s, e, lr, rng):
        """One update for the centre positions s..e of the subsampled corpus `kept`.

        The context of centre p at offset o is the token at p + o, so the batch needs the
        input vectors of tokens s - window .. e + window only: they are gathered once (E),
        the (P, 2 window, D) contexts are slices of E, and the context gradients are added
        back onto E's rows slice by slice before one scatter into W_in.
        """
        n, w, p = len(kept), self.window, e - s
        offsets = np.r_[-w:0, 1:w + 1]
        span = np.arange(s - w, e + w)                          # token positions used
        inside = (span >= 0) & (span < n)
        span_c = np.clip(span, 0, n - 1)
        words, sentences = kept[span_c], kept_sentence[span_c]
        centre = np.arange(w, w + p)                            # centres, as indices into span
        mask = (np.abs(offsets) <= reach[s:e, None]) & inside[centre[:, None] + offsets] & \
            (sentences[centre[:, None] + offsets] == sentences[centre, None])
        E = self.W_in[words]                                    # (P + 2w, D)
        # contexts[i, j] = E[i + j]: every window of 2w + 1 rows as a view (no copy); the
        # middle row (the centre itself) is masked out
        contexts = np.lib.stride_tricks.as_strided(
            E, shape=(p, 2 * w + 1, self.dim), strides=(E.strides[0],) + E.strides, writeable=False)
        mask = np.insert(mask, w, False, axis=1)
        out_ids = np.concatenate([words[centre, None], self.noise(rng, (p, self.negatives))], axis=1)
        loss, d_contexts, d_out = sgns_loss(contexts, mask, self.W_out[out_ids])
        d_E = np.zeros_like(E)
        for j in range(2 * w + 1):
            d_E[j:j + p] += d_contexts[:, j]
        used = inside & (np.any(d_E != 0, axis=1))
        _scatter_add(self.W_in, words[used], -lr * d_E[used])
        _scatter_add(self.W_out, out_ids.ravel(), -lr * d_out.reshape(-1, self.dim))
        return loss, int(mask.sum())

    save_words = None   # save() keeps this many of the most frequent words (None: all)

    def word_vectors(self):
        """The trained input vectors as WordVectors (words most frequent first)."""
        if self.W_in is None:
            raise RuntimeError("SkipGram has no vectors yet: call fit() first")
        return WordVectors(self.vocabulary.words, self.W_in, self.vocabulary.counts)

    def save(self, path):
        """The word vectors, float16 (WordVectors.save); only the ``save_words`` most
        frequent words if that is set."""
        vectors = self.word_vectors()
        if self.save_words is not None:
            vectors = vectors.head(self.save_words)
        vectors.save(path)


# ---------------------------------------------------------------------------- the shipped vectors
# Skip-gram on scratchdl.datasets.load_word2vec_corpus() (about 11.2 million words of
# English prose), with the settings below and every random choice from the seed; the file
# keeps the 30,000 most frequent words in float16. WORD2VEC_EPOCHS passes put "queen" first
# for king - man + woman (chapter 9 prints the top 5). scratchdl.pretrained registers
# word2vec_build / word2vec_train / word2vec_load as the recipe "word2vec".

WORD2VEC_EPOCHS = 5
WORD2VEC_SETTINGS = dict(dim=100, window=5, negatives=5, min_count=5, subsample=1e-4, batch_size=1024)
WORD2VEC_SHIPPED_WORDS = 30_000   # the file keeps the 30,000 most frequent words (6 MB in float16)


def word2vec_corpus(lines):
    """Raw text lines -> list of token lists (empty lines dropped)."""
    sentences = (tokenize(line) for line in lines)
    return [s for s in sentences if s]


def word2vec_build(seed=0):
    """The untrained model of the shipped vectors (its save() keeps the 30,000 most frequent words)."""
    model = SkipGram(**WORD2VEC_SETTINGS, seed=seed)
    model.save_words = WORD2VEC_SHIPPED_WORDS
    return model


def word2vec_train(epochs=WORD2VEC_EPOCHS, seed=0, progress=True, data=None):
    """Train the shipped vectors: returns (SkipGram with .save(path), report).

    data: raw text lines (default ``scratchdl.datasets.load_word2vec_corpus()``). The
    report holds "log" (one line per epoch), the corpus size, the training time, the
    accuracy on the Google analogy questions (when the file is available) and the top 5
    answers to king - man + woman.
    """
    if data is None:
        from . import datasets
        data = datasets.load_word2vec_corpus()
    sentences = word2vec_corpus(data)
    model = word2vec_build(seed)
    model.build_vocabulary(sentences)
    log = []

    def note(line):
        log.append(line)
        if progress:            # a long run: show each epoch as it ends
            print(line, flush=True)

    history = model.fit(sentences, epochs=epochs, progress=progress, log=note)
    seconds = float(np.sum(history["seconds"]))        # the epochs only, not the encoding
    vectors = model.word_vectors()
    if model.save_words is not None:
        vectors = vectors.head(model.save_words)      # scored as shipped
    words = sum(len(s) for s in sentences)
    report = {"log": log, "corpus words": words, "vocabulary": len(model.vocabulary),
              "words shipped": len(vectors),
              "training seconds": round(seconds, 1),
              "words per second": round(words * epochs / seconds)}
    try:
        from . import datasets
        path = datasets.analogy_questions_path()
    except Exception:   # noqa: BLE001 - no question file (tests, bare install): skip the score
        path = None
    if path is not None:
        scores = vectors.evaluate_analogies(path)
        report["analogy accuracy"] = scores["accuracy"]
        report["analogy questions asked"] = scores["total"]
    if all(w in vectors for w in ("king", "man", "woman")):
        top = vectors.analogy("man", "king", "woman", k=5)
        report["king - man + woman"] = ", ".join(f"{w} {c:.3f}" for w, c in top)
    return model, report


def word2vec_load(path):
    """The shipped vectors from `path`, as WordVectors."""
    return WordVectors.load(path)
