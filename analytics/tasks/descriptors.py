"""The descriptors a task compares, as both sources (faces, events) give them."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import numpy as np


@dataclass(frozen=True)
class Descriptors:
    """Objects' descriptors of one version, row i of ``vectors`` belonging to ``ids[i]``."""

    ids: list[UUID]
    version: int
    vectors: np.ndarray
