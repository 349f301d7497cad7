"""Monitoring: endpoints, the prediction log, delayed labels, drift, data quality,
performance over time, alerts, retraining triggers and the health index."""
