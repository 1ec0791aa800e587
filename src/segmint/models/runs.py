"""The ``model_runs`` table: every fit and validation, with what it found.

Each run is one row (see docs/data-model.md); JSON columns hold the fitted models, the data
summary, warnings, metrics and calibration table, so reports read a run back as it was.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from segmint.store import Store, utcnow

TABLE = "model_runs"
JSON_COLUMNS = ("models", "data_summary", "warnings", "metrics", "calibration")


@dataclass
class ModelRun:
    """One row of ``model_runs`` before it is written."""

    kind: str  # predict, validation, clusters
    as_of: date
    calibration_end: date | None = None
    holdout_end: date | None = None
    time_unit: str | None = None
    models: dict[str, Any] = field(default_factory=dict)
    data_summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    calibration: list[dict[str, Any]] = field(default_factory=list)
    started_at: datetime = field(default_factory=utcnow)

    def row(self, run_id: int) -> pa.Table:
        values: dict[str, Any] = {
            "run_id": run_id,
            "kind": self.kind,
            "as_of": self.as_of,
            "calibration_end": self.calibration_end,
            "holdout_end": self.holdout_end,
            "time_unit": self.time_unit,
            **{name: to_json(getattr(self, name)) for name in JSON_COLUMNS},
            "started_at": self.started_at,
            "finished_at": utcnow(),
        }
        return pa.Table.from_pylist([values])


def to_json(value: Any) -> str:
    """JSON with dates as ISO text and non-finite numbers as null."""
    return json.dumps(_finite(value), default=_iso, sort_keys=True)


def record_run(store: Store, run: ModelRun, run_id: int | None = None) -> int:
    """Append ``run`` to ``model_runs``; returns its id."""
    run_id = run_id or next_run_id(store)
    store.insert(TABLE, run.row(run_id))
    return run_id


def next_run_id(store: Store) -> int:
    return store.next_id(TABLE, "run_id")


def latest_run(store: Store, kind: str) -> dict[str, Any] | None:
    """The latest run of ``kind`` with its JSON columns decoded, or None."""
    runs = store.table(TABLE)
    runs = runs.filter(runs.kind == kind)
    rows = runs.order_by(runs.run_id.desc()).limit(1).to_pyarrow().to_pylist()
    if not rows:
        return None
    row = rows[0]
    for name in JSON_COLUMNS:
        row[name] = json.loads(row[name]) if row[name] is not None else None
    return row


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _iso(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")
