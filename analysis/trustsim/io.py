"""Reading TrustSim outputs: single runs ("trustsim-run") and sweeps (a sweep directory or its merge,
"trustsim-sweep"). Layouts: docs/output-format.md and docs/sweeps.md."""
from __future__ import annotations

import csv
import os
import re
import warnings
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union

import h5py
import numpy as np
import pandas as pd
import xarray as xr
import yaml

PathLike = Union[str, os.PathLike]

# The metrics in the order of a sweep log's values (include/trustsim/recorder.hpp, docs/output-format.md).
METRICS = (
    "customers", "share", "active", "purchases", "lost_sales", "churn_in", "churn_out",
    "trust", "trust_all", "credibility", "reliability", "intimacy", "self_orientation", "distrust_share", "nps",
    "checks", "fraud_attempts", "fraud_detected", "fraud_loss", "triggers", "oversold",
    "revenue", "costs", "profit",
    "employee_trust", "employee_trustworthiness", "quits", "wom_positive", "wom_negative",
    "control_customers", "trust_in_customers", "scandal_awareness",
)

RUN_FORMAT = "trustsim-run"
SWEEP_FORMAT = "trustsim-sweep"
FORMAT_VERSION = 1

# The log record of a finished sweep run (docs/sweeps.md): header, values, CRC-32 of both.
_RECORD_MAGIC = 0x31525354
_MAGIC_BYTES = _RECORD_MAGIC.to_bytes(4, "little")
_HEADER = np.dtype([("magic", "<u4"), ("metrics", "<u4"), ("run", "<i8"), ("steps", "<i8"), ("firms", "<i8"), ("wall_seconds", "<f8")])


class FormatError(Exception):
    """A file that is missing, not HDF5, not a TrustSim output, of another format version, or damaged."""


def _text(value) -> str:
    """A string attribute or dataset as str: h5py gives bytes or str depending on the string type and version."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return str(value)


def _value(value):
    """An HDF5 attribute as a plain Python value (str, int, float) where it is a scalar."""
    if isinstance(value, (bytes, str)):
        return _text(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "SO":
        return [_text(v) for v in value.ravel()] if value.shape else _text(value)
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.shape == ()):
        return value.item()
    return value


def _open(path: PathLike, expected: str) -> h5py.File:
    """The file at `path`, opened for reading once it is known to be a `expected` file of FORMAT_VERSION."""
    path = Path(path)
    if path.is_dir():
        hint = " (a sweep directory: use open_sweep)" if (path / "manifest.csv").exists() else ""
        raise FormatError(f"{path}: a directory, not a file{hint}")
    if not path.exists():
        raise FormatError(f"{path}: no such file")
    if not h5py.is_hdf5(path):
        raise FormatError(f"{path}: not an HDF5 file; give a file written by `trustsim run` or `trustsim merge`")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise FormatError(f"{path}: cannot open the HDF5 file, it is truncated or damaged ({e}); produce it again") from None
    try:
        _check_format(f, path, expected)
    except BaseException:
        f.close()
        raise
    return f


def _check_format(f: h5py.File, path: Path, expected: str) -> None:
    try:
        attrs = dict(f.attrs)
        contents = ", ".join(sorted(f.keys())) or "nothing"
    except OSError as e:
        raise FormatError(f"{path}: cannot read the file's attributes, it is truncated or damaged ({e})") from None
    if "format" not in attrs:
        raise FormatError(f"{path}: an HDF5 file, but not a TrustSim output: it has no 'format' attribute "
                          f"(its top level holds: {contents})")
    found = _text(attrs["format"])
    if found != expected:
        kind = {RUN_FORMAT: "a run (trustsim run)", SWEEP_FORMAT: "a merged sweep (trustsim merge)"}.get(found, f"of format '{found}'")
        fix = {(SWEEP_FORMAT, RUN_FORMAT): ". Fix: open it with trustsim.open_sweep (every run) or trustsim.open_statistics "
                                           "(each point's mean and interval); one run of it is open_sweep(path).sel(run=0)",
               (RUN_FORMAT, SWEEP_FORMAT): ". Fix: open it with trustsim.open_run"}.get((found, expected), "")
        raise FormatError(f"{path}: this file is {kind}, but a '{expected}' file is needed{fix}")
    try:
        version = int(attrs["format_version"])
    except (KeyError, TypeError, ValueError):
        raise FormatError(f"{path}: a '{found}' file without a valid format_version attribute "
                          f"({attrs.get('format_version')!r}); it is damaged") from None
    if version != FORMAT_VERSION:
        written_by = _text(attrs.get("trustsim_version", "an unknown version"))
        advice = ("upgrade this trustsim Python package (analysis/ of the trustsim release that wrote it, or newer)"
                  if version > FORMAT_VERSION else "read it with the trustsim Python package of the release that wrote it")
        raise FormatError(f"{path}: format version {version} (written by trustsim {written_by}), but this package "
                          f"reads format version {FORMAT_VERSION}: {advice}")


@contextmanager
def _reading(path: PathLike, expected: str) -> Iterator[h5py.File]:
    """_open's file, in which any HDF5 read error (a truncated or corrupt file) becomes a FormatError."""
    with _open(path, expected) as f:
        try:
            yield f
        except OSError as e:
            raise FormatError(f"{path}: cannot read it, the file is truncated or damaged ({e}); produce it again") from None


def _read(f: h5py.File, name: str) -> np.ndarray:
    if not isinstance(f.get(name), h5py.Dataset):
        raise FormatError(f"{f.filename}: no dataset /{name}; the file is incomplete or was not written by trustsim")
    return f[name][()]


def _read_group(f: h5py.File, name: str) -> list[str]:
    if not isinstance(f.get(name), h5py.Group):
        raise FormatError(f"{f.filename}: no group /{name}; the file is incomplete or was not written by trustsim")
    return list(f[name])


def _attrs(obj: Union[h5py.File, h5py.Dataset]) -> dict:
    return {key: _value(value) for key, value in obj.attrs.items()}


def _names(f: h5py.File) -> list[str]:
    return [_text(n) for n in _read(f, "firms/name")]


def _dataset(path: PathLike, variables: dict, coords: dict) -> xr.Dataset:
    try:
        return xr.Dataset(variables, coords=coords)
    except ValueError as e:  # shapes that disagree with each other: a damaged or foreign file
        raise FormatError(f"{path}: inconsistent dataset shapes ({e})") from None


def open_run(path: PathLike) -> xr.Dataset:
    """A run's time series as an xarray Dataset with dims (step, firm): one variable per metric in METRICS
    order (then any others), with its unit and description as attributes. Dataset attributes: every root
    attribute of the file, `scenario` (the resolved YAML) and `path`. Raises FormatError on a bad file."""
    with _reading(path, RUN_FORMAT) as f:
        names = _ordered([name for name in _read_group(f, "timeseries") if name != "step"])
        variables = {
            name: (("step", "firm"), _read(f, f"timeseries/{name}"), _attrs(f[f"timeseries/{name}"])) for name in names
        }
        ds = _dataset(path, variables, {"step": _read(f, "timeseries/step"), "firm": _names(f)})
        ds.attrs.update(_attrs(f))
        ds.attrs["scenario"] = _text(_read(f, "scenario"))
        ds.attrs["path"] = str(path)
    return ds


def open_histograms(path: PathLike) -> xr.DataArray:
    """Trust histograms as a DataArray (step, firm, bin) of customer counts (all customers, whichever their
    firm), with coordinate bin_center and attribute bin_edges. It may have no steps at all."""
    with _reading(path, RUN_FORMAT) as f:
        edges = _read(f, "histograms/bin_edges")
        return xr.DataArray(
            _read(f, "histograms/trust"),
            dims=("step", "firm", "bin"),
            coords={"step": _read(f, "histograms/step"), "firm": _names(f), "bin_center": ("bin", (edges[:-1] + edges[1:]) / 2)},
            attrs={"bin_edges": edges, "description": "customers whose trust in the firm falls in each bin"},
            name="trust_histogram",
        )


# The dimensions of snapshot datasets, cut to each dataset's rank.
_SNAPSHOT_DIMS = {"customers": ("step", "customer", "firm", "component"), "employees": ("step", "employee")}


def open_snapshots(path: PathLike) -> xr.Dataset:
    """Agent snapshots: customer_{firm, trust, perception} with dims (step, customer[, firm[, component]]),
    component C, R, I, S; and employee_* with dims (step, employee). A group the run did not record is absent."""
    with _reading(path, RUN_FORMAT) as f:
        variables, coords = {}, {"step": _read(f, "snapshots/step"), "firm": _names(f)}
        for group, dims in _SNAPSHOT_DIMS.items():
            if f"snapshots/{group}" not in f:
                continue
            for name in _read_group(f, f"snapshots/{group}"):
                values = _read(f, f"snapshots/{group}/{name}")
                variables[f"{group[:-1]}_{name}"] = (dims[: values.ndim], values, _attrs(f[f"snapshots/{group}/{name}"]))
        if "customer_perception" in variables:
            coords["component"] = ["C", "R", "I", "S"]
        return _dataset(path, variables, coords)


def open_customers(path: PathLike) -> pd.DataFrame:
    """Each customer's dispositions (propensity_to_trust, honesty, reciprocity, opportunist), one row per customer."""
    with _reading(path, RUN_FORMAT) as f:
        frame = pd.DataFrame({name: _read(f, f"customers/{name}") for name in _read_group(f, "customers")})
    frame.index.name = "customer"
    if "opportunist" in frame:
        frame["opportunist"] = frame["opportunist"].astype(bool)
    return frame


def _intact_end(data: bytes, offset: int) -> int | None:
    """Where the intact record starting at `offset` of a log's bytes ends, or None if none starts there."""
    if offset + _HEADER.itemsize > len(data):
        return None
    header = np.frombuffer(data, _HEADER, 1, offset)[0]
    steps, firms = int(header["steps"]), int(header["firms"])
    end = offset + _HEADER.itemsize + 8 * steps * firms * len(METRICS) + 4
    if header["magic"] != _RECORD_MAGIC or header["metrics"] != len(METRICS) or steps < 0 or firms < 0 or end > len(data):
        return None
    return end if int(np.frombuffer(data, "<u4", 1, end - 4)[0]) == zlib.crc32(data[offset : end - 4]) else None


def _read_logs(directory: Path, metrics: list[int]) -> tuple[dict[int, tuple[np.ndarray, float]], list[str]]:
    """Every intact record of a sweep directory's logs: run -> (values (steps, firms, metrics) of the given
    metric indices, wall seconds), and where bytes were damaged. Only those values are copied out, so a log's
    bytes are released once read. Damaged bytes are skipped up to the next intact record; bad bytes at the
    end are a torn record, as a killed writer leaves it (its run is not finished), not damage."""
    runs: dict[int, tuple[np.ndarray, float]] = {}
    damage: list[str] = []
    for log in sorted((directory / "results").glob("*.tsr")):
        data = log.read_bytes()
        offset = intact = 0  # intact: where the last intact record ends
        while 0 <= offset < len(data):
            end = _intact_end(data, offset)
            if end is None:
                offset = data.find(_MAGIC_BYTES, offset + 1)  # -1 if there is none: the rest is a torn record
                continue
            if offset > intact:
                damage.append(f"{log}: bytes {intact}-{offset - 1} are damaged and were skipped")
            header = np.frombuffer(data, _HEADER, 1, offset)[0]
            if int(header["run"]) not in runs:
                shape = (int(header["steps"]), int(header["firms"]), len(METRICS))
                values = np.frombuffer(data, "<f8", shape[0] * shape[1] * shape[2], offset + _HEADER.itemsize).reshape(shape)
                runs[int(header["run"])] = (values[..., metrics], float(header["wall_seconds"]))  # a copy: `data` is not kept
            offset = intact = end
    return runs, damage


def _parameter_coords(names: list[str], values: list[list[str]]) -> dict[str, np.ndarray]:
    """Each swept parameter's values: whole numbers (a count, a number of steps) as integers, other numbers
    as floats, anything else (a file, a section) as the YAML text."""
    coords = {}
    for k, name in enumerate(names):
        column = [v[k] for v in values]
        if all(re.fullmatch(r"[-+]?\d+", v.strip()) for v in column):
            coords[name] = np.array([int(v) for v in column], dtype=np.int64)
            continue
        try:
            coords[name] = np.array([float(v) for v in column])
        except ValueError:
            coords[name] = np.array(column, dtype=object)
    return coords


def _metrics(metrics: Union[str, list[str], None]) -> list[str] | None:
    """The metrics asked for as a list (one name may be given alone); a ValueError names unknown ones."""
    metrics = [metrics] if isinstance(metrics, str) else metrics
    if metrics is not None and (unknown := sorted(set(metrics) - set(METRICS))):
        raise ValueError(f"unknown metrics {unknown}; known: {', '.join(METRICS)}")
    return metrics


def _ordered(present: list[str]) -> list[str]:
    """Metric names in METRICS order, then any others."""
    return [m for m in METRICS if m in present] + [n for n in present if n not in METRICS]


def _point_parameters(f: h5py.File) -> tuple[list[str], dict[str, np.ndarray]]:
    """A merged sweep's swept key paths, and each one's value at every point (numbers where they all are)."""
    names = [_text(n) for n in _read(f, "parameters/name")]
    return names, _parameter_coords(names, [[_text(v) for v in row] for row in _read(f, "parameters/value")])


def _sweep_attrs(f: h5py.File, path: PathLike, names: list[str]) -> dict:
    return {**_attrs(f), "scenario": _text(_read(f, "scenario")), "path": str(path), "parameters": names}


def _missing_points(rows: list[list[str]], done: list[list[str]], names: list[str]) -> list[dict]:
    """The manifest's points without a finished run: {"point": p, parameter: value, ...} each."""
    started = {r[1] for r in done}
    first_rows = list({r[1]: r for r in rows if r[1] not in started}.values())
    values = _parameter_coords(names, [r[4:-2] for r in first_rows])
    return [{"point": int(r[1]), **{name: values[name][i] for name in names}} for i, r in enumerate(first_rows)]


def is_sweep(path: PathLike) -> bool:
    """Whether `path` is a sweep directory or a merged sweep's file (and not, say, a run's)."""
    path = Path(path)
    if path.is_dir():
        return (path / "manifest.csv").exists()
    try:
        with h5py.File(path, "r") as f:
            return _text(f.attrs.get("format", "")) == SWEEP_FORMAT
    except OSError:
        return False


def open_sweep(path: PathLike, metrics: Union[str, list[str], None] = None) -> xr.Dataset:
    """A sweep as an xarray Dataset with dims (run, step, firm): one variable per metric, and per run the
    coordinates point, replicate, seed, the swept parameters (one coordinate per key path), wall_seconds
    and steps (the run's own length: runs shorter than the longest end in NaN). `path` is a sweep directory
    (finished runs only; unfinished runs are left out and listed in attrs['missing_runs']) or its merged
    file. attrs['missing_points'] lists the points none of whose runs has finished, each as a dict of its
    `point` and its parameters' values."""
    path = Path(path)
    metrics = _metrics(metrics)
    if path.is_dir():
        manifest = path / "manifest.csv"
        if not manifest.exists():
            raise FormatError(f"{path}: not a sweep directory (no manifest.csv); give the directory `trustsim sweep -o` wrote")
        with open(manifest, newline="") as handle:
            rows = list(csv.reader(handle))
        header, rows = rows[0], rows[1:]
        names = header[4:-2]
        wanted = metrics or list(METRICS)
        logs, damage = _read_logs(path, [METRICS.index(m) for m in wanted])
        done = [row for row in rows if int(row[0]) in logs]
        missing = [int(r[0]) for r in rows if int(r[0]) not in logs]
        for place in damage:  # a resumed sweep may have run the damaged runs again into another log
            warnings.warn(place + ("; runs recorded only there are missing" if missing else "; every run is recorded intact, so none is missing"),
                          stacklevel=2)
        if not done:
            raise FormatError(f"{path}: no finished runs yet")
        run = np.array([int(r[0]) for r in done])
        wall_seconds = np.array([logs[r][1] for r in run])
        # (run, step, firm, metric); runs shorter than the longest are padded with NaN, as in a merged file
        run_steps = np.array([logs[r][0].shape[0] for r in run])
        stacked = np.full((len(run), run_steps.max(), logs[run[0]][0].shape[1], len(wanted)), np.nan)
        for i, r in enumerate(run):
            run_values = logs.pop(r)[0]  # released as it is copied in
            stacked[i, : run_values.shape[0]] = run_values
        scenario = (path / "scenario.yaml").read_text()
        firms = _firm_names_from_scenario(scenario, stacked.shape[2])
        coords = {
            "run": run,
            "point": ("run", np.array([int(r[1]) for r in done])),
            "replicate": ("run", np.array([int(r[2]) for r in done])),
            "seed": ("run", np.array([int(r[3]) for r in done], dtype=np.uint64)),
            "wall_seconds": ("run", wall_seconds),
            "steps": ("run", run_steps),
            "step": np.arange(stacked.shape[1]),
            "firm": firms,
        }
        for name, values in _parameter_coords(names, [r[4:-2] for r in done]).items():
            coords[name] = ("run", values)
        ds = xr.Dataset({m: (("run", "step", "firm"), stacked[..., k]) for k, m in enumerate(wanted)}, coords=coords)
        ds.attrs.update({"format": "trustsim-sweep-directory", "scenario": scenario, "path": str(path), "parameters": names,
                         "missing_runs": missing, "missing_points": _missing_points(rows, done, names)})
        return ds

    with _reading(path, SWEEP_FORMAT) as f:
        names, per_point = _point_parameters(f)
        point = _read(f, "runs/point")
        coords = {
            "run": _read(f, "runs/run"),
            "point": ("run", point),
            "replicate": ("run", _read(f, "runs/replicate")),
            "seed": ("run", _read(f, "runs/seed")),
            "wall_seconds": ("run", _read(f, "runs/wall_seconds")),
            # a run's own length: its steps before the NaN padding (the number of customers is never NaN)
            "steps": ("run", np.isfinite(_read(f, "timeseries/customers")[:, :, 0]).sum(axis=1)),
            "step": _read(f, "timeseries/step"),
            "firm": _names(f),
        }
        for name, values in per_point.items():
            coords[name] = ("run", values[point] if len(values) else values)
        wanted = metrics or _ordered([m for m in _read_group(f, "timeseries") if m != "step"])
        ds = xr.Dataset({m: (("run", "step", "firm"), _read(f, f"timeseries/{m}")) for m in wanted}, coords=coords)
        ds.attrs.update({**_sweep_attrs(f, path, names), "missing_runs": [], "missing_points": []})
        return ds


# The statistics across replicates that `trustsim merge` writes for every metric (docs/sweeps.md).
STATISTICS = ("mean", "std", "ci95_low", "ci95_high")


def open_statistics(path: PathLike, metrics: Union[str, list[str], None] = None) -> xr.Dataset:
    """The statistics across replicates of a merged sweep (`trustsim merge`, its /statistics group) as an
    xarray Dataset with dims (point, step, firm, statistic): one variable per metric (all, in METRICS
    order, or those named), statistic mean, std (n - 1), ci95_low and ci95_high (the Student-t 95% interval
    of the mean), computed per step across the point's replicates, leaving NaN values out (NaN where no
    replicate has a value; std and the interval NaN where fewer than two have). Coordinates: point, step,
    firm, and one per swept parameter along point (numbers where every value is one), as open_sweep gives
    per run. Attributes as open_sweep's (the file's root attributes, e.g. replicates, and scenario, path,
    parameters). Raises FormatError on a bad file, and on a sweep directory, which has no statistics."""
    metrics = _metrics(metrics)
    if Path(path).is_dir():
        raise FormatError(f"{path}: a sweep directory, which holds no statistics; merge it (trustsim merge {path} -o SWEEP.h5) "
                          f"and open that file, or summarise the directory with summarize_replicates(open_sweep({str(path)!r}))")
    with _reading(path, SWEEP_FORMAT) as f:
        names, per_point = _point_parameters(f)
        wanted = metrics or _ordered(_read_group(f, "statistics"))
        variables = {
            m: (("point", "step", "firm", "statistic"), np.stack([_read(f, f"statistics/{m}/{s}") for s in STATISTICS], axis=-1),
                _attrs(f[f"timeseries/{m}"]) if f"timeseries/{m}" in f else {})  # the metric's unit and description
            for m in wanted
        }
        coords = {"point": np.arange(len(f["parameters/value"])), "step": _read(f, "timeseries/step"), "firm": _names(f),
                  "statistic": list(STATISTICS), **{name: ("point", values) for name, values in per_point.items()}}
        ds = _dataset(path, variables, coords)
        ds.attrs.update(_sweep_attrs(f, path, names))
        return ds


def _firm_names_from_scenario(scenario: str, count: int) -> list[str]:
    firms = (yaml.safe_load(scenario) or {}).get("firms", [])
    names = [str(f.get("name")) for f in firms]
    return names if len(names) == count else [f"firm{i}" for i in range(count)]


def to_frame(data: Union[xr.Dataset, PathLike]) -> pd.DataFrame:
    """A tidy table: one row per (run,) step and firm. Columns: run, and a sweep's point and replicate, where
    present; step; firm; one column per metric; then any other coordinates (a sweep's seed and parameters)."""
    ds = data if isinstance(data, xr.Dataset) else open_run(data)
    frame = ds.to_dataframe().reset_index()
    leading = [c for c in ("run", "point", "replicate", "step", "firm") if c in frame.columns]
    metrics = [c for c in ds.data_vars if c in frame.columns]
    return frame[leading + metrics + [c for c in frame.columns if c not in leading and c not in metrics]]
