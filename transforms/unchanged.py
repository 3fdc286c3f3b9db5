"""Recognise a re-run whose result is already published.

A run's outputs are a function of its extract files, its range and as-of date, the code
(sql/, transforms/, expectations/) and what the warehouse held before it. After a run
publishes, it records a fingerprint of all of these, the warehouse as its own publication
left it. A later run of the same range whose fingerprint is the same would recompute the
same rows and write no invoice, line or charge file, so it only adds its record to `runs`
(with the earlier run's counts and validation). Anything else that touched the warehouse
since (another period's run, a charge batch) changes the fingerprint, and the run is done in
full. The record lives in `_run_state/`; losing it only costs a full run.

Beside it, `_run_state/file_hashes.json` keeps each extract file's stamp (size, times,
inode) and SHA-256 as the last published run saw them, so the next run hashes only the
files that changed (extracts.list_extract_files); losing it only costs hashing them again.
"""

import hashlib
import json
import os
from pathlib import Path

import duckdb

from transforms import assets
from transforms.extracts import ExtractFile
from transforms.warehouse import JOURNAL, STATE_DIR, VIEW_DB

CODE = {"sql": assets.SQL_DIR, "transforms": Path(__file__).resolve().parent, "expectations": assets.EXPECTATIONS_DIR}
HASHES = "file_hashes.json"
# Written by every run whatever it bills, so they are not part of what a run reads.
NOT_STATE = {"runs", "data_docs", STATE_DIR, VIEW_DB, JOURNAL}


def inputs_key(files: list[ExtractFile], params) -> str:
    """The extract files (path and content), the range and as-of date, and the code (with
    the DuckDB version, which writes the Parquet bytes)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([[f.table, str(f.path), f.sha256] for f in files]).encode())
    digest.update(f"{params.range_start}|{params.range_end}|{params.as_of}|".encode())
    digest.update(code_digest().encode())
    return digest.hexdigest()


def code_digest() -> str:
    """The code a run's results depend on, with the DuckDB version (it writes the Parquet bytes)."""
    digest = hashlib.sha256(f"duckdb {duckdb.__version__}".encode())
    for folder, pattern in (("sql", "**/*.sql"), ("transforms", "*.py"), ("expectations", "*.json")):
        for path in sorted(CODE[folder].glob(pattern)):
            digest.update(f"{folder}/{path.relative_to(CODE[folder])}".encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _fingerprint(warehouse: Path, key: str) -> str:
    digest = hashlib.sha256(key.encode())
    if warehouse.exists():
        for path in sorted(warehouse.rglob("*")):
            relative = path.relative_to(warehouse)
            if path.is_file() and relative.parts[0] not in NOT_STATE:
                stat = path.stat()
                digest.update(f"{relative}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _state_file(warehouse: Path, params) -> Path:
    return warehouse / STATE_DIR / f"{params.range_start}_{params.range_end}.json"


def remember(warehouse: Path, params, key: str) -> None:
    """After a run's commit: what it read, and the warehouse as it left it."""
    target = _state_file(warehouse, params)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_suffix(".tmp")
    temp.write_text(json.dumps({"run_id": params.run_id, "fingerprint": _fingerprint(warehouse, key)}))
    os.replace(temp, target)


def known_hashes(warehouse: Path) -> dict[str, list]:
    """Path -> stamp and SHA-256 of the extract files the last published run read."""
    try:
        return json.loads((warehouse / STATE_DIR / HASHES).read_text())
    except (OSError, ValueError):
        return {}


def remember_hashes(warehouse: Path, files: list[ExtractFile]) -> None:
    """After a run's commit: the stamps and digests of the files it read (only those hashed
    with a stamp; a file's entry is replaced when it changes, dropped when it is gone)."""
    target = warehouse / STATE_DIR / HASHES
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_suffix(".tmp")
    temp.write_text(json.dumps({str(f.path): [*f.stamp, f.sha256] for f in files if f.stamp}, sort_keys=True))
    os.replace(temp, target)


def published_by(warehouse: Path, params, key: str) -> str | None:
    """The run whose published result this run would reproduce exactly, if any."""
    state = _state_file(warehouse, params)
    if not state.exists():
        return None
    recorded = json.loads(state.read_text())
    return recorded["run_id"] if recorded["fingerprint"] == _fingerprint(warehouse, key) else None
