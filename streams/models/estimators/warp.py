"""Warps: LUNA's normalised samples. A face warp is 250x250 px, the face aligned by a similarity
transform of its five landmarks onto fixed positions; a body warp is the person's box scaled to 128x250."""

from __future__ import annotations

import cv2
import numpy as np

FACE_WARP_SIZE = 250
BODY_WARP_SIZE = (128, 250)  # width, height
# ArcFace's 112x112 five-point template, scaled 1.674x about its centre onto 250x250: the whole head
# fits, eyes at 47% of the height, mouth at 74%.
_ARCFACE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
                     [70.7299, 92.2041]], np.float32)
FACE_TEMPLATE = (_ARCFACE - 56.0) * 1.674 + FACE_WARP_SIZE / 2
# The box a face detector draws around a warp's face: 2.3 eye distances wide, centred on the landmarks.
# dlib's shape predictor (trained on detector boxes) aligns badly on the whole 250 px warp: the
# descriptor of a warp was up to 0.73 from its photo's with the whole warp as the box, 0.06 with this.
_EYES = float(np.linalg.norm(FACE_TEMPLATE[1] - FACE_TEMPLATE[0]))
FACE_TEMPLATE_BOX = np.concatenate([FACE_TEMPLATE.mean(0) - 1.15 * _EYES, FACE_TEMPLATE.mean(0) + 1.15 * _EYES])


def face_warp_transform(landmarks5: np.ndarray) -> np.ndarray:
    """The 2x3 similarity transform from image pixels to the warp."""
    matrix, _ = cv2.estimateAffinePartial2D(landmarks5.astype(np.float32), FACE_TEMPLATE, method=cv2.LMEDS)
    if matrix is None:
        raise ValueError("landmarks admit no similarity transform")
    return matrix


def face_warp(image_bgr: np.ndarray, landmarks5: np.ndarray) -> np.ndarray:
    """The 250x250 BGR face sample."""
    return cv2.warpAffine(image_bgr, face_warp_transform(landmarks5), (FACE_WARP_SIZE, FACE_WARP_SIZE),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def body_warp(image_bgr: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The 128x250 BGR body sample: the box (clipped to the image) resized."""
    h, w = image_bgr.shape[:2]
    x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
    x2, y2 = min(w, max(x1 + 1, int(np.ceil(box[2])))), min(h, max(y1 + 1, int(np.ceil(box[3]))))
    return cv2.resize(image_bgr[y1:y2, x1:x2], BODY_WARP_SIZE, interpolation=cv2.INTER_LINEAR)
