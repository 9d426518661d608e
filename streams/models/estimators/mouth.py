"""Mouth ``opened`` in [0, 1] from the 68 landmarks' inner-lip gap over the mouth's width.

The gap (mean of the three inner-lip pairs 61-67, 62-66, 63-65) over the corner-to-corner width is
about 0 for a closed mouth and 0.3 or more for a wide open one; it is mapped to gap / width / 0.3,
clipped, so that LUNA's ISO check ``mouth_open`` (at most 0.5) fails a mouth open wider than 0.15.
LUNA's ``smile``, ``occluded`` and ``score`` need a network: they are not computed.
"""

from __future__ import annotations

import numpy as np

_WIDE_OPEN = 0.3


def mouth_opened(landmarks68: np.ndarray) -> float:
    gap = np.mean([np.linalg.norm(landmarks68[a] - landmarks68[b]) for a, b in ((61, 67), (62, 66), (63, 65))])
    width = max(float(np.linalg.norm(landmarks68[54] - landmarks68[48])), 1e-6)
    return float(min(1.0, gap / width / _WIDE_OPEN))
