"""The CLEAN statement's implementation: records, keys and SQL around :mod:`paqdb.clean.activeclean`.

``CLEAN t PREDICT y [USING MODEL m] WITH (detect => ..., repair => ..., key => ..., ...)``:

1. reads ``t`` (ordered by the key) with the detector's flag, featurises it with the model's own
   featurizer, and starts ActiveClean from the model's parameters;
2. per batch: samples dirty records by their estimated gradient, repairs them (a table of corrected
   rows, SQL assignments, a registered Python function), records every changed value as a correction,
   folds the cleaned records in with the importance-weighted step, and (``detector => 'learned'`` or
   ``'both'``) refits the learned detector on the records cleaned so far;
3. writes, in one transaction (the caller's if one is open): the run and its corrections
   (:mod:`paqdb.clean.corrections`) and the cleaned model as a new version of the model.

Nothing is written before everything is computed, so a failed CLEAN leaves the catalog as it was. The
cleaned table itself is never changed by CLEAN: ``CLEAN t APPLY CORRECTIONS`` writes the recorded
corrections into it (and ``UNDO CORRECTIONS`` takes them back out).

With ``repair => 'manual'`` each CLEAN is one step of an interactive run kept in ``paqdb.clean_runs``: it
folds in the batch handed out last (comparing each of its rows with the snapshot stored when it was
handed out: the differences are people's corrections, made with UPDATE), saves the model, and returns the
next batch's rows to fix.

Without ``USING MODEL``, CLEAN uses the model called ``<table>_<label>_clean``, training it first (a
logistic regression for classification, ridge regression for regression) when it does not exist.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from paqdb.capability import CapabilityContext, CapabilityRequest
from paqdb.clean.corrections import (
    CleanCatalog,
    Correction,
    CorrectionsCapability,
    RunRecord,
    diff,
    ipc_bytes,
    ipc_table,
    quote,
    value_text,
)
from paqdb.clean.repair import ManualRepair, Repair, TextError, classify, parse_predicate
from paqdb.engines.base import Column, render
from paqdb.errors import DataError, Error, InvalidParameterError, UndefinedColumnError

if TYPE_CHECKING:
    from paqdb.catalog.store import ModelRecord
    from paqdb.clean.activeclean import ActiveClean, ConvexModel
    from paqdb.ml.model import TrainedModel

#: The families a model CLEAN trains itself comes from, by task.
DEFAULT_FAMILIES = {"classification": "logistic", "regression": "ridge"}
#: Trials of the search that trains a model CLEAN needs (without USING MODEL).
DEFAULT_TRIALS = 4
_FLAG = "__paqdb_flagged"
_BATCH = "__paqdb_batch"


def default_model_name(source_sql: str, label: str) -> str:
    """The model CLEAN uses without ``USING MODEL``: ``<table>_<label>_clean``.

    >>> default_model_name('main."Sensors"', "failure")
    'Sensors_failure_clean'
    """
    import sqlglot
    from sqlglot import exp

    try:
        table = sqlglot.parse_one(source_sql, read="duckdb", into=exp.Table).name
    except Exception:  # a query rather than a name: keep the letters
        table = "".join(ch if ch.isalnum() else "_" for ch in source_sql).strip("_") or "query"
    return f"{table}_{label}_clean"


def check_family(family: str, model: str) -> None:
    """Refuse a model ActiveClean cannot update, naming the families it can.

    Raises:
        InvalidParameterError: ``family`` is not one of ActiveClean's.
    """
    from paqdb.clean.activeclean import SUPPORTED_FAMILIES

    if family not in SUPPORTED_FAMILIES:
        raise InvalidParameterError(
            f"CLEAN cannot update model '{model}': it is a {family} model, and ActiveClean updates "
            f"convex-loss linear models only ({', '.join(SUPPORTED_FAMILIES)})",
            hint="train one with CREATE MODEL ... USING SEARCH (families => ['logistic']) "
            "(or ['ridge'] for a number), or leave out USING MODEL and CLEAN trains one",
        )


@dataclass(frozen=True)
class CleanProgress:
    """What CLEAN reports after each batch (the shell shows :meth:`__str__` on its progress line)."""

    batch: int
    cleaned: int
    budget: int
    flagged: int

    def __str__(self) -> str:
        return (
            f"cleaning: batch {self.batch}, {self.cleaned} of {self.budget} records cleaned, "
            f"{self.flagged} still flagged"
        )


@dataclass
class _Setup:
    """What a CLEAN statement works on, read and checked before anything runs."""

    source: str
    label: str
    key: str
    columns: list[Column]
    types: dict[str, str]
    repair: Repair
    detect: str | None
    detector: str
    model_name: str
    record: ModelRecord | None
    model: TrainedModel
    trained: Any = None  # a SearchResult when CLEAN trained the model itself
    table: pa.Table | None = None  # every row, key order, source columns
    flagged: np.ndarray | None = None  # the rules detector's flags (all True without rules)
    usable: np.ndarray | None = None  # rows with a label the model knows (indices into table)
    y: np.ndarray | None = None  # their label codes or values
    X: np.ndarray | None = None  # their features
    notes: list[str] = field(default_factory=list)


class CleanCapability:
    """ActiveClean behind ``CLEAN`` (see the module docstring); ``APPLY`` / ``UNDO CORRECTIONS`` too."""

    def run(self, request: CapabilityRequest, context: CapabilityContext) -> pa.Table:
        if request.options.get("action"):
            return CorrectionsCapability().run(request, context)
        setup = self._setup(request, context, read=True)
        if isinstance(setup.repair, ManualRepair):
            return self._run_manual(request, context, setup)
        return self._run_batches(request, context, setup)

    def explain(self, request: CapabilityRequest, context: CapabilityContext) -> None:
        if request.options.get("action"):
            CorrectionsCapability().explain(request, context)
            return
        options = request.options
        setup = self._setup(request, context, read=False)
        line = context.explain_line
        if setup.record is None:
            family = DEFAULT_FAMILIES[_task_of(request)]
            line(
                f"model: {setup.model_name} does not exist: train a {family} model first "
                f"({DEFAULT_TRIALS} trials)"
            )
        else:
            line(f"model: {setup.model_name} version {setup.record.version} ({setup.record.family})")
        detector = {
            "rules": f"rules: {setup.detect}",
            "learned": "learned: a classifier trained on the records cleaned so far"
            + (f", starting from {setup.detect}" if setup.detect else ", starting from every record"),
            "both": f"rules ({setup.detect}) or a classifier learned from the records cleaned so far",
        }[setup.detector]
        line(f"detector: {detector}")
        flagged: int | None = None
        if setup.detect:
            table = context.engine.query_arrow(
                render(
                    f"SELECT count(*) FROM {setup.source} WHERE {_predicate_sql(setup.detect, context)}",
                    context.engine.dialect,
                )
            )
            flagged = int(table.column(0)[0].as_py())
            line(f"flagged now: {flagged} records")
        line(f"repair: {setup.repair.describe()}")
        budget, size = int(options["budget"]), int(options["batch_size"])
        if isinstance(setup.repair, ManualRepair):
            run = CleanCatalog(context.engine).open_run(setup.source, setup.label, setup.model_name)
            if run is None:
                line(f"interactive: start a run and hand out a batch of up to {size} records to fix")
            else:
                line(
                    f"interactive run {run.run}: fold in batch {run.batches + 1}'s changes, save the model, "
                    f"hand out the next batch ({run.cleaned} of {budget} records cleaned)"
                )
        else:
            total = budget if flagged is None or setup.detector != "rules" else min(budget, flagged)
            line(f"budget: {total} records in {max(1, math.ceil(total / size))} batches of up to {size}")
            line("writes: the corrections and the run to the catalog, the cleaned model as a new version")

    # -- setting up -----------------------------------------------------------------------------------

    def _setup(self, request: CapabilityRequest, context: CapabilityContext, *, read: bool) -> _Setup:
        options = request.options
        label = request.label
        assert label is not None, "CLEAN ... PREDICT names its label"
        columns = list(request.source_columns)
        by_name = {c.name.lower(): c for c in columns}
        key_name = options.get("key")
        if not key_name:
            raise InvalidParameterError(
                "CLEAN needs the option 'key': the column that identifies a record",
                hint="add key => 'id' (a column whose values are unique) to WITH (...)",
            )
        key_column = by_name.get(str(key_name).lower())
        if key_column is None:
            raise UndefinedColumnError(
                f"option 'key': column '{key_name}' does not exist in {request.source_sql}",
                hint=f"{request.source_sql} has columns: {', '.join(c.name for c in columns)}",
            )
        key = key_column.name
        if key.lower() == label.lower():
            raise InvalidParameterError(
                f"option 'key': the key column cannot be the label {label}",
                hint="name the column that identifies a record",
            )
        detect = options.get("detect")
        detector = options.get("detector") or "rules"
        if detector in ("rules", "both") and not detect:
            raise InvalidParameterError(
                f"detector '{detector}' needs the option 'detect': a SQL predicate that flags dirty records",
                hint="add detect => 'amount < 0 OR recipient IS NULL', or detector => 'learned'",
            )
        repair_text = options.get("repair")
        if not repair_text:
            raise InvalidParameterError(
                "CLEAN needs the option 'repair': how a dirty record is corrected",
                hint="repair => 'manual', a SQL assignment list 'col = expr', a table of corrected rows, or "
                "a function registered with con.register_cleaner('name', fn)",
            )
        try:
            repair = classify(
                str(repair_text), key=key, columns=columns, cleaners=context.cleaners, engine=context.engine
            )
        except TextError as error:
            raise InvalidParameterError(f"option 'repair': {error.message}", hint=None) from None
        model_name = request.model or default_model_name(request.source_sql, label)
        record = None
        if context.models.exists(model_name):
            record = context.models.record(model_name)
            check_family(record.family, model_name)
            if record.label.lower() != label.lower():
                raise InvalidParameterError(
                    f"model '{model_name}' predicts {record.label}, not {label}",
                    hint=f"write CLEAN {request.source_sql} PREDICT {record.label} USING MODEL {model_name}",
                )
            missing = [f.name for f in record.features if f.name.lower() not in by_name]
            if missing:
                raise UndefinedColumnError(
                    f"model '{model_name}' reads column(s) {', '.join(missing)}, which "
                    f"{request.source_sql} does not have",
                    hint="clean a table with the columns the model was trained on",
                )
        elif request.model is not None:
            from paqdb.errors import UndefinedModelError

            raise UndefinedModelError(f"model '{model_name}' does not exist", hint="check SHOW MODELS")
        setup = _Setup(
            source=request.source_sql,
            label=by_name[label.lower()].name,
            key=key,
            columns=columns,
            types={c.name: c.type for c in columns},
            repair=repair,
            detect=detect,
            detector=detector,
            model_name=model_name if record is None else record.name,
            record=record,
            model=None,  # type: ignore[arg-type]  # read below
        )
        if not read:
            return setup
        self._read(setup, request, context)
        return setup

    def _read(self, setup: _Setup, request: CapabilityRequest, context: CapabilityContext) -> None:
        """Read the table, check the key, get (or train) the model, featurise."""
        engine = context.engine
        flag = ""
        if setup.detect:
            predicate = _predicate_sql(setup.detect, context)
            flag = f", CASE WHEN ({predicate}) THEN TRUE ELSE FALSE END AS {quote(_FLAG)}"
        names = ", ".join(quote(c.name) for c in setup.columns)
        try:
            table = engine.query_arrow(
                render(
                    f"SELECT {names}{flag} FROM {setup.source} ORDER BY {quote(setup.key)}", engine.dialect
                )
            )
        except Error as error:
            raise InvalidParameterError(
                f"option 'detect': the predicate fails on {setup.source}: {error.message.splitlines()[0]}",
                hint="write a SQL condition over the table's columns, e.g. detect => 'amount < 0'",
            ) from None
        if setup.detect:
            flagged = np.asarray(table.column(_FLAG).to_pylist(), dtype=bool)
            table = table.drop_columns([_FLAG])
        else:
            flagged = np.ones(table.num_rows, dtype=bool)
        keys = table.column(setup.key).to_pylist()
        _check_keys(setup.key, keys, setup.source)
        setup.table, setup.flagged = table, flagged
        if setup.record is None:
            setup.model, setup.trained = self._train(setup, request, context)
            setup.notes.append(
                f"model {setup.model_name} did not exist: CLEAN trained it first "
                f"({setup.model.family}, the dirty model, saved as version 1)"
            )
        else:
            setup.model = context.models.load_record(setup.record).model
        usable, y = _labels(setup.model, table.column(setup.label))
        if len(usable) < table.num_rows:
            setup.notes.append(
                f"{table.num_rows - len(usable)} records have no label the model knows (NULL or unseen) and "
                "are left out of the model's data"
            )
        setup.usable, setup.y = usable, y
        setup.X = setup.model.featurize(table.take(pa.array(usable, pa.int64())))

    def _train(
        self, setup: _Setup, request: CapabilityRequest, context: CapabilityContext
    ) -> tuple[Any, Any]:
        assert setup.table is not None
        task = _task_of(request, setup.table.column(setup.label))
        family = DEFAULT_FAMILIES[task]
        data = setup.table.drop_columns([setup.key])
        data = data.filter(pa.compute.is_valid(data.column(setup.label)))
        if data.num_rows < 10:
            raise DataError(
                f"{setup.source} has {data.num_rows} labeled records, too few to train a model to clean with",
                hint="name a model with USING MODEL",
            )
        result = context.search(
            data,
            setup.label,
            {
                "families": [family],
                "budget": f"{DEFAULT_TRIALS} trials",
                "seed": int(request.options["seed"]),
            },
        )
        return result.model, result

    # -- one statement, every batch -------------------------------------------------------------------

    def _run_batches(self, request: CapabilityRequest, context: CapabilityContext, setup: _Setup) -> pa.Table:
        from paqdb.clean.activeclean import ActiveClean

        options = request.options
        assert setup.table is not None and setup.X is not None and setup.y is not None
        assert setup.usable is not None and setup.flagged is not None
        convex = _convex(setup)
        dirty = setup.flagged[setup.usable].copy()
        cleaner = ActiveClean(
            convex, setup.X, setup.y, dirty, batch_size=int(options["batch_size"]), seed=int(options["seed"])
        )
        X_dirty, y_dirty = cleaner.X.copy(), cleaner.y.copy()
        budget = int(options["budget"])
        flagged = int(dirty.sum())
        if budget > flagged > 0:
            context.say(
                f"budget {budget} is more than the {flagged} records the detector flags: "
                f"cleaning at most {flagged}"
            )
        budget = min(budget, flagged)
        if budget == 0:
            # Nothing to clean: no run, no new version of the model (only the dirty model CLEAN trained).
            with context.engine.transaction():
                trained_version = self._save_trained(setup, request, context)
            for note in setup.notes:
                context.say(note)
            context.say(
                f"no record of {setup.source} is flagged for cleaning: nothing cleaned, no run recorded, "
                f"model {setup.model_name} unchanged"
                + (f" (the dirty model is version {trained_version})" if trained_version else "")
            )
            return _batch_table([], _metric(setup))
        catalog = CleanCatalog(context.engine)
        run = _new_run(catalog, setup, str(options["repair"]), budget, int(options["batch_size"]), options)
        run.status = "finished"
        keys = setup.table.column(setup.key).to_pylist()
        before = _score(cleaner)
        results: list[dict[str, Any]] = []
        corrections: list[Correction] = []
        detector = _Detector(setup.detector, dirty, int(options["seed"]))
        # Records whose repaired label the model cannot learn from (NULL or unseen) are cleaned (their
        # corrections are recorded) but leave the model's data: they must not be drawn again.
        left_out = np.zeros(len(setup.usable), dtype=bool)
        batch = 0
        while len(cleaner.state.cleaned) + int(left_out.sum()) < budget:
            context.check_cancelled()
            remaining = budget - len(cleaner.state.cleaned) - int(left_out.sum())
            positions = cleaner.next_batch(min(int(options["batch_size"]), remaining))
            if len(positions) == 0:
                break
            batch += 1
            rows = setup.table.take(pa.array(setup.usable[positions], pa.int64()))
            fixed = setup.repair.repair(context.engine, setup.source, rows, batch, setup.types)
            if fixed.column(setup.key).to_pylist() != rows.column(setup.key).to_pylist():
                raise DataError(f"the repair changed the key column {setup.key} in batch {batch}")
            corrections += diff(rows, fixed, setup.key, batch)
            folded, X_clean, y_clean = _cleaned(setup, positions, fixed)
            dropped = np.setdiff1d(positions, folded)
            result = cleaner.fold_in(folded, X_clean, y_clean)
            left_out[dropped] = True
            if detector.learns:
                cleaner.set_dirty(detector.mask(X_dirty, y_dirty, cleaner) & ~left_out)
            elif len(dropped):
                cleaner.set_dirty(cleaner.dirty & ~left_out)
            score = _score(cleaner)
            done = result.cleaned + int(left_out.sum())
            results.append(
                {
                    "batch": batch,
                    "cleaned": done,
                    "changed": result.changed + len(dropped),
                    "score": score,
                    "change": score - (results[-1]["score"] if results else before),
                    "flagged": len(cleaner.candidates),
                }
            )
            context.report(CleanProgress(batch, done, budget, len(cleaner.candidates)))
        run.batches = batch
        if left_out.any():
            setup.notes.append(
                f"{int(left_out.sum())} repaired records have a label the model does not know (NULL or "
                "unseen): their corrections are recorded, and the model, which cannot learn from such a "
                "label, counts them as they were before cleaning"
            )
        run.cleaned = len(cleaner.state.cleaned) + int(left_out.sum())
        run.state = {"clean": cleaner.state.to_dict(), "cleaned_keys": _key_texts(keys, setup, cleaner)}
        cleaned_model = _with_parameters(setup.model, cleaner.model)
        with context.engine.transaction():
            trained_version = self._save_trained(setup, request, context)
            saved = self._save_model(setup, context, cleaned_model, run, _score(cleaner))
            run.model_version = saved.version
            catalog.ensure()
            catalog.save_run(run, new=True)
            catalog.record(run, corrections, applied=False)
        for note in setup.notes:
            context.say(note)
        metric, after = _metric(setup), _score(cleaner)
        context.say(
            f"model {setup.model_name} version {saved.version}: {run.cleaned} records cleaned in "
            f"{run.batches} batch(es), estimated {metric} on the records known clean {after:.4f} "
            f"({after - before:+.4f}); {len(corrections)} values corrected, recorded as cleaning run "
            f"{run.run} in paqdb.clean_corrections. {setup.source} is unchanged: "
            f"CLEAN {setup.source} APPLY CORRECTIONS writes them"
            + (f" (the dirty model is version {trained_version})" if trained_version else "")
        )
        return _batch_table(results, metric)

    # -- interactive ----------------------------------------------------------------------------------

    def _run_manual(self, request: CapabilityRequest, context: CapabilityContext, setup: _Setup) -> pa.Table:
        from paqdb.clean.activeclean import ActiveClean, CleanState

        options = request.options
        assert setup.table is not None and setup.X is not None and setup.y is not None
        assert setup.usable is not None and setup.flagged is not None
        catalog = CleanCatalog(context.engine)
        run = catalog.open_run(setup.source, setup.label, setup.model_name)
        new = run is None
        if run is not None and run.key_column.lower() != setup.key.lower():
            raise InvalidParameterError(
                f"option 'key': cleaning run {run.run} on {setup.source} is keyed by {run.key_column}, "
                f"not {setup.key}",
                hint=f"run it with key => '{run.key_column}'",
            )
        budget, size = int(options["budget"]), int(options["batch_size"])
        keys = setup.table.column(setup.key).to_pylist()
        usable_keys = [str(value_text(keys[i])) for i in setup.usable]
        position_of = {k: p for p, k in enumerate(usable_keys)}
        dirty = setup.flagged[setup.usable].copy()
        X = setup.X.copy()
        y = setup.y.copy()
        snapshots: pa.Table | None = None
        state: CleanState | None = None
        pending_keys: list[str] = []
        changed_by_key: dict[str, bool] = {}
        if run is not None:
            saved_state = dict(run.state)
            state = CleanState.from_dict(saved_state["clean"])
            cleaned_keys = list(saved_state.get("cleaned_keys", []))
            changed_by_key = {str(k): bool(v) for k, v in saved_state.get("changed", {}).items()}
            pending_keys = list(saved_state.get("pending_keys", []))
            snapshots = ipc_table(run.snapshots) if run.snapshots else None
            _remap(state, cleaned_keys, pending_keys, position_of)
            if snapshots is not None and pending_keys:
                # The pending records enter as they were handed out: dirty, whatever they hold now.
                pending_rows = _pending_rows(snapshots, run.batches + 1, setup)
                present = [
                    i for i, k in enumerate(pending_rows.column(setup.key).to_pylist())
                    if value_text(k) in position_of
                ]  # fmt: skip
                pending_rows = pending_rows.take(pa.array(present, pa.int64()))
                snapshot_usable, snapshot_y = _labels(setup.model, pending_rows.column(setup.label))
                if len(snapshot_usable):
                    at = [
                        position_of[str(value_text(k))]
                        for k in pending_rows.take(pa.array(snapshot_usable, pa.int64()))
                        .column(setup.key)
                        .to_pylist()
                    ]
                    X[at] = setup.model.featurize(pending_rows.take(pa.array(snapshot_usable, pa.int64())))
                    y[at] = snapshot_y
                    dirty[at] = True
        convex = _convex(setup)
        cleaner = ActiveClean(convex, X, y, dirty, batch_size=size, seed=int(options["seed"]), state=state)
        X_dirty, y_dirty = cleaner.X.copy(), cleaner.y.copy()
        detector = _Detector(setup.detector, dirty, int(options["seed"]))
        if detector.learns and snapshots is not None and run is not None:
            # The learned detector reads the records cleaned in earlier steps as they were handed out.
            done = snapshots.filter(pa.compute.less_equal(snapshots.column(_BATCH), run.batches))
            done = done.drop_columns([_BATCH])
            here = [
                i for i, k in enumerate(done.column(setup.key).to_pylist()) if value_text(k) in position_of
            ]
            done = done.take(pa.array(here, pa.int64()))
            known, known_y = _labels(setup.model, done.column(setup.label))
            if len(known):
                done = done.take(pa.array(known, pa.int64()))
                at = [position_of[str(value_text(k))] for k in done.column(setup.key).to_pylist()]
                X_dirty[at] = setup.model.featurize(done)
                y_dirty[at] = known_y
        before = _score(cleaner)
        corrections: list[Correction] = []
        folded_text = ""
        saved_version: int | None = None
        fold = None
        if run is not None and cleaner.state.pending:
            batch = run.batches + 1
            assert snapshots is not None
            old_rows = _pending_rows(snapshots, batch, setup)
            old_keys = [value_text(k) for k in old_rows.column(setup.key).to_pylist()]
            row_of = {value_text(k): i for i, k in enumerate(keys)}
            present = [i for i, k in enumerate(old_keys) if k in row_of]
            old_rows = old_rows.take(pa.array(present, pa.int64()))
            now_rows = setup.table.take(pa.array([row_of[old_keys[i]] for i in present], pa.int64()))
            shared = [c for c in old_rows.column_names if c in now_rows.column_names]
            old_cmp, now_cmp = old_rows.select(shared), now_rows.select(shared)
            corrections = diff(old_cmp, now_cmp.cast(old_cmp.schema, safe=False), setup.key, batch)
            for k in {value_text(c.key) for c in corrections}:
                changed_by_key[str(k)] = True
            positions = np.asarray([position_of[k] for k in pending_keys if k in position_of], dtype=np.int64)
            positions = np.asarray(
                [p for p in positions if int(p) in set(cleaner.state.pending)], dtype=np.int64
            )
            if len(positions):
                fold = cleaner.fold_in(positions, setup.X[positions], setup.y[positions])
                for p in positions:
                    changed_by_key.setdefault(usable_keys[int(p)], False)
                if detector.learns:
                    cleaner.set_dirty(detector.mask(X_dirty, y_dirty, cleaner))
            score = _score(cleaner)
            folded_text = (
                f"batch {batch} folded in: {len(positions)} records ({len(corrections)} values changed by "
                f"hand, recorded as corrections of run {run.run}); estimated {_metric(setup)} on the "
                f"records known clean {score:.4f} ({score - before:+.4f}); "
                f"{len(cleaner.candidates)} records still flagged"
            )
        cleaned = len(cleaner.state.cleaned)
        remaining = budget - cleaned
        next_positions = np.zeros(0, dtype=np.int64)
        if remaining > 0:
            next_positions = cleaner.next_batch(min(size, remaining))
        if run is None and not len(next_positions):
            for note in setup.notes:
                context.say(note)
            context.say(
                f"no record of {setup.source} is flagged for cleaning: nothing to hand out (no run started)"
            )
            return next_rows_of(setup, next_positions)
        if run is None:
            run = _new_run(catalog, setup, "manual", budget, size, options)
        if fold is not None:
            run.batches = fold.batch
        run.cleaned = cleaned
        run.budget, run.batch_size, run.detect, run.detector = budget, size, setup.detect, setup.detector
        next_rows = next_rows_of(setup, next_positions)
        new_snapshot = next_rows.append_column(
            _BATCH, pa.array([run.batches + 1] * next_rows.num_rows, pa.int32())
        )
        if snapshots is not None and len(next_positions):
            snapshots = pa.concat_tables([snapshots, new_snapshot], promote_options="permissive")
        elif len(next_positions):
            snapshots = new_snapshot
        run.snapshots = ipc_bytes(snapshots) if snapshots is not None else None
        run.status = "open" if len(next_positions) else "finished"
        run.state = {
            "clean": cleaner.state.to_dict(),
            "cleaned_keys": [usable_keys[int(p)] for p in cleaner.state.cleaned],
            "pending_keys": [usable_keys[int(p)] for p in next_positions],
            "changed": changed_by_key,
        }
        with context.engine.transaction():
            trained_version = self._save_trained(setup, request, context)
            if fold is not None:
                saved = self._save_model(
                    setup, context, _with_parameters(setup.model, cleaner.model), run, _score(cleaner)
                )
                saved_version = run.model_version = saved.version
            catalog.ensure()
            catalog.save_run(run, new=new)
            catalog.record(run, corrections, applied=True)
            catalog.set_pending(run, run.batches + 1, [keys[int(setup.usable[p])] for p in next_positions])
        for note in setup.notes:
            context.say(note)
        if trained_version:
            context.say(f"the dirty model is {setup.model_name} version {trained_version}")
        if folded_text:
            context.say(f"{folded_text}; model {setup.model_name} version {saved_version}")
        if len(next_positions):
            context.say(
                f"cleaning run {run.run} on {setup.source}, batch {run.batches + 1}: fix the "
                f"{len(next_positions)} record(s) below (their keys are in paqdb.clean_pending) with "
                f"UPDATE {setup.source} SET ... WHERE "
                f"{setup.key} = ..., then run this CLEAN again to fold them into model {setup.model_name} "
                f"({cleaned} of {budget} records cleaned, {len(cleaner.candidates)} flagged)"
            )
        else:
            why = "the budget is spent" if remaining <= 0 else "no flagged record is left"
            context.say(
                f"cleaning run {run.run} on {setup.source} is finished: {why} ({cleaned} records cleaned); "
                f"SELECT * FROM paqdb.clean_corrections WHERE run = {run.run} lists its corrections"
            )
        return next_rows

    # -- writing ---------------------------------------------------------------------------------------

    def _save_trained(
        self, setup: _Setup, request: CapabilityRequest, context: CapabilityContext
    ) -> int | None:
        """Save the model CLEAN trained itself (the dirty model) as version 1; its version, or None."""
        if setup.trained is None:
            return None
        from paqdb.catalog.store import TrialRecord

        result = setup.trained
        features = _features(setup)
        saved = context.models.save(
            result.model,
            name=setup.model_name,
            label=setup.label,
            label_type=setup.types[setup.label],
            features=features,
            metric=result.metric,
            validation_score=result.validation_score,
            train_rows=len(setup.usable) if setup.usable is not None else 0,
            trials=[TrialRecord.of(t) for t in result.trials],
            search={"families": [result.model.family], "budget": f"{DEFAULT_TRIALS} trials", "by": "CLEAN"},
            source_sql=setup.source,
            outcome=result.outcome,
            notes="trained by CLEAN on the dirty data",
            replace=False,
        )
        record = context.models.record(setup.model_name, saved.version)
        setup.record = record
        return int(saved.version)

    def _save_model(
        self, setup: _Setup, context: CapabilityContext, model: TrainedModel, run: RunRecord, score: float
    ) -> Any:
        record = setup.record
        assert record is not None
        return context.models.save(
            model,
            name=record.name,
            label=record.label,
            label_type=record.label_type,
            features=record.features,
            metric=record.metric,
            validation_score=None,
            train_rows=record.train_rows,
            search={
                **{k: v for k, v in record.search.items() if k != "cleaned"},
                "cleaned": {
                    "by": "CLEAN",
                    "run": run.run,
                    "from_version": record.version,
                    "records_cleaned": run.cleaned,
                    "batches": run.batches,
                    "estimated_score": score,
                },
            },
            source_sql=record.source_sql,
            outcome="complete",
            notes=f"cleaned by CLEAN (run {run.run}, {run.cleaned} records in {run.batches} batches) from "
            f"version {record.version}; estimated {_metric(setup)} on the records known clean {score:.4f}",
            replace=True,
        )


# -- helpers ---------------------------------------------------------------------------------------------


def _new_run(
    catalog: CleanCatalog,
    setup: _Setup,
    repair: str,
    budget: int,
    batch_size: int,
    options: Mapping[str, Any],
) -> RunRecord:
    """The record of a cleaning run about to start (numbered after the catalog's last run)."""
    return RunRecord(
        run=catalog.next_run(),
        source=setup.source,
        label=setup.label,
        model=setup.model_name,
        key_column=setup.key,
        detect=setup.detect,
        detector=setup.detector,
        repair=repair,
        budget=budget,
        batch_size=batch_size,
        seed=int(options["seed"]),
    )


def _predicate_sql(detect: str | None, context: CapabilityContext) -> str:
    """The detector predicate in the engine's dialect (parsed as DuckDB's SQL, re-generated)."""
    assert detect is not None
    try:
        node = parse_predicate(detect)
    except TextError as error:
        raise InvalidParameterError(f"option 'detect': {error.message}") from None
    return node.sql(dialect="duckdb")


def _task_of(request: CapabilityRequest, label: pa.ChunkedArray | None = None) -> str:
    """The label's task: from its values when read, else from its SQL type (integers: classes)."""
    if label is not None:
        from paqdb.ml.tasks import infer_task

        return infer_task(label)
    from paqdb.engines.base import base_type

    column = next(c for c in request.source_columns if c.name.lower() == str(request.label).lower())
    kind = base_type(column.type)
    return "regression" if kind in ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC") else "classification"


def _check_keys(key: str, keys: Sequence[Any], source: str) -> None:
    nulls = sum(1 for k in keys if k is None)
    if nulls:
        raise InvalidParameterError(
            f"option 'key': {key} is NULL in {nulls} records of {source}; a key identifies each record",
            hint=f"give those records a {key}, or name a unique, non-NULL column as key",
        )
    seen: set[Any] = set()
    duplicated: list[Any] = []
    for k in keys:
        if k in seen and k not in duplicated:
            duplicated.append(k)
        seen.add(k)
    if duplicated:
        shown = ", ".join(map(str, duplicated[:10]))
        raise InvalidParameterError(
            f"option 'key': {key} is not unique in {source} ({len(duplicated)} values repeat: {shown})",
            hint="name a column whose values identify one record each",
        )


def _labels(model: TrainedModel, column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose label the model can learn from, and their class codes (or values)."""
    values = column.to_pylist()
    if model.task == "classification":
        assert model.classes is not None
        codes = {value_text(v): i for i, v in enumerate(model.classes.to_pylist())}
        usable = [i for i, v in enumerate(values) if v is not None and value_text(v) in codes]
        y = np.asarray([codes[value_text(values[i])] for i in usable], dtype=np.int64)
    else:
        usable = [i for i, v in enumerate(values) if v is not None and not _nan(v)]
        y = np.asarray([float(values[i]) for i in usable], dtype=np.float64)
    return np.asarray(usable, dtype=np.int64), y


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _convex(setup: _Setup) -> ConvexModel:
    from paqdb.clean.activeclean import ConvexModel

    assert setup.y is not None
    rows = setup.record.train_rows if setup.record is not None else len(setup.y)
    return ConvexModel.from_estimator(setup.model.estimator, rows, setup.y)


def _cleaned(
    setup: _Setup, positions: np.ndarray, fixed: pa.Table
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The positions whose cleaned label the model knows, with their cleaned features and labels."""
    usable, y = _labels(setup.model, fixed.column(setup.label))
    X = setup.model.featurize(fixed.take(pa.array(usable, pa.int64())))
    return positions[usable], X, y


def _score(cleaner: ActiveClean) -> float:
    """The model's accuracy (R2) on the records known clean: not flagged, or cleaned."""
    known = ~cleaner.dirty | cleaner.cleaned
    if not known.any():
        return float("nan")
    return float(cleaner.model.score(cleaner.X[known], cleaner.y[known]))


def _metric(setup: _Setup) -> str:
    return "accuracy" if setup.model.task == "classification" else "r2"


def _key_texts(keys: list[Any], setup: _Setup, cleaner: ActiveClean) -> list[str | None]:
    assert setup.usable is not None
    return [value_text(keys[int(setup.usable[p])]) for p in cleaner.state.cleaned]


def _with_parameters(model: TrainedModel, convex: ConvexModel) -> TrainedModel:
    """A copy of ``model`` whose estimator has ``convex``'s parameters."""
    from paqdb.ml.model import TrainedModel

    return TrainedModel(
        task=model.task,
        label=model.label,
        label_type=model.label_type,
        feature_schema=model.feature_schema,
        family=model.family,
        hyperparameters=model.hyperparameters,
        classes=model.classes,
        featurizer=model.featurizer,
        estimator=convex.to_estimator(model.estimator),
        info=model.info,
    )


def _features(setup: _Setup) -> list[Column]:
    by_name = {c.name.lower(): c for c in setup.columns}
    return [Column(by_name[n.lower()].name, by_name[n.lower()].type) for n in setup.model.feature_names]


def next_rows_of(setup: _Setup, positions: np.ndarray) -> pa.Table:
    """The rows at ``positions`` (of the usable records), every column of the table."""
    assert setup.table is not None and setup.usable is not None
    return setup.table.take(pa.array(setup.usable[positions], pa.int64()))


def _pending_rows(snapshots: pa.Table, batch: int, setup: _Setup) -> pa.Table:
    """The rows of ``batch`` as they were handed out, without the batch column."""
    mask = pa.compute.equal(snapshots.column(_BATCH), batch)
    return snapshots.filter(mask).drop_columns([_BATCH])


def _remap(state: Any, cleaned_keys: list[str], pending_keys: list[str], position_of: dict[Any, int]) -> None:
    """Point the saved state's positions at the records' positions now (rows may have come and gone)."""
    cleaned, changed = [], []
    for i, k in enumerate(cleaned_keys):
        if k in position_of:
            cleaned.append(position_of[k])
            changed.append(state.changed[i] if i < len(state.changed) else False)
    state.cleaned, state.changed = cleaned, changed
    keep = [i for i, k in enumerate(pending_keys) if k in position_of]
    state.pending = [position_of[pending_keys[i]] for i in keep]
    state.pending_draws = [state.pending_draws[i] for i in keep]
    state.pending_probability = [state.pending_probability[i] for i in keep]


class _Detector:
    """The detector's mask after each batch: the rules' flags, a learned classifier's, or both."""

    def __init__(self, kind: str, rules: np.ndarray, seed: int = 0) -> None:
        self.kind = kind
        self.seed = seed
        self.rules = rules.copy()
        self.learns = kind in ("learned", "both")

    def mask(self, X_dirty: np.ndarray, y_dirty: np.ndarray, cleaner: ActiveClean) -> np.ndarray:
        """The mask for ``cleaner``'s records, learned from what cleaning changed so far."""
        from paqdb.clean.detectors import LearnedDetector

        cleaned = np.asarray(cleaner.state.cleaned, dtype=np.int64)
        changed = np.asarray(cleaner.state.changed, dtype=bool)
        if len(cleaned) == 0 or changed.all() or not changed.any():
            return cleaner.dirty  # nothing to tell apart yet: cleaning changed every record, or none
        else:
            detector = LearnedDetector(seed=self.seed)
            detector.fit(X_dirty[cleaned], changed, y_dirty[cleaned])
            learned = np.asarray(detector.predict(cleaner.X, cleaner.y), dtype=bool)
        return (self.rules | learned) if self.kind == "both" else learned


def _batch_table(results: list[dict[str, Any]], metric: str) -> pa.Table:
    return pa.table(
        {
            "batch": pa.array([r["batch"] for r in results], pa.int32()),
            "cleaned": pa.array([r["cleaned"] for r in results], pa.int64()),
            "changed": pa.array([r["changed"] for r in results], pa.int64()),
            metric: pa.array([r["score"] for r in results], pa.float64()),
            f"{metric}_change": pa.array([r["change"] for r in results], pa.float64()),
            "still_flagged": pa.array([r["flagged"] for r in results], pa.int64()),
        }
    )
