"""Registry service verbs."""
