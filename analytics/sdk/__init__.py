"""LUNA's Remote SDK service: ``/6/sdk`` (detect and estimate, nothing stored), ``/6/iso`` and
``/6/liveness``, over the estimator engine of the inference library."""
