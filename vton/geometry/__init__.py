"""Geometry shared by renderers: thin-plate splines."""
