"""Cross-matching: every reference (a face or an event) against every candidate (faces or events); per
reference the ``limit`` most similar candidates at or above ``threshold``, best first. References are
split by id range into subtasks; the candidates' descriptors are read from Milvus once per task in each
worker process (kept for the task's next subtask there), and each subtask compares its references in bulk."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import numpy as np

from analytics.tasks.kinds.base import Kind
from analytics.tasks.resources import Resources
from analytics.tasks.results import Result, json_result
from analytics.tasks.similarity import distances, similarities
from analytics.tasks.descriptors import Descriptors
from analytics.tasks.sources import selection
from analytics.tasks.splitting import from_content, ranges, to_content
from schemas.errors import CROSS_MATCH_GENERAL_LIMIT, CROSS_MATCH_SET_EMPTY, SeleneError
from schemas.tasks import CrossMatchContent, Task, TaskType


def best(refs: Descriptors, candidates: Descriptors, limit: int, threshold: float) -> list[dict[str, Any]]:
    """Per reference its best candidates: the ``limit`` nearest first, then their similarities."""
    d = distances(refs.vectors, candidates.vectors, refs.version)
    k = min(limit, d.shape[1])
    nearest = np.argpartition(d, k - 1, axis=1)[:, :k] if k < d.shape[1] else np.tile(np.arange(d.shape[1]), (len(d), 1))
    out = []
    for row, reference in enumerate(refs.ids):
        picked = nearest[row]
        sims = similarities(d[row, picked], refs.version)
        order = sorted(range(len(picked)), key=lambda j: (-sims[j], str(candidates.ids[picked[j]])))
        out.append({"reference_id": str(reference), "candidates": [
            {"candidate_id": str(candidates.ids[picked[j]]), "similarity": float(sims[j])}
            for j in order if sims[j] >= threshold
        ]})
    return out


class CrossMatch(Kind[CrossMatchContent]):
    task_type = TaskType.cross_match
    content_model = CrossMatchContent

    def __init__(self) -> None:
        # The candidates of the latest task this process ran, by (namespace, task id): every subtask compares
        # its references with the same candidates, and reading 100k of them from Milvus costs far more than
        # comparing 200 references with them, so a process reads them once per task, not once per subtask.
        self._candidates: tuple[tuple[str, int], asyncio.Future[dict[int, Descriptors]]] | None = None

    async def candidates(self, res: Resources, task: Task, content: CrossMatchContent) -> dict[int, Descriptors]:
        key = (res.store.store.prefix, task.task_id)
        if self._candidates is None or self._candidates[0] != key:
            self._candidates = key, asyncio.ensure_future(
                selection(res.recognition, content.candidates.filters).descriptors(task.account_id))
        read = self._candidates[1]
        try:
            return {d.version: d for d in await asyncio.shield(read)}
        except BaseException:
            if self._candidates is not None and self._candidates[1] is read:
                self._candidates = None  # a failed read is retried by the next subtask, not kept
            raise

    async def plan(self, res: Resources, account_id: UUID, content: CrossMatchContent) -> list[dict[str, Any]]:
        references = await selection(res.recognition, content.references.filters).count(account_id)
        candidates = await selection(res.recognition, content.candidates.filters).count(account_id)
        limit = res.settings.cross_match_general_limit
        if references * candidates > limit:
            raise SeleneError(CROSS_MATCH_GENERAL_LIMIT, limit)
        return [to_content(r) for r in ranges(references, res.settings.cross_match_references)]

    async def run(self, res: Resources, task: Task, content: CrossMatchContent, index: int, part: dict[str, Any]) -> Any:
        candidates = await self.candidates(res, task, content)
        if not candidates:
            raise SeleneError(CROSS_MATCH_SET_EMPTY, "Candidates")
        references = await selection(res.recognition, content.references.filters).descriptors(
            task.account_id, from_content(part))
        matched: list[dict[str, Any]] = []
        for refs in references:
            same = candidates.get(refs.version)
            if same is None:  # descriptors of different versions never match
                matched += [{"reference_id": str(r), "candidates": []} for r in refs.ids]
                continue
            matched += best(refs, same, content.limit, content.threshold)
        return sorted(matched, key=lambda m: m["reference_id"])

    async def merge(self, res: Resources, task: Task, content: CrossMatchContent, parts: list[Any]) -> Result | None:
        matched = [m for p in parts for m in p]
        if not matched:
            raise SeleneError(CROSS_MATCH_SET_EMPTY, "References")
        return json_result(matched)
