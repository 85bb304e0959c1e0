"""A 2-D map of a folder's fc7 features: PCA to 50 dimensions, then t-SNE (scikit-learn).

PCA first removes the noise of 4,096 mostly-redundant dimensions and makes
t-SNE's neighbour search cheap; t-SNE then keeps each image's near neighbours
near on the map, so classes show as islands and a mislabelled image as a dot
of one colour on another colour's island. Seeded: the same features give the
same map. No torch here (the features come from the cache via ``audit``).
"""

from __future__ import annotations

import numpy as np

PCA_DIMS = 50


def map_coordinates(features: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N, D) features -> (N, 2) float32 map coordinates, centred, about unit spread."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import StandardScaler

    n = features.shape[0]
    if n < 3:
        return np.zeros((n, 2), dtype=np.float32)
    x = StandardScaler().fit_transform(features.astype(np.float64))
    x = PCA(n_components=min(PCA_DIMS, n - 1, x.shape[1]), random_state=seed).fit_transform(x)
    perplexity = float(min(30.0, (n - 1) / 3))
    xy = TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)
    xy -= xy.mean(axis=0)
    return (xy / max(float(xy.std()), 1e-12)).astype(np.float32)
