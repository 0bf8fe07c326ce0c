"""Corpora, tag schemes, vocabularies and batches: the bottom layer, importing nothing of zhtag's."""
