"""Every kind of bad file gives a FormatError whose message says what is wrong and what to do."""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

import trustsim
from conftest import write_run

READERS = [trustsim.open_run, trustsim.open_histograms, trustsim.open_snapshots, trustsim.open_customers]


def _with_version(source: Path, target: Path, version: int) -> Path:
    target.write_bytes(source.read_bytes())
    with h5py.File(target, "r+") as f:
        f.attrs["format_version"] = np.int32(version)
    return target


def _truncated(source: Path, target: Path) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


@pytest.mark.parametrize("reader", READERS)
def test_missing_file(reader, tmp_path):
    path = tmp_path / "nothing.h5"
    with pytest.raises(trustsim.FormatError, match="no such file") as error:
        reader(path)
    assert str(path) in str(error.value)


def test_text_file(tmp_path):
    path = tmp_path / "notes.h5"
    path.write_text("step,trust\n1,0.5\n")
    with pytest.raises(trustsim.FormatError, match=r"not an HDF5 file"):
        trustsim.open_run(path)


def test_hdf5_file_that_is_not_a_run(foreign_h5):
    with pytest.raises(trustsim.FormatError) as error:
        trustsim.open_run(foreign_h5)
    message = str(error.value)
    assert "not a TrustSim output" in message and "no 'format' attribute" in message
    assert "data, results" in message  # names what it found


def test_hdf5_file_of_another_format(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "netcdf-ish"
    with pytest.raises(trustsim.FormatError, match="of format 'netcdf-ish', but a 'trustsim-run' file is needed"):
        trustsim.open_run(path)


@pytest.mark.parametrize("version, advice", [(2, "upgrade this trustsim Python package"), (0, "package of the release that wrote it")])
def test_wrong_version(synthetic_run, tmp_path, version, advice):
    path = _with_version(synthetic_run, tmp_path / f"v{version}.h5", version)
    with pytest.raises(trustsim.FormatError) as error:
        trustsim.open_run(path)
    message = str(error.value)
    assert f"format version {version}" in message
    assert "reads format version 1" in message
    assert advice in message


def test_missing_version(synthetic_run, tmp_path):
    path = tmp_path / "noversion.h5"
    path.write_bytes(synthetic_run.read_bytes())
    with h5py.File(path, "r+") as f:
        del f.attrs["format_version"]
    with pytest.raises(trustsim.FormatError, match="without a valid format_version"):
        trustsim.open_run(path)


@pytest.mark.parametrize("reader", READERS)
def test_truncated_file(run, tmp_path, reader):
    path = _truncated(run, tmp_path / "half.h5")
    with pytest.raises(trustsim.FormatError, match="truncated or damaged") as error:
        reader(path)
    assert str(path) in str(error.value)


def test_incomplete_run(tmp_path):
    path = write_run(tmp_path / "incomplete.h5")
    with h5py.File(path, "r+") as f:
        del f["timeseries/step"]
    with pytest.raises(trustsim.FormatError, match="no dataset /timeseries/step"):
        trustsim.open_run(path)


def test_inconsistent_shapes(tmp_path):
    path = write_run(tmp_path / "shapes.h5")
    with h5py.File(path, "r+") as f:
        del f["timeseries/trust"]
        f["timeseries/trust"] = np.zeros((19, 3))
    with pytest.raises(trustsim.FormatError, match="inconsistent dataset shapes"):
        trustsim.open_run(path)


def test_merged_sweep_is_not_a_run(sweep_dir):
    merged = sweep_dir.parent / "merged.h5"
    with pytest.raises(trustsim.FormatError, match="a merged sweep.*Fix: open it with trustsim.open_sweep"):
        trustsim.open_run(merged)
    # The fix works: one run of the merged sweep, as the message says.
    one_run = trustsim.open_sweep(merged).sel(run=0)
    assert one_run.sizes["step"] > 0


def test_sweep_directory_is_not_a_run(sweep_dir):
    with pytest.raises(trustsim.FormatError, match="use open_sweep"):
        trustsim.open_run(sweep_dir)
