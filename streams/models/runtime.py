"""The inference runtime: onnxruntime sessions on the best execution provider this host has.

The backend is chosen once per process, at the first session: TensorRT (engines built from the ONNX
files and cached on disk), else CUDA, else CPU, unless ``SELENE_INFERENCE_BACKEND`` names one. A named
backend the host lacks falls back to CPU with a warning rather than failing the worker.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import numpy as np
import onnxruntime as ort

from infra import metrics
from infra.settings import CommonSettings, InferenceSettings

log = logging.getLogger(__name__)

_PROVIDER = {"tensorrt": "TensorrtExecutionProvider", "cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}
_PREFERENCE = ("tensorrt", "cuda", "cpu")


def choose_backend(requested: str, available: list[str]) -> str:
    """The backend to use: ``requested`` when the host has it, the best available for ``auto``, else cpu."""
    if requested == "auto":
        return next(b for b in _PREFERENCE if _PROVIDER[b] in available)
    return requested if _PROVIDER[requested] in available else "cpu"


@cache
def _backend(requested: str) -> str:
    available = ort.get_available_providers()
    chosen = choose_backend(requested, available)
    level = logging.WARNING if requested not in ("auto", chosen) else logging.INFO
    log.log(level, "inference backend chosen", extra={"requested": requested, "backend": chosen,
                                                      "available": available})
    return chosen


def inference_backend(settings: InferenceSettings | None = None) -> str:
    """The backend this process runs models on (``cpu``, ``cuda`` or ``tensorrt``): `/6/features` shows it."""
    return _backend((settings or InferenceSettings()).backend)


def _providers(backend: str, settings: InferenceSettings) -> list[str | tuple[str, dict[str, str]]]:
    if backend == "tensorrt":
        cache_dir = settings.engine_cache_dir or CommonSettings().data_dir / "trt-engines"
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        options = {"trt_engine_cache_enable": "True", "trt_engine_cache_path": str(cache_dir),
                   "trt_fp16_enable": "True"}
        return [(_PROVIDER["tensorrt"], options), _PROVIDER["cuda"], _PROVIDER["cpu"]]
    if backend == "cuda":
        return [_PROVIDER["cuda"], _PROVIDER["cpu"]]
    return [_PROVIDER["cpu"]]


class Session:
    """One model's onnxruntime session; ``run`` takes a batch and splits it when the graph's batch is fixed.

    NanoDet and SCRFD were exported with a batch of 1, so their batches run as a loop inside one call
    (one thread hop per micro-batch); models with a dynamic batch axis run the batch at once.
    """

    def __init__(self, path: Path, settings: InferenceSettings) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = settings.threads
        options.inter_op_num_threads = 1
        self.backend = inference_backend(settings)
        self.model = path.stem  # the label of its inference time
        self._session = ort.InferenceSession(str(path), options, providers=_providers(self.backend, settings))
        [inp] = self._session.get_inputs()
        self.input_name = inp.name
        self.input_shape = inp.shape
        self.fixed_batch = inp.shape[0] if isinstance(inp.shape[0], int) else None
        self.output_names = [o.name for o in self._session.get_outputs()]

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        """Outputs for an ``[N, ...]`` input, each with the batch axis first."""
        with metrics.INFERENCE_SECONDS.labels(self.model).time():
            return self._run(batch)

    def _run(self, batch: np.ndarray) -> list[np.ndarray]:
        if self.fixed_batch is None or len(batch) == self.fixed_batch:
            return self._session.run(self.output_names, {self.input_name: batch})
        step = self.fixed_batch
        parts = [self._session.run(self.output_names, {self.input_name: batch[i:i + step]})
                 for i in range(0, len(batch), step)]
        return [np.concatenate([p[k] for p in parts]) for k in range(len(self.output_names))]
