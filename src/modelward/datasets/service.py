"""Datasets service verbs."""
