"""The notebooks in analysis/notebooks run headless, top to bottom, on results they produce afresh with
the binary under test (small sizes: TRUSTSIM_QUICK=1), so they never rot."""
from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import REPO, binary

NOTEBOOKS = sorted((REPO / "analysis" / "notebooks").glob("*.ipynb"))


def test_notebooks_are_stored_without_outputs():
    assert NOTEBOOKS
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            assert not cell.get("outputs") and not cell.get("execution_count"), f"{path.name}: clear outputs before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    # The kernel (Debian's /usr/bin/python3 ipykernel) inherits this environment. Its path leads to another
    # checkout's package, as a kernel installed from another checkout would: the notebook must use its own.
    other = tmp_path / "other-checkout" / "trustsim"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("raise ImportError('the package of another checkout was imported')\n")
    monkeypatch.setenv("PYTHONPATH", str(other.parent))
    monkeypatch.setenv("TRUSTSIM_BINARY", str(binary()))
    monkeypatch.setenv("TRUSTSIM_NOTEBOOK_OUT", str(tmp_path))
    monkeypatch.setenv("TRUSTSIM_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiets ipykernel's debugger warning
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
