"""scratchdl.nlp: tokens, vocabulary, bags of words, skip-gram and word-vector queries."""
import gzip

import numpy as np
import pytest

from scratchdl import io, nlp
from scratchdl.gradients import numerical_gradient, rel_error
from scratchdl.layers import Embedding, SumOverTime


# ---------------------------------------------------------------------------- tokens

@pytest.mark.parametrize("text, tokens", [
    ("", []),
    ("   \n\t", []),
    ("!?...", []),
    ("Hello, World!", ["hello", "world"]),
    ("Great film.<br /><br />Loved it", ["great", "film", "loved", "it"]),
    ("It's a <i>well-known</i> 'classic'", ["it's", "a", "well", "known", "classic"]),
    ("Don\u2019t stop", ["don't", "stop"]),
    ("Café au lait, 1999", ["café", "au", "lait", "1999"]),
    ("snake_case words", ["snake", "case", "words"]),
])
def test_tokenize(text, tokens):
    assert nlp.tokenize(text) == tokens


def test_tokenizer_keeps_case_on_request_and_refuses_non_text():
    assert nlp.Tokenizer(lowercase=False)("The Cat") == ["The", "Cat"]
    with pytest.raises(ValueError, match="expected a str"):
        nlp.tokenize(["a", "list"])


# ---------------------------------------------------------------------------- vocabulary

def test_vocabulary_order_min_count_and_specials():
    vocab = nlp.Vocabulary.from_texts(["b a b c", "a b d d"], min_count=2)
    assert vocab.words == ["<pad>", "<unk>", "b", "a", "d"]     # b: 3, then a and d: 2 (alphabetical)
    assert vocab.counts.tolist() == [0, 0, 3, 2, 2]
    assert vocab["b"] == 2 and vocab["c"] == vocab.unknown_id == 1
    assert "c" not in vocab and "a" in vocab
    assert vocab.encode(["a", "zzz", "b"]).tolist() == [3, 1, 2]
    assert vocab.encode(["a", "zzz", "b"], drop_unknown=True).tolist() == [3, 2]
    assert vocab.decode([2, 3]) == ["b", "a"]
    assert vocab.encode([]).shape == (0,) and vocab.encode([]).dtype == np.int64


def test_vocabulary_edge_cases():
    empty = nlp.Vocabulary.from_texts(["", "  "])
    assert empty.words == ["<pad>", "<unk>"]
    assert empty.encode(nlp.tokenize("anything at all")).tolist() == [1, 1, 1]
    assert nlp.Vocabulary({"a": 5, "b": 4, "c": 3}, max_size=2).words == ["<pad>", "<unk>", "a", "b"]
    plain = nlp.Vocabulary({"a": 2, "b": 1}, specials=(), unknown=None)
    assert plain.words == ["a", "b"] and plain.unknown_id is None
    with pytest.raises(KeyError, match="not in the vocabulary"):
        plain.encode(["a", "c"])
    with pytest.raises(KeyError):
        plain["c"]
    assert plain.encode(["a", "c"], drop_unknown=True).tolist() == [0]
    with pytest.raises(ValueError, match="min_count"):
        nlp.Vocabulary({"a": 1}, min_count=0)
    with pytest.raises(ValueError, match="unknown"):
        nlp.Vocabulary({"a": 1}, specials=("<pad>",), unknown="<unk>")


# ---------------------------------------------------------------------------- bags of words

def test_bag_of_words_multi_hot_and_counts():
    docs = [np.array([2, 3, 2]), np.array([], dtype=int), np.array([4])]
    assert nlp.bag_of_words(docs, 5).tolist() == [[0, 0, 1, 1, 0], [0] * 5, [0, 0, 0, 0, 1]]
    assert nlp.bag_of_words(docs, 5, binary=False)[0].tolist() == [0, 0, 2, 1, 0]
    with pytest.raises(ValueError, match="outside"):
        nlp.bag_of_words(docs, 4)


def test_pad_sequences_and_unique_ids():
    docs = [np.array([5, 3, 5]), np.array([], dtype=int), np.array([2, 1, 4, 6])]
    assert nlp.pad_sequences(docs).tolist() == [[5, 3, 5, 0], [0, 0, 0, 0], [2, 1, 4, 6]]
    assert nlp.pad_sequences(docs, max_len=2).tolist() == [[5, 3], [0, 0], [2, 1]]
    assert nlp.unique_ids(docs).tolist() == [[3, 5, 0, 0], [0, 0, 0, 0], [1, 2, 4, 6]]
    assert nlp.unique_ids(docs, drop=[1]).tolist() == [[3, 5, 0], [0, 0, 0], [2, 4, 6]]
    assert nlp.pad_sequences([]).shape == (0, 1)


def test_embedding_sum_equals_multi_hot_product():
    rng = np.random.default_rng(0)
    docs = [rng.integers(2, 30, size=n) for n in (7, 1, 12, 3)]
    emb = Embedding(30, 4, padding_idx=0, rng=0)
    summed = SumOverTime().forward(emb.forward(nlp.unique_ids(docs)))
    np.testing.assert_allclose(summed, nlp.bag_of_words(docs, 30, dtype=np.float64) @ emb.params["W"])


# ---------------------------------------------------------------------------- skip-gram loss

def _loss_by_pairs(contexts, mask, outputs):
    """The skip-gram loss written pair by pair, the way word2vec loops."""
    sigmoid = lambda x: 1 / (1 + np.exp(-x))   # noqa: E731
    total = 0.0
    for p in range(contexts.shape[0]):
        for c in range(contexts.shape[1]):
            if mask[p, c]:
                total -= np.log(sigmoid(contexts[p, c] @ outputs[p, 0]))
                for k in range(1, outputs.shape[1]):
                    total -= np.log(sigmoid(-contexts[p, c] @ outputs[p, k]))
    return total


def test_sgns_loss_value_and_gradient():
    rng = np.random.default_rng(1)
    contexts = rng.standard_normal((3, 4, 5))
    outputs = rng.standard_normal((3, 1 + 2, 5))
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 0], [1, 0, 0, 0]], dtype=bool)
    loss, d_contexts, d_outputs = nlp.sgns_loss(contexts, mask, outputs)
    assert loss == pytest.approx(_loss_by_pairs(contexts, mask, outputs), rel=1e-12)
    f = lambda: nlp.sgns_loss(contexts, mask, outputs)[0]   # noqa: E731
    assert rel_error(d_contexts, numerical_gradient(f, contexts)) < 1e-7
    assert rel_error(d_outputs, numerical_gradient(f, outputs)) < 1e-7
    assert np.all(d_contexts[~mask] == 0)      # masked contexts get nothing


def test_sgns_loss_saturated_scores_stay_finite():
    contexts = np.full((1, 1, 1), 100.0)
    outputs = np.array([[[-100.0], [100.0]]])
    loss, dc, do = nlp.sgns_loss(contexts, np.ones((1, 1), bool), outputs)
    assert np.isfinite(loss) and np.all(np.isfinite(dc)) and np.all(np.isfinite(do))


def test_scatter_add_adds_repeated_rows():
    rng = np.random.default_rng(2)
    table = rng.standard_normal((10, 3)).astype(np.float32)
    ids = np.array([4, 1, 4, 9, 4, 1, 0])
    rows = rng.standard_normal((7, 3)).astype(np.float32)
    expected = table.copy()
    np.add.at(expected, ids, rows)
    nlp._scatter_add(table, ids, rows)
    np.testing.assert_allclose(table, expected, rtol=1e-6)


# ---------------------------------------------------------------------------- skip-gram training

def _topic_corpus(seed=0, sentences=600):
    """Sentences drawn from two topics that share no words: vectors should tell them apart."""
    rng = np.random.default_rng(seed)
    topics = [[f"a{i}" for i in range(10)], [f"b{i}" for i in range(10)]]
    return [list(rng.choice(topics[s % 2], size=8)) for s in range(sentences)]


def test_skipgram_learns_topics_and_is_seeded():
    corpus = _topic_corpus()
    runs = []
    for _ in range(2):
        model = nlp.SkipGram(dim=10, window=2, negatives=3, min_count=1, subsample=0, batch_size=64, seed=3)
        history = model.fit(corpus, epochs=5, progress=False)
        runs.append(model.word_vectors())
    np.testing.assert_array_equal(runs[0].vectors, runs[1].vectors)
    assert history["loss"][-1] < history["loss"][0]
    neighbours = [w for w, _ in runs[0].nearest("a3", k=5)]
    assert all(w.startswith("a") for w in neighbours), neighbours


def test_skipgram_windows_stay_inside_sentences():
    # two one-word sentences: no pair exists, nothing is learned
    model = nlp.SkipGram(dim=4, window=3, min_count=1, subsample=0, seed=0)
    history = model.fit([["x"], ["y"]], epochs=1, progress=False)
    assert history["pairs"] == [0]
    assert np.all(model.W_out == 0)


def test_skipgram_subsampling_and_noise_distribution():
    counts = {"the": 10_000, "cat": 100, "sat": 10}
    model = nlp.SkipGram(dim=4, min_count=1, subsample=1e-3, seed=0)
    model.build_vocabulary([[w] * c for w, c in counts.items()])
    t = 1e-3 * 10_110
    expected = [min(1, (np.sqrt(c / t) + 1) * t / c) for c in counts.values()]
    np.testing.assert_allclose(model._keep, expected)
    draws = model.noise(np.random.default_rng(0), (200_000,))
    freq = np.bincount(draws, minlength=3) / len(draws)
    p = np.array(list(counts.values()), float) ** 0.75
    np.testing.assert_allclose(freq, p / p.sum(), atol=0.005)


def test_skipgram_refuses_a_corpus_without_words():
    with pytest.raises(ValueError, match="fewer than 2 words"):
        nlp.SkipGram(min_count=5).fit([["rare", "words"]], progress=False)


# ---------------------------------------------------------------------------- word-vector queries

@pytest.fixture
def royal():
    """Hand-made vectors: a 'royal' axis and a 'female' axis, plus lengths that differ."""
    words = ["man", "woman", "king", "queen", "prince", "apple"]
    vectors = np.array([
        [0.0, 0.0, 1.0],   # man
        [0.0, 1.0, 1.0],   # woman
        [1.0, 0.0, 1.0],   # king
        [1.0, 1.0, 1.0],   # queen
        [1.0, 0.2, 0.9],   # prince: next to king
        [-1.0, 0.1, 0.0],  # apple
    ])
    return nlp.WordVectors(words, vectors)


def test_analogy_known_answer_and_query_words_excluded(royal):
    top = royal.analogy("man", "king", "woman", k=3)
    assert top[0][0] == "queen"
    unit = royal.vectors / np.linalg.norm(royal.vectors, axis=1, keepdims=True)
    target = unit[2] - unit[0] + unit[1]                # king - man + woman, on unit vectors
    assert top[0][1] == pytest.approx(target @ unit[3] / np.linalg.norm(target), rel=1e-6)
    assert {w for w, _ in top}.isdisjoint({"man", "king", "woman"})
    assert [c for _, c in top] == sorted((c for _, c in top), reverse=True)


def test_analogy_would_return_a_query_word_without_the_exclusion(royal):
    # the raw target king - king + prince is prince's own vector: excluded, the next word wins
    assert royal.analogy("king", "king", "prince", k=1)[0][0] != "prince"


def test_analogy_uses_unit_vectors():
    # 'long' is a frequent word with a long vector: without normalisation it would win
    words = ["a", "b", "c", "answer", "long"]
    vectors = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.1, 0.2], [30.0, 5.0]])
    wv = nlp.WordVectors(words, vectors)
    raw = vectors[1] - vectors[0] + vectors[2]
    assert words[3 + int(np.argmax(vectors[3:] @ raw))] == "long"     # the bug to avoid
    assert wv.analogy("a", "b", "c", k=1)[0][0] == "answer"


def test_nearest(royal):
    top = royal.nearest("king", k=2)
    assert [w for w, _ in top] == ["prince", "queen"]
    assert top[0][1] == pytest.approx(royal.similarity("king", "prince"))
    assert len(royal.nearest("king", k=100)) == 5            # everything but king itself
    assert royal.nearest(np.array([1.0, 0.0, 1.0]), k=1)[0][0] == "king"   # a vector query
    with pytest.raises(KeyError, match="not in the vocabulary"):
        royal.nearest("emperor")


def test_evaluate_analogies_sections_and_oov(tmp_path, royal):
    path = tmp_path / "questions.txt.gz"
    with gzip.open(path, "wt") as f:
        f.write(": royal\nman king woman queen\nMAN KING WOMAN QUEEN\nman king emperor empress\n"
                ": fruit\nman king woman apple\n")
    result = royal.evaluate_analogies(path)
    assert result["sections"]["royal"] == {"accuracy": 1.0, "correct": 2, "total": 2, "oov": 1}
    assert result["sections"]["fruit"]["correct"] == 0
    assert (result["correct"], result["total"], result["oov"]) == (2, 3, 1)
    assert result["accuracy"] == pytest.approx(2 / 3)
    # only the first 3 words: queen and apple are out of the restricted vocabulary
    restricted = royal.evaluate_analogies(path, restrict_vocab=3)
    assert (restricted["total"], restricted["oov"]) == (0, 4)


def test_read_analogy_questions_rejects_a_bad_line(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text(": s\na b c\n")
    with pytest.raises(ValueError, match="line 2"):
        nlp.read_analogy_questions(path)


def test_word_vectors_save_load(tmp_path, royal):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    royal.save(a)
    royal.save(b)
    assert io.sha256(a) == io.sha256(b)                # reproducible bytes
    arrays = io.read_npz(a)
    assert arrays["vectors"].dtype == np.float16 and arrays["words"].dtype.kind == "U"
    loaded = nlp.WordVectors.load(a)
    assert loaded.words == royal.words and loaded.vectors.dtype == np.float32
    np.testing.assert_allclose(loaded.vectors, royal.vectors, atol=1e-3)
    io.write_npz(b, {"weights": np.zeros(3)})
    with pytest.raises(ValueError, match="not a word-vector file"):
        nlp.WordVectors.load(b)


def test_word_vectors_shape_check():
    with pytest.raises(ValueError, match="one row per word"):
        nlp.WordVectors(["a", "b"], np.zeros((3, 2)))


# ---------------------------------------------------------------------------- the recipe

def test_word2vec_recipe_on_small_data(tmp_path):
    lines = [" ".join(s) for s in _topic_corpus(sentences=400)] + ["", "<br />"]
    model, report = nlp.word2vec_train(epochs=2, seed=0, progress=False, data=lines)
    assert len(report["log"]) == 2
    assert report["corpus words"] == 400 * 8
    path = tmp_path / "w.npz"
    model.save(path)
    vectors = nlp.word2vec_load(path)
    assert vectors.words == model.word_vectors().words
    assert vectors.vectors.shape == (20, nlp.WORD2VEC_SETTINGS["dim"])
    assert isinstance(nlp.word2vec_build(0), nlp.SkipGram)
    assert nlp.word2vec_build(0).save_words == nlp.WORD2VEC_SHIPPED_WORDS


def test_save_keeps_the_most_frequent_words(tmp_path, royal):
    assert royal.head(2).words == ["man", "woman"]
    model = nlp.SkipGram(dim=4, min_count=1, subsample=0, seed=0)
    model.fit(_topic_corpus(sentences=50), epochs=1, progress=False)
    model.save_words = 5
    model.save(tmp_path / "w.npz")
    saved = nlp.WordVectors.load(tmp_path / "w.npz")
    assert saved.words == model.vocabulary.words[:5]
    np.testing.assert_array_equal(saved.counts, model.vocabulary.counts[:5])


def test_gensim_reads_the_same_questions(tmp_path, royal):
    """Our analogy score agrees with gensim's evaluate_word_analogies (if gensim is installed)."""
    gensim = pytest.importorskip("gensim")
    from gensim.models import KeyedVectors
    path = tmp_path / "questions.txt"
    path.write_text(": royal\nman king woman queen\nman king woman prince\nking queen man woman\n")
    kv = KeyedVectors(vector_size=3)
    kv.add_vectors(royal.words, royal.vectors)
    theirs, _ = kv.evaluate_word_analogies(str(path))
    assert royal.evaluate_analogies(path)["accuracy"] == pytest.approx(theirs)
    assert gensim.__version__
