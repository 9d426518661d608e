"""Estimators: what LUNA's Remote SDK computes about a face or a body, as pure functions over numpy arrays.

One module per estimator; ``registry`` lists them all (available or not, and why); ``engine`` runs the
ones a request asks for over a batch of images. The detectors are reached only through ``detect``.
"""
