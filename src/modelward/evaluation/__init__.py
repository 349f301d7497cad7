"""Evaluation as evidence: metrics, slices, fairness, champion deltas and explanations,
each bound to the model and dataset digests it was computed on."""
