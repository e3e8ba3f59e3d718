"""Importing trustsim in a Python that lacks one of its packages (a pyenv or conda python3 first on PATH,
say) is an ImportError that names the package and says which Python to use, not a bare ModuleNotFoundError."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import trustsim

# A module that is not there: importing it fails as a missing package does.
ABSENT = 'raise ModuleNotFoundError(f"No module named {__name__!r}", name=__name__)\n'
PROBE = """\
import json
try:
    import trustsim
except ImportError as e:
    print(json.dumps({"type": type(e).__name__, "module_not_found": isinstance(e, ModuleNotFoundError), "name": e.name, "message": str(e)}))
"""


def python_without(module: str, tmp_path: Path, *args) -> subprocess.CompletedProcess:
    """Debian's Python, running `args` with `module` hidden by a stand-in that fails to import."""
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / f"{module}.py").write_text(ABSENT)
    package_root = Path(trustsim.__file__).resolve().parents[1]
    env = {"PYTHONPATH": f"{hidden}{os.pathsep}{package_root}", "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"}
    return subprocess.run(["/usr/bin/python3", *args], capture_output=True, text=True, env=env, cwd=tmp_path)


@pytest.mark.parametrize("module", ["h5py", "xarray"])
def test_import_names_the_missing_package_and_the_python_to_use(module, tmp_path):
    result = python_without(module, tmp_path, "-c", PROBE)
    error = json.loads(result.stdout)
    assert error["type"] == "MissingDependencyError" and error["module_not_found"] and error["name"] == module
    message = error["message"]
    assert message.startswith(f"trustsim needs {module} (python3-{module}), which this Python (/usr/bin/python3) cannot import.")
    assert "Use Debian's /usr/bin/python3" in message
    assert "sudo apt-get install python3-numpy python3-h5py python3-pandas python3-xarray python3-matplotlib" in message
    assert "/usr/bin/python3 -m venv --system-site-packages" in message


def test_module_command_ends_with_the_clear_message(tmp_path):
    result = python_without("h5py", tmp_path, "-m", "trustsim", "report", "x.h5")
    assert result.returncode == 1
    assert result.stderr.startswith("trustsim needs h5py (python3-h5py)")
    assert "Traceback" not in result.stderr and "No module named" not in result.stderr
