"""One module per section of the UI; each defines ``router``."""
