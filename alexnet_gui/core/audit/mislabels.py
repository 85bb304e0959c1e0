"""Likely mislabelled images: out-of-fold predictions that confidently disagree with the folder.

Each image is predicted by a logistic regression that never saw it (stratified
k-fold over the cached fc7 features), so a wrong folder cannot teach the model
to agree with itself. The confident-learning rule (Northcutt et al., 2021):
class j's threshold is the mean out-of-fold probability of j over the images
filed under j; an image is flagged when some other class reaches its own
threshold and has the highest probability among those that do. Those come
first, then the images whose most likely class is simply another one; each
group ranked by the margin p(predicted) - p(folder's class).
"""

from __future__ import annotations

import numpy as np

from .results import Mislabel

FOLDS = 5
PCA_DIMS = 128  # fc7 has 4096 dims; the regression fits in a fraction of the time on 128 components


def out_of_fold_probabilities(features: np.ndarray, labels: np.ndarray, n_classes: int, seed: int = 0) -> np.ndarray:
    """(N, D) features, (N,) labels -> (N, C) probabilities, each row from a model fitted without it."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    x = StandardScaler().fit_transform(features.astype(np.float64))
    dims = min(PCA_DIMS, x.shape[0] - 1, x.shape[1])
    x = PCA(n_components=dims, random_state=seed).fit_transform(x)  # unsupervised: no label leaks through
    x /= max(float(np.sqrt((x**2).sum(1).mean())), 1e-12)  # unit RMS row length: one C fits any weights
    folds = min(FOLDS, int(np.bincount(labels, minlength=n_classes).min()))
    probs = np.zeros((len(labels), n_classes))
    if folds < 2:
        return probs + 1.0 / n_classes  # too few images per class to hold any out
    for fit_rows, held_rows in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, labels):
        model = LogisticRegression(C=10.0, max_iter=500).fit(x[fit_rows], labels[fit_rows])
        probs[np.ix_(held_rows, model.classes_)] = model.predict_proba(x[held_rows])
    return probs


def confident_disagreements(probs: np.ndarray, labels: np.ndarray) -> list[tuple[int, int, float, float]]:
    """(index, predicted class, p(predicted), p(given)) for the images whose out-of-fold
    prediction disagrees with their folder: first those the confident-learning rule flags,
    then the other disagreements; each group by the margin p(predicted) - p(given)."""
    n_classes = probs.shape[1]
    thresholds = np.array([probs[labels == j, j].mean() if (labels == j).any() else 1.0 for j in range(n_classes)])
    flagged, others = [], []
    for i, (row, given) in enumerate(zip(probs, labels)):
        above = np.flatnonzero(row >= thresholds)
        if above.size and (predicted := int(above[np.argmax(row[above])])) != given:
            flagged.append((i, predicted, float(row[predicted]), float(row[given])))
        elif (best := int(np.argmax(row))) != given:
            others.append((i, best, float(row[best]), float(row[given])))
    by_margin = lambda f: (-(f[2] - f[3]), f[0])  # noqa: E731
    return sorted(flagged, key=by_margin) + sorted(others, key=by_margin)


def find_mislabels(paths: list[str], features: np.ndarray, labels: np.ndarray, classes: list[str],
                   seed: int = 0) -> tuple[list[Mislabel], np.ndarray]:
    """The likely mislabelled images, most confident first, and every image's (N,) out-of-fold prediction."""
    probs = out_of_fold_probabilities(features, labels, len(classes), seed)
    found = [Mislabel(paths[i], classes[labels[i]], classes[j], p, q)
             for i, j, p, q in confident_disagreements(probs, labels)]
    return found, probs.argmax(axis=1)
