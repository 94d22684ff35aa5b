"""`vton/` is the library: it must run without Prefect (notebooks, Dask workers, tests)."""

import ast
from pathlib import Path

import vton

LIB = Path(vton.__file__).parent


def test_vton_never_imports_prefect():
    offenders = []
    for path in LIB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(LIB)}: {n}"
                for n in names
                if n.split(".")[0] in ("prefect", "prefect_dask", "tasks", "flows")
            ]
    assert offenders == []
    assert len(list(LIB.rglob("*.py"))) > 10  # the walk really saw the library
