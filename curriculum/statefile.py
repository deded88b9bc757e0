"""A state on disk, framework-free: nested dicts of numpy arrays and plain scalars as npz arrays + JSON entries,
never pickle, written so that a crash never leaves half a file. The TRL drop-in's checkpoints (rl/trl/checkpoint.py) and
`CurriculumDriver.save` (curriculum/driver.py) both use it.

    arrays, entries = flatten_state({"curriculum": cur.state_dict(), "sampler": {...}})  # "/"-joined keys
    tree = unflatten_state(arrays, entries)                                              # the same tree back
    write_atomic(path, text_or_bytes_or_writer)                                          # all of it, or nothing
    write_state(folder, "x.npz", "x.json", tree, meta)                                   # the pair of files
    meta, tree = read_state(folder, "x.npz", "x.json", FORMAT, VERSION, fix)             # checked, no pickle

Scalars keep their exact type and bits (floats as `float.hex`, numpy scalars as 0-d arrays), so a reloaded state
hashes (`curriculum.state_hash`) exactly like the saved one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np


def write_atomic(path: str | os.PathLike, data: str | bytes | Callable[[IO[bytes]], object]) -> None:
    """Replace `path` with `data` (text, bytes, or a function writing into the open binary file) in one step: a reader
    sees the old file or the new one, never a part."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            if isinstance(data, str):
                f.write(data.encode())
            elif isinstance(data, bytes):
                f.write(data)
            else:
                data(f)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _scalar_entry(key: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {"key": key, "kind": "scalar", "type": "none", "value": None}
    for typ in (bool, int, str):  # bool before int: True is an int
        if type(value) is typ:
            return {"key": key, "kind": "scalar", "type": typ.__name__, "value": value}
    if type(value) is float:
        return {"key": key, "kind": "scalar", "type": "float", "value": value.hex()}
    raise TypeError(f"curriculum state entry {key!r} has unsupported type {type(value).__name__}")


def flatten_state(tree: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    """Nested dict -> (npz arrays by name, JSON entries), leaves in insertion order."""
    arrays: dict[str, np.ndarray] = {}
    entries: list[dict[str, Any]] = []

    def visit(node: Mapping[str, Any], prefix: str) -> None:
        for name, value in node.items():
            if "/" in name:
                raise ValueError(f"state key {name!r} must not contain '/'")
            key = f"{prefix}{name}"
            if isinstance(value, Mapping):
                entries.append({"key": key, "kind": "dict"})
                visit(value, key + "/")
            elif isinstance(value, np.ndarray | np.generic):
                arr = np.asarray(value)
                if arr.dtype == object:
                    raise TypeError(f"state entry {key!r} is an object array; it would need pickle")
                slot = f"a{len(arrays):04d}"
                arrays[slot] = arr
                kind = "array" if isinstance(value, np.ndarray) else "numpy_scalar"
                entries.append({"key": key, "kind": kind, "npz": slot})
            else:
                entries.append(_scalar_entry(key, value))

    visit(tree, "")
    return arrays, entries


def _scalar_value(entry: Mapping[str, Any]) -> Any:
    typ, value = entry["type"], entry["value"]
    if typ == "none":
        return None
    if typ == "float":
        return float.fromhex(value)
    return {"bool": bool, "int": int, "str": str}[typ](value)


def unflatten_state(arrays: Mapping[str, np.ndarray], entries: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Inverse of `flatten_state`."""
    root: dict[str, Any] = {}
    for entry in entries:
        *parents, name = entry["key"].split("/")
        node = root
        for parent in parents:
            node = node[parent]
        kind = entry["kind"]
        if kind == "dict":
            node[name] = {}
        elif kind == "array":
            node[name] = np.array(arrays[entry["npz"]])
        elif kind == "numpy_scalar":
            node[name] = np.asarray(arrays[entry["npz"]])[()]
        else:
            node[name] = _scalar_value(entry)
    return root


def write_state(
    folder: str | os.PathLike, npz_name: str, json_name: str, tree: Mapping[str, Any], meta: Mapping[str, Any]
) -> Path:
    """`tree` as `folder`/`npz_name` (its arrays) + `folder`/`json_name` (`meta` and one entry per leaf), the folder
    created if needed, each file written whole or not at all. Returns the JSON path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays, entries = flatten_state(tree)
    write_atomic(folder / npz_name, lambda f: np.savez(f, **arrays))
    write_atomic(folder / json_name, json.dumps({**meta, "entries": entries}, indent=1))
    return folder / json_name


def read_state(
    folder: str | os.PathLike, npz_name: str, json_name: str, fmt: str, version: int, fix: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(meta, tree) of what `write_state` wrote, its meta's "format" and "format_version" checked; the arrays are
    loaded without pickle. Raises ValueError naming the file, the fault and `fix` (what the user can do)."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / json_name).read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read {folder / json_name} ({err}); {fix}") from err
    if not isinstance(meta, dict) or meta.get("format") != fmt or meta.get("format_version") != version:
        got = meta.get("format") if isinstance(meta, dict) else None
        raise ValueError(
            f"{folder / json_name} is not {fmt!r} v{version} (format {got!r}); resume with the rlvr-curriculum "
            "version that wrote it"
        )
    try:
        with np.load(folder / npz_name, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        return meta, unflatten_state(arrays, meta["entries"])
    except Exception as err:  # truncated zip, EOF, a pickled array, entries that do not match: all one fault
        raise ValueError(f"cannot read the curriculum state in {folder} ({type(err).__name__}: {err}); {fix}") from err
