"""Catalog-scale virtual try-on: the library.

Pure functions and small classes over numpy, torch and PIL. Nothing here imports Prefect:
`tasks/` wraps these functions as Prefect tasks and `flows/` composes them, so the same code
runs in a notebook, a unit test, a Prefect worker or a Dask worker.
"""

__version__ = "0.1.0"
