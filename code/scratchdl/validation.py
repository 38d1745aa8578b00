"""Validation splits: hyperparameters are chosen on data held out from training, never on the test set."""
from .utils import as_rng, check_samples


def split_validation(x, y, validation_fraction=0.2, rng=0):
    """Shuffle and split training data into a training part and a validation part.

    x: (N, ...), y: (N,) or (N, K). Returns (train_x, train_y), (val_x, val_y) with
    round(N * validation_fraction) validation samples.
    """
    x, y = check_samples(x, y, "split_validation")
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"split_validation expected a validation_fraction in (0, 1), "
                         f"got {validation_fraction}")
    n_val = int(round(x.shape[0] * validation_fraction))
    if n_val < 1 or n_val >= x.shape[0]:
        raise ValueError(f"split_validation: {x.shape[0]} samples with fraction "
                         f"{validation_fraction} leave an empty part")
    order = as_rng(rng).permutation(x.shape[0])
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])
