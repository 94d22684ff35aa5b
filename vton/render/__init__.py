"""Renderers: turn a prepared garment and a prepared person into a try-on image."""
