"""Audit service verbs."""
