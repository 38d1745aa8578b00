"""Federated learning (scratchdl.federated): partitions, FedAvg, secure aggregation, Paillier,
the gradient leak and differential privacy, and Flower's engine against the NumPy FedAvg."""
import importlib.util

import numpy as np
import pytest

from scratchdl import federated as fl
from scratchdl.models import MLP
from scratchdl.training import Trainer


def toy_data(n=240, d=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = (x[:, 0] - 0.5 * x[:, 1] > 0).astype(np.int64)
    return x, y


def max_difference(a, b):
    assert a.keys() == b.keys()
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


# ---------------------------------------------------------------------------- partitions


def test_iid_partition_covers_every_sample_once_in_near_equal_parts():
    parts = fl.partition_iid(103, 5, rng=0)
    assert sorted(len(p) for p in parts) == [20, 20, 21, 21, 21]
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(103))


def test_dirichlet_partition_skews_labels_more_for_small_alpha():
    labels = np.repeat([0, 1], 500)

    def skew(alpha):
        parts = fl.partition_dirichlet(labels, 10, alpha, rng=1)
        assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(1000))
        assert min(len(p) for p in parts) >= 1
        return np.mean([np.bincount(labels[p], minlength=2).max() / len(p) for p in parts])

    assert skew(0.1) > 0.85          # most clients see (nearly) one class
    assert skew(100.0) < 0.6         # close to the global 50/50 mix


def test_quantity_partition_has_skewed_sizes_and_iid_labels():
    labels = np.repeat([0, 1], 1000)
    parts = fl.partition_quantity(2000, 8, 0.5, rng=2, min_size=10)
    sizes = np.array([len(p) for p in parts])
    assert sizes.sum() == 2000 and sizes.min() >= 10 and sizes.max() > 3 * sizes.min()
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(2000))
    big = parts[int(sizes.argmax())]
    assert abs(labels[big].mean() - 0.5) < 0.1


def test_partitions_refuse_more_clients_than_samples_and_bad_alpha():
    with pytest.raises(ValueError, match="at least 5 samples"):
        fl.partition_iid(4, 5)
    with pytest.raises(ValueError, match="alpha > 0"):
        fl.partition_dirichlet([0, 1, 0, 1], 2, 0.0)
    with pytest.raises(ValueError, match="shape \\(N,\\)"):
        fl.partition_dirichlet(np.zeros((4, 2)), 2, 1.0)


# ---------------------------------------------------------------------------- FedAvg


def test_fedavg_with_one_client_equals_ordinary_training():
    x, y = toy_data()
    federated = MLP([6, 8, 2], rng=0)
    ordinary = MLP([6, 8, 2], rng=0)
    fl.fedavg(federated, [fl.Client(x, y)], rounds=1, local_epochs=3, batch_size=16,
              learning_rate=0.1, seed=7)
    Trainer(ordinary, "sgd", batch_size=16, rng=np.random.default_rng([7, 1, 0]), progress=False,
            learning_rate=0.1).fit(x, y, epochs=3)
    assert max_difference(federated.state_dict(), ordinary.state_dict()) == 0.0


def test_fedavg_of_identical_clients_equals_one_client():
    x, y = toy_data()
    many, one = MLP([6, 2], rng=0), MLP([6, 2], rng=0)
    # full batches: every client takes the same steps whatever its shuffle
    fl.fedavg(many, [fl.Client(x, y) for _ in range(4)], rounds=3, batch_size=len(x), seed=0)
    fl.fedavg(one, [fl.Client(x, y)], rounds=3, batch_size=len(x), seed=0)
    assert max_difference(many.state_dict(), one.state_dict()) < 1e-12


def test_federated_average_weights_by_sample_counts():
    a = {"w": np.array([1.0, 2.0]), "b": np.array([0.0])}
    b = {"w": np.array([5.0, -2.0]), "b": np.array([4.0])}
    average = fl.federated_average([a, b], [10, 30])
    np.testing.assert_allclose(average["w"], [4.0, -1.0])
    np.testing.assert_allclose(average["b"], [3.0])
    assert a["w"][0] == 1.0                         # the inputs are not modified


def test_fedavg_samples_the_requested_fraction_of_clients_per_round():
    x, y = toy_data()
    clients = fl.make_clients(x, y, fl.partition_iid(len(x), 10, rng=0))
    history = fl.fedavg(MLP([6, 2], rng=0), clients, rounds=4, fraction=0.3, seed=3,
                        eval_data=(x, y))
    assert [len(c) for c in history["clients"]] == [3, 3, 3, 3]
    assert len({tuple(c) for c in history["clients"]}) > 1
    assert len(history["accuracy"]) == 4 and history["accuracy"][-1] > history["accuracy"][0]


def test_proximal_term_and_server_momentum_reduce_to_fedavg_at_zero():
    x, y = toy_data()
    clients = fl.make_clients(x, y, fl.partition_dirichlet(y, 4, 0.3, rng=0))
    models = [MLP([6, 2], rng=0) for _ in range(3)]
    fl.fedavg(models[0], clients, rounds=2, local_epochs=2)
    fl.fedavg(models[1], clients, rounds=2, local_epochs=2, proximal_mu=0.0, server_momentum=0.0)
    fl.fedavg(models[2], clients, rounds=2, local_epochs=2, proximal_mu=1.0)
    assert max_difference(models[0].state_dict(), models[1].state_dict()) == 0.0
    assert max_difference(models[0].state_dict(), models[2].state_dict()) > 0.0


def test_proximal_term_keeps_local_weights_closer_to_the_global_ones():
    x, y = toy_data()
    client, model = fl.Client(x[y == 1], y[y == 1]), MLP([6, 2], rng=0)
    start = model.state_dict()
    far = fl.Client.update(client, model, start, epochs=5, learning_rate=0.5, rng=0)
    # learning_rate * mu < 2, or the pull overshoots and diverges
    near = fl.Client.update(client, model, start, epochs=5, learning_rate=0.5, proximal_mu=1.0, rng=0)
    distance = [np.linalg.norm(fl.flatten(s) - fl.flatten(start)) for s in (far, near)]
    assert distance[1] < 0.5 * distance[0]


def test_bad_input_raises_clear_errors():
    x, y = toy_data()
    with pytest.raises(ValueError, match="no samples"):
        fl.Client(x[:0], y[:0])
    with pytest.raises(ValueError, match="as many labels as inputs"):
        fl.Client(x, y[:-1])
    with pytest.raises(ValueError, match="non-empty list of Client"):
        fl.fedavg(MLP([6, 2]), [], rounds=1)
    with pytest.raises(ValueError, match="keys or shapes that differ"):
        fl.federated_average([{"w": np.zeros(2)}, {"w": np.zeros(3)}], [1, 1])
    with pytest.raises(ValueError, match="one weight per state"):
        fl.federated_average([{"w": np.zeros(2)}], [1, 1])
    with pytest.raises(ValueError, match="expects \\(6, 2\\)"):        # a state of another shape
        fl.Client(x, y).update(MLP([6, 2]), {"0.W": np.zeros((5, 2)), "0.b": np.zeros(2)})
    with pytest.raises(ValueError, match="0 < fraction <= 1"):
        fl.fedavg(MLP([6, 2]), [fl.Client(x, y)], rounds=1, fraction=0.0)


# ---------------------------------------------------------------------------- secure aggregation


def test_pairwise_masks_cancel_exactly_in_the_sum():
    rng = np.random.default_rng(0)
    vectors = [rng.normal(size=50) for _ in range(5)]
    masking = fl.PairwiseMasking(5, 50, rng=1)
    masked = {i: masking.mask(i, v) for i, v in enumerate(vectors)}
    exact = np.zeros(50, dtype=np.uint64)
    wrapped = np.zeros(50, dtype=np.uint64)
    for i, v in enumerate(vectors):
        exact += fl.quantize(v)
        wrapped += masked[i]
    assert np.array_equal(wrapped, exact)                       # integers: no rounding at all
    total = masking.aggregate(masked)
    assert np.max(np.abs(total - np.sum(vectors, axis=0))) <= 5 * 2.0 ** -33


def test_a_masked_vector_looks_like_uniform_noise():
    masking = fl.PairwiseMasking(3, 20000, rng=2)
    masked = masking.mask(0, np.zeros(20000)).astype(np.float64) / 2.0 ** 64
    assert abs(masked.mean() - 0.5) < 0.01 and abs(masked.std() - np.sqrt(1 / 12)) < 0.01
    x = np.random.default_rng(5).normal(size=20000)
    hidden = masking.mask(0, x).astype(np.float64) / 2.0 ** 64
    assert abs(np.corrcoef(x, hidden)[0, 1]) < 0.03       # no linear trace of the input
    # the same client's masks on another input: the masked integers differ by the encoded
    # input difference exactly (mod 2^64), which is why the masks cancel in the sum
    shift = masking.mask(0, np.ones(20000)) - masking.mask(0, np.zeros(20000))
    assert len(np.unique(shift)) == 1 and shift[0] != 0


def test_dropout_breaks_the_sum_unless_the_survivors_reveal_their_seeds():
    rng = np.random.default_rng(3)
    vectors = [rng.normal(size=10) for _ in range(4)]
    survivors = np.sum(vectors[:2] + vectors[3:], axis=0)
    broken, _ = fl.secure_sum(vectors, rng=4, dropped=[2], recover=False)
    fixed, masked = fl.secure_sum(vectors, rng=4, dropped=[2])
    assert sorted(masked) == [0, 1, 3]
    assert np.max(np.abs(broken - survivors)) > 1e6
    assert np.max(np.abs(fixed - survivors)) < 1e-8


def test_masking_checks_its_input():
    masking = fl.PairwiseMasking(2, 3)
    with pytest.raises(ValueError, match="shape \\(3,\\)"):
        masking.mask(0, np.zeros(4))
    with pytest.raises(ValueError, match="too large"):
        fl.quantize(np.array([1e12]))
    with pytest.raises(ValueError, match="one length"):
        fl.secure_sum([np.zeros(2), np.zeros(3)])


@pytest.mark.skipif(importlib.util.find_spec("phe") is None, reason="phe (python-paillier) is not installed")
def test_paillier_sum_equals_the_plain_sum():
    rng = np.random.default_rng(5)
    vectors = [rng.normal(size=4) for _ in range(3)]
    total, seconds = fl.paillier_sum(vectors, key_length=512)
    np.testing.assert_allclose(total, np.sum(vectors, axis=0), atol=1e-9)
    assert set(seconds) == {"keygen", "encrypt", "add", "decrypt"}


# ---------------------------------------------------------------------------- the leak and DP


def test_one_email_update_reveals_exactly_its_words():
    rng = np.random.default_rng(6)
    bags = (rng.random((30, 40)) < 0.1).astype(np.float64)
    labels = rng.integers(0, 2, 30)
    model = MLP([40, 2], rng=0)
    recovered, true = [], []
    for bag, label in zip(bags, labels):
        new = fl.Client(bag[None], label[None]).update(model.__class__([40, 2], rng=0),
                                                        model.state_dict(), batch_size=1, rng=0)
        update = new["0.W"] - model.state_dict()["0.W"]
        recovered.append(fl.leaked_rows(update))
        true.append(np.flatnonzero(bag))
    assert fl.leak_scores(recovered, true) == (1.0, 1.0)


def test_leak_scores_pool_over_texts():
    precision, recall = fl.leak_scores([np.array([1, 2]), np.array([5])], [np.array([1, 3]), np.array([5, 6])])
    assert precision == pytest.approx(2 / 3) and recall == pytest.approx(2 / 4)


def test_privatize_clips_to_the_norm_and_adds_noise_of_the_stated_scale():
    update = np.full(10000, 0.1)                                  # norm 10
    clipped = fl.privatize(update, clip=1.0, noise_multiplier=0.0)
    assert np.linalg.norm(clipped) == pytest.approx(1.0)
    noisy = fl.privatize(update, clip=1.0, noise_multiplier=2.0, rng=0)
    assert np.std(noisy - clipped) == pytest.approx(2.0, rel=0.05)
    short = np.array([0.3, 0.4])
    assert np.array_equal(fl.privatize(short, clip=1.0, noise_multiplier=0.0), short)
    with pytest.raises(ValueError, match="clip > 0"):
        fl.privatize(short, clip=0.0, noise_multiplier=1.0)


def test_flatten_and_unflatten_round_trip():
    state = MLP([4, 3, 2], rng=0).state_dict()
    assert max_difference(fl.unflatten(fl.flatten(state), state), state) == 0.0
    with pytest.raises(ValueError, match="needs"):
        fl.unflatten(np.zeros(3), state)


# ---------------------------------------------------------------------------- Flower


@pytest.mark.skipif(importlib.util.find_spec("flwr") is None, reason="flwr is not installed")
def test_flower_simulation_reproduces_the_numpy_fedavg():
    x, y = toy_data(n=200)
    clients = fl.make_clients(x, y, fl.partition_dirichlet(y, 4, 0.5, rng=0))
    model = MLP([6, 2], rng=0)
    initial = model.state_dict()
    fl.fedavg(model, clients, rounds=3, local_epochs=2, batch_size=16, learning_rate=0.1, seed=11)
    state, _ = fl.run_flower_subprocess(clients, [6, 2], initial, rounds=3, local_epochs=2, batch_size=16,
                                        learning_rate=0.1, seed=11, timeout=240)
    assert max_difference(state, model.state_dict()) < 1e-12
