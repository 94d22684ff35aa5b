"""Prefect flows: the nightly try-on run and the re-run of failed shards."""
