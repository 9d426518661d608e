"""ROC of labelled faces: every pair of the markup is scored by similarity (same label: a positive
pair); the result has the curve (FPR, TPR per threshold, scikit-learn's roc_curve), its AUC, the equal
error point, the TPR at each key FPR, and the top-N hit rates (a face hits at N when one of its N most
similar other faces has its label and similarity >= ``threshold_hit_top``). One subtask."""

from __future__ import annotations

import math
from typing import Any
from uuid import UUID

import numpy as np

from analytics.tasks.kinds.base import Kind, batches
from analytics.tasks.resources import Resources
from analytics.tasks.results import Result, json_result
from analytics.tasks.similarity import distances, similarities
from analytics.tasks.sources import FaceSource
from schemas.errors import BAD_INPUT_DATA, MATCH_VERSIONS_DIFFER, REFERENCE_MISSING, SeleneError
from schemas.tasks import RocContent, Task, TaskType


def point(fpr: float, tpr: float, threshold: float) -> dict[str, float | None]:
    return {"fpr": float(fpr), "tpr": float(tpr), "threshold": None if math.isinf(threshold) else float(threshold)}


def roc(similarity: np.ndarray, labels: list[object], content: RocContent) -> dict[str, Any]:
    n = len(labels)
    same = np.array([[labels[i] == labels[j] for j in range(n)] for i in range(n)])
    upper = np.triu_indices(n, k=1)
    truth, scores = same[upper].astype(int), similarity[upper]
    if truth.min() == truth.max():
        raise SeleneError(BAD_INPUT_DATA, "the markup needs both pairs of one label and pairs of different labels")
    from sklearn.metrics import auc, roc_curve  # imported here: scikit-learn takes ~1.5 s to import, on every API start

    fpr, tpr, thresholds = roc_curve(truth, scores)
    eer = int(np.argmin(np.abs(fpr - (1 - tpr))))
    keys = []
    for key in content.key_FPRs:
        within = np.flatnonzero(fpr <= key)
        at = int(within[-1])  # roc_curve starts at fpr 0, so some point always qualifies
        keys.append(point(fpr[at], tpr[at], thresholds[at]))
    ranked = similarity.copy()
    np.fill_diagonal(ranked, -np.inf)
    order = np.argsort(-ranked, axis=1)
    queried = [i for i in range(n) if same[i].sum() > 1]  # faces with another of their label
    top_n = []
    for top in range(1, content.limit + 1):
        hits = sum(
            any(same[i, j] and similarity[i, j] >= content.threshold_hit_top for j in order[i, :top]) for i in queried
        )
        top_n.append({"n": top, "hit_probability": hits / len(queried)})
    return {
        "roc_curve": [point(f, t, h) for f, t, h in zip(fpr, tpr, thresholds, strict=True)],
        "auc": float(auc(fpr, tpr)),
        "eer": point(fpr[eer], tpr[eer], thresholds[eer]),
        "key_FPRs": keys,
        "top_n": top_n,
        "positive_pairs": int(truth.sum()),
        "negative_pairs": int(len(truth) - truth.sum()),
    }


class Roc(Kind[RocContent]):
    task_type = TaskType.roc
    content_model = RocContent

    async def plan(self, res: Resources, account_id: UUID, content: RocContent) -> list[dict[str, Any]]:
        return [{}]

    async def run(self, res: Resources, task: Task, content: RocContent, index: int, part: dict[str, Any]) -> Any:
        ids = [m.face_id for m in content.markup]
        store = FaceSource(res.recognition.store).store
        found = {f.face_id: f for chunk in batches(ids, 1000) for f in await store.get(task.account_id, chunk, with_vectors=True)}
        missing = [str(i) for i in ids if i not in found]
        if missing:
            raise SeleneError(REFERENCE_MISSING, ", ".join(missing))
        versions = sorted({f.descriptor_version for f in found.values()})
        if len(versions) > 1:
            raise SeleneError(MATCH_VERSIONS_DIFFER, versions)
        vectors = np.asarray([found[i].vector for i in ids], np.float32)
        similarity = similarities(distances(vectors, vectors, versions[0]), versions[0])
        return roc(similarity, [m.label for m in content.markup], content)

    async def merge(self, res: Resources, task: Task, content: RocContent, parts: list[Any]) -> Result | None:
        return json_result(parts[0])
