"""One module per LUNA task type; ``KINDS`` finds a type's implementation."""

from analytics.tasks.kinds import clustering, cross_match, estimator, exporter, gc, linker, reporter, roc
from analytics.tasks.kinds.base import Kind
from schemas.tasks import TaskType

KINDS: dict[TaskType, Kind] = {
    k.task_type: k
    for k in (gc.Gc(), exporter.Exporter(), linker.Linker(), cross_match.CrossMatch(), clustering.Clustering(),
              reporter.Reporter(), roc.Roc(), estimator.Estimator())
}
