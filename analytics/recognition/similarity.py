"""Similarity of every reference descriptor to every candidate, computed here rather than in Milvus:
for descriptors given in the request (raw matching, verification), where there is nothing to search."""

from __future__ import annotations

import numpy as np

from schemas.descriptors import DESCRIPTOR_VERSIONS, similarity


def pairwise(references: np.ndarray, candidates: np.ndarray, version: int) -> np.ndarray:
    """``[i, j]``: similarity of reference row i to candidate row j (``schemas.descriptors.similarity``)."""
    if DESCRIPTOR_VERSIONS[version].metric == "euclidean":
        distances = np.linalg.norm(references[:, None, :] - candidates[None, :, :], axis=2)
    else:
        norms = np.linalg.norm(references, axis=1)[:, None] * np.linalg.norm(candidates, axis=1)[None, :]
        distances = 1.0 - references @ candidates.T / np.maximum(norms, 1e-12)  # cosine distance
    return np.vectorize(lambda d: similarity(float(d), version), otypes=[float])(distances)
