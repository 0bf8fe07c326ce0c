"""Tagging models, their training, and the versioned checkpoint store they are saved in."""
