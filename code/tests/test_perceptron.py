import numpy as np
import pytest

from scratchdl.perceptron import GATES, INPUTS, Perceptron, truth_table


def test_truth_tables():
    x, t = truth_table("and")
    assert x.shape == (4, 2) and t.shape == (4,)
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    # each table follows from its definition, row by row
    a, b = INPUTS[:, 0].astype(bool), INPUTS[:, 1].astype(bool)
    np.testing.assert_array_equal(GATES["AND"], a & b)
    np.testing.assert_array_equal(GATES["OR"], a | b)
    np.testing.assert_array_equal(GATES["NAND"], ~(a & b))
    np.testing.assert_array_equal(GATES["NOR"], ~(a | b))
    np.testing.assert_array_equal(GATES["XOR"], a ^ b)
    x[0, 0] = 5  # a copy: the module's tables stay intact
    assert INPUTS[0, 0] == 0


def test_unknown_gate():
    with pytest.raises(ValueError, match="XNOR"):
        truth_table("XNOR")


@pytest.mark.parametrize("gate, weights, bias", [
    ("AND", [1.0, 1.0], -1.5), ("OR", [1.0, 1.0], -0.5), ("NAND", [-1.0, -1.0], 1.5)])
def test_hand_set_gates(gate, weights, bias):
    x, t = truth_table(gate)
    np.testing.assert_array_equal(Perceptron(weights=weights, bias=bias).predict(x), t)


def test_threshold_is_strict():
    # a net input of exactly 0 gives 0: y = 1 only when w.x + b > 0
    p = Perceptron(weights=[1.0, 0.0], bias=-1.0)
    np.testing.assert_array_equal(p.predict([[1.0, 0.0], [2.0, 0.0]]), [0.0, 1.0])


@pytest.mark.parametrize("gate", ["AND", "OR", "NAND", "NOR"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_learning_rule_converges_on_separable_gates(gate, shuffle):
    x, t = truth_table(gate)
    p = Perceptron(learning_rate=0.1)
    errors = p.fit(x, t, epochs=20, shuffle=shuffle, rng=0)
    assert p.converged_epoch is not None and p.converged_epoch <= 20
    assert errors[-1] == 0 and np.all(errors[:-1] > 0)
    assert len(errors) == p.converged_epoch
    np.testing.assert_array_equal(p.predict(x), t)
    assert p.history.shape == (len(errors) + 1, 3)


def test_single_update_by_hand():
    # from zeros, the first sample (0, 0) with target 1 (NAND) gives y = 0: b += eta
    p = Perceptron(learning_rate=0.5)
    p.fit([[0.0, 0.0]], [1.0], epochs=1)
    np.testing.assert_array_equal(p.weights, [0.0, 0.0])
    assert p.bias == 0.5
    # a wrong 1 on (1, 1): w -= eta x, b -= eta
    p = Perceptron(weights=[1.0, 1.0], bias=0.0, learning_rate=0.5)
    p.fit([[1.0, 1.0]], [0.0], epochs=1)
    np.testing.assert_array_equal(p.weights, [0.5, 0.5])
    assert p.bias == -0.5


@pytest.mark.parametrize("shuffle", [False, True])
def test_learning_rule_never_converges_on_xor(shuffle):
    x, t = truth_table("XOR")
    p = Perceptron(learning_rate=0.1)
    errors = p.fit(x, t, epochs=500, shuffle=shuffle, rng=0)
    assert len(errors) == 500 and p.converged_epoch is None
    assert errors.min() >= 1
    assert np.sum(p.predict(x) == t) <= 3  # no line gets all four rows right


def test_zero_start_scale_invariance():
    # from zero weights every update is a multiple of eta: eta rescales w and b, not the line
    x, t = truth_table("AND")
    a, b = Perceptron(learning_rate=0.1), Perceptron(learning_rate=1.0)
    np.testing.assert_array_equal(a.fit(x, t), b.fit(x, t))
    np.testing.assert_allclose(b.weights, 10 * a.weights)


def test_bad_shapes_name_expected_and_received():
    p = Perceptron(n_inputs=2)
    with pytest.raises(ValueError, match=r"\(N, 2\).*\(4, 3\)"):
        p.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(N, 2\).*\(2,\)"):
        p.predict(np.zeros(2))
    with pytest.raises(ValueError, match=r"\(4,\).*\(3,\)"):
        p.fit(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        Perceptron(n_inputs=2, weights=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="0 or 1"):
        p.fit(np.zeros((2, 2)), [0.0, 2.0])
    with pytest.raises(ValueError, match="learning_rate"):
        Perceptron(learning_rate=0.0)



@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "2"])
def test_sizes_and_epochs_must_be_positive_integers(bad):
    with pytest.raises(ValueError, match="n_inputs to be a positive integer"):
        Perceptron(n_inputs=bad)
    with pytest.raises(ValueError, match="epochs to be a positive integer"):
        Perceptron(n_inputs=2).fit([[0.0, 1.0]], [1.0], epochs=bad)
