"""scratchdl's skip-gram (scratchdl.nlp.SkipGram) against gensim's Word2Vec, on one corpus.

    python benchmarks/bench_word2vec.py                  # the shipped recipe's settings and epochs
    python benchmarks/bench_word2vec.py --epochs 1 --max-words 1000000   # a quick look
    python benchmarks/bench_word2vec.py --corpus lines.txt   # any text file, one sentence a line

Both libraries get the same sentences (scratchdl.nlp.word2vec_corpus of
scratchdl.datasets.load_word2vec_corpus(), or of --corpus) and the same settings: the
recipe of the shipped vectors (scratchdl.nlp.WORD2VEC_SETTINGS: dimension, window, min
count, subsampling threshold, 5 negative samples) and its number of epochs, skip-gram with
negative sampling and no hierarchical softmax on gensim's side (``sg=1, hs=0, negative=5``),
the same linearly decaying learning rate (0.025 to 0.0000025). gensim runs with one worker
thread and with two.

Reported for each: the training time (vocabulary building excluded on both sides),
**words per second** = corpus words x epochs / training time (every word of the corpus,
before subsampling, the way gensim counts "raw words"), and the accuracy of the trained
vectors on Mikolov et al.'s Google analogy questions, measured for both by the same code
(scratchdl.nlp.WordVectors.evaluate_analogies: 3CosAdd on unit vectors, query words
excluded, questions with an out-of-vocabulary word not asked), plus the top 5 answers to
king - man + woman. gensim's own evaluate_word_analogies is printed alongside as a check.

gensim (4.4.0) is a measuring stick for this benchmark only; the package never imports it.
Install it with ``.venv/bin/pip install gensim==4.4.0``. The machine's load changes the
speeds: the ratio of speeds measured in the same run is the number to compare.
"""
import argparse
import os
import platform
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # scratchdl's batches are small: 1 BLAS thread
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from scratchdl import nlp  # noqa: E402


def load_lines(path, max_words):
    """The corpus as raw lines (and where it came from), cut after about max_words words."""
    if path is None:
        from scratchdl import datasets
        lines, source = datasets.load_word2vec_corpus(), "scratchdl.datasets.load_word2vec_corpus()"
    else:
        with open(path, encoding="utf-8") as f:
            lines, source = f.read().split("\n"), path
    if max_words is not None:
        kept, total = [], 0
        for line in lines:
            if total >= max_words:
                break
            kept.append(line)
            total += len(nlp.tokenize(line))
        lines = kept
    return lines, source


def questions_path(path):
    if path is not None:
        return path
    from scratchdl import datasets
    return datasets.analogy_questions_path()


def score(vectors, path):
    result = vectors.evaluate_analogies(path)
    top = vectors.analogy("man", "king", "woman", k=5) if all(
        w in vectors for w in ("man", "king", "woman")) else []
    return result, top


def run_scratchdl(lines, epochs, seed, save):
    """The recipe of the shipped vectors (nlp.word2vec_train) on `lines`; its report's
    training time counts the epochs only (the corpus is tokenized and encoded before)."""
    model, report = nlp.word2vec_train(epochs=epochs, seed=seed, progress=False, data=lines)
    if save:
        model.save(save)
        print(f"  wrote {save}")
    return model.word_vectors(), report["training seconds"]


def run_gensim(sentences, settings, epochs, seed, workers):
    from gensim.models import Word2Vec
    model = Word2Vec(vector_size=settings["dim"], window=settings["window"],
                     min_count=settings["min_count"], sample=settings["subsample"],
                     negative=settings["negatives"], hs=0, sg=1, alpha=0.025, min_alpha=0.0001 * 0.025,
                     seed=seed, workers=workers, epochs=epochs)
    model.build_vocab(sentences)
    start = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
    seconds = time.perf_counter() - start
    kv = model.wv
    return nlp.WordVectors(list(kv.index_to_key), kv.vectors), seconds, kv


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=None, help="a text file, one sentence a line "
                        "(default: the shipped word2vec corpus)")
    parser.add_argument("--questions", default=None, help="analogy questions (default: the Google set)")
    parser.add_argument("--epochs", type=int, default=nlp.WORD2VEC_EPOCHS)
    parser.add_argument("--max-words", type=int, default=None, help="use only the first sentences, "
                        "about this many words")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="gensim thread counts")
    parser.add_argument("--no-gensim", action="store_true")
    parser.add_argument("--save", default=None, help="also write scratchdl's vectors to this .npz "
                        "(the same file as `python -m scratchdl.pretrained word2vec` for the same "
                        "corpus, epochs and seed)")
    args = parser.parse_args(argv)

    lines, source = load_lines(args.corpus, args.max_words)
    sentences = nlp.word2vec_corpus(lines)
    words = sum(len(s) for s in sentences)
    settings = dict(nlp.WORD2VEC_SETTINGS)
    path = questions_path(args.questions)
    print(f"corpus: {source}: {len(sentences):,} sentences, {words:,} words")
    print(f"settings: {settings}, {args.epochs} epochs, seed {args.seed}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f} at the start")

    rows = []
    vectors, seconds = run_scratchdl(lines, args.epochs, args.seed, args.save)
    rows.append(("scratchdl SkipGram (NumPy)", seconds, vectors, None))
    print(f"  scratchdl done in {seconds:.1f} s", flush=True)
    if not args.no_gensim:
        try:
            import gensim
        except ImportError:
            print("gensim is not installed: `.venv/bin/pip install gensim==4.4.0` to compare")
        else:
            for workers in args.workers:
                vectors, seconds, kv = run_gensim(sentences, settings, args.epochs, args.seed, workers)
                rows.append((f"gensim {gensim.__version__} Word2Vec, workers={workers}", seconds, vectors, kv))
                print(f"  gensim workers={workers} done in {seconds:.1f} s", flush=True)

    reference = next((r[1] for r in rows if r[0].startswith("gensim") and r[0].endswith("workers=1")), None)
    print()
    print(f"{'model':42s} {'train s':>8s} {'words/s':>10s} {'speed':>7s} {'analogies':>10s}  "
          f"king - man + woman (top 5)")
    for name, seconds, vectors, kv in rows:
        result, top = score(vectors, path)
        ratio = f"{reference / seconds:6.2f}x" if reference else "      -"
        answers = ", ".join(f"{w} {c:.2f}" for w, c in top)
        print(f"{name:42s} {seconds:8.1f} {words * args.epochs / seconds:10,.0f} {ratio:>7s} "
              f"{result['accuracy']:9.1%}  {answers}")
        sections = ", ".join(f"{k} {v['accuracy']:.0%}" for k, v in result["sections"].items() if v["total"])
        print(f"{'':42s} {result['correct']:,} of {result['total']:,} questions asked "
              f"({result['oov']:,} with unknown words); {sections}")
        if kv is not None:
            theirs, _ = kv.evaluate_word_analogies(str(path), restrict_vocab=len(kv.index_to_key))
            print(f"{'':42s} gensim's own evaluate_word_analogies: {theirs:.1%}")
    print("speed: gensim with one worker's training time / this model's (higher is faster)")


if __name__ == "__main__":
    main()
