"""Clustering as LUNA defines it: connected components of the similarity graph, two faces (or events)
linked when their similarity reaches ``threshold``. That is DBSCAN with ``min_samples=1`` and eps the distance at
the threshold (scikit-learn), run per descriptor version over the descriptors read from Milvus
(the faces', or the events' face descriptors).
One subtask."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import numpy as np

from analytics.tasks.kinds.base import Kind
from analytics.tasks.resources import Resources
from analytics.tasks.results import Result, json_result
from analytics.tasks.similarity import cutoff, sklearn_metric
from analytics.tasks.descriptors import Descriptors
from analytics.tasks.sources import selection
from schemas.errors import CLUSTERING_SET_EMPTY, SeleneError
from schemas.tasks import ClusteringContent, Task, TaskType

_EVERYTHING = 1e9  # DBSCAN wants a finite eps


def components(group: Descriptors, threshold: float) -> list[list[str]]:
    if len(group.ids) == 1:
        return [[str(group.ids[0])]]
    from sklearn.cluster import DBSCAN  # imported here: scikit-learn takes ~1.5 s to import, on every API start

    eps = min(cutoff(threshold, group.version), _EVERYTHING)
    labels = DBSCAN(eps=max(eps, 1e-12), min_samples=1, metric=sklearn_metric(group.version)).fit(group.vectors).labels_
    clusters: dict[int, list[str]] = {}
    for object_id, label in zip(group.ids, labels, strict=True):
        clusters.setdefault(int(label), []).append(str(object_id))
    return [sorted(c) for c in clusters.values()]


class Clustering(Kind[ClusteringContent]):
    task_type = TaskType.clustering
    content_model = ClusteringContent

    async def plan(self, res: Resources, account_id: UUID, content: ClusteringContent) -> list[dict[str, Any]]:
        return [{}]

    async def run(self, res: Resources, task: Task, content: ClusteringContent, index: int, part: dict[str, Any]) -> Any:
        groups = await selection(res.recognition, content.filters).descriptors(task.account_id)
        if not groups:
            raise SeleneError(CLUSTERING_SET_EMPTY)
        clusters = [c for g in groups for c in components(g, content.threshold)]
        clusters.sort(key=lambda c: (-len(c), c[0]))
        return {"clusters": clusters, "total_objects": int(np.sum([len(c) for c in clusters])), "total_clusters": len(clusters)}

    async def merge(self, res: Resources, task: Task, content: ClusteringContent, parts: list[Any]) -> Result | None:
        return json_result(parts[0])
