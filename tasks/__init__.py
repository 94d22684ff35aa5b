"""Prepared library calls as Prefect tasks: retries, logging and progress, nothing else.

Each task is a thin wrapper named `task_<library function>`; the work itself lives in
`vton/` so that it can be tested and reused without Prefect.
"""
