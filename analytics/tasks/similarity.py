"""Descriptor distances in bulk (scikit-learn), turned into LUNA similarities by the one formula in
``schemas.descriptors.similarity``: Euclidean for the L2 versions, cosine distance for the others, as
the face store's ``distance`` hands them to it."""

from __future__ import annotations

import numpy as np

from analytics.recognition.face_store import metric
from schemas.descriptors import similarity

_BISECTIONS = 60


def sklearn_metric(version: int) -> str:
    return "euclidean" if metric(version) == "L2" else "cosine"


def distances(a: np.ndarray, b: np.ndarray, version: int) -> np.ndarray:
    from sklearn.metrics import pairwise_distances  # imported here: scikit-learn takes ~1.5 s to import, on every API start

    return pairwise_distances(a, b, metric=sklearn_metric(version))


def similarities(d: np.ndarray, version: int) -> np.ndarray:
    return np.vectorize(lambda x: similarity(float(x), version), otypes=[float])(d)


def cutoff(threshold: float, version: int) -> float:
    """The largest distance whose similarity is still >= ``threshold`` (similarity falls as distance
    grows); infinity when even the farthest pair qualifies."""
    high = 4.0  # past every distance of normalised descriptors (cosine distance <= 2)
    if similarity(high, version) >= threshold:
        return float("inf")
    low = 0.0
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2
        low, high = (middle, high) if similarity(middle, version) >= threshold else (low, middle)
    return low
