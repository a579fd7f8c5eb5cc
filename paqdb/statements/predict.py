"""``PREDICT label FROM source GIVEN labeled [USING SEARCH (...)]`` and ``PREDICT label FROM source USING
MODEL m``: the input rows plus ``predicted_<label>`` (and ``confidence`` for classification)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from paqdb.errors import Error, InvalidParameterError
from paqdb.planner import operators as ops
from paqdb.planner.plan import LogicalNode, Plan
from paqdb.planner.typing import feature_column, label_model_type
from paqdb.sql import ast
from paqdb.sql.dialect import options_sql
from paqdb.udfs import scoring

SCORING_OPTIONS = ("probabilities", "threshold", "explain")
"""Options of ``PREDICT ... WITH (...)``."""

if TYPE_CHECKING:
    from paqdb.planner.planner import Planner
    from paqdb.sql import Statement
    from paqdb.sql.dialect import PaqParser


class Predict(ast.PaqStatement):
    """``PREDICT label FROM source [GIVEN labeled | USING MODEL model] [USING SEARCH (...)]``."""

    statement_name = "PREDICT"
    embeddable = True  # SELECT ... FROM (PREDICT ...), WITH t AS (PREDICT ...), CREATE TABLE t AS PREDICT ...
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("PREDICT",),)
    keywords: ClassVar[tuple[str, ...]] = (
        "FROM",
        "GIVEN",
        "USING",
        "MODEL",
        "VERSION",
        "SEARCH",
        "RANGE",
        "LOG",
        "INT",
    )
    usage = "PREDICT <column> FROM <table> GIVEN <labeled table> | USING MODEL <name> [VERSION <n>]"
    arg_types = {
        "label": True,
        "source": True,
        "given": False,
        "model": False,
        "search": False,
        "version": False,
        # PREDICT composes: WITH ... PREDICT ..., and the result's ORDER BY / LIMIT
        "with_": False,
        "order": False,
        "limit": False,
        # WITH (probabilities => true, threshold => 0.3, explain => true): how the rows are scored
        "options": False,
    }

    @classmethod
    def claims(cls, words: list[str], tokens: list[Token]) -> bool:
        # PREDICT( ... ) is the expression form, inside plain SQL.
        return words[0] == "PREDICT" and len(tokens) > 1 and tokens[1].token_type != TokenType.L_PAREN

    @classmethod
    def parse_statement(cls, parser: PaqParser) -> Predict | None:
        if not parser._at_end() and parser._curr.token_type == TokenType.L_PAREN:
            return None  # PREDICT( ... ) is the expression form, not the statement
        start = parser._prev
        label = parser._parse_required_identifier("the column to predict")
        parser._expect_word("FROM", "PREDICT <column> FROM <table> GIVEN <labeled table>")
        source = parser._parse_relation()
        given = parser._parse_relation() if parser._match_text_seq("GIVEN") else None
        model = None
        version = None
        search = None
        while parser._match(TokenType.USING):
            if parser._match_text_seq("MODEL"):
                if model is not None:
                    parser.raise_error("USING MODEL is given twice", parser._prev)
                model = parser._parse_required_identifier("a model name")
                version = parser._parse_model_version()
            elif parser._match_text_seq("SEARCH"):
                if search is not None:
                    parser.raise_error("USING SEARCH is given twice", parser._prev)
                search = parser._parse_search_clause()
            else:
                parser.raise_error("expected MODEL or SEARCH after USING")
        if given is None and model is None:
            parser.raise_error(
                "PREDICT needs GIVEN <labeled table> to train on, or USING MODEL <name>",
                parser._curr or parser._prev,
            )
        if given is not None and model is not None:
            parser.raise_error("PREDICT takes GIVEN or USING MODEL, not both", start)
        if model is not None and search is not None:
            parser.raise_error("USING SEARCH applies to training; a stored model is already trained", start)
        options = parser._parse_with_options()
        node = parser.expression(
            cls(label=label, source=source, given=given, model=model, search=search, version=version),
            token=start,
        )
        if options:
            node.set("options", options)
        return _with_result_modifiers(parser, node)

    def to_sql(self, gen: Any) -> str:
        parts = [gen.sql(self, "with_")] if self.args.get("with_") else []
        parts.append(f"PREDICT {gen.sql(self, 'label')} FROM {gen.sql(self, 'source')}")
        if self.args.get("given") is not None:
            parts.append(f"GIVEN {gen.sql(self, 'given')}")
        if self.args.get("model") is not None:
            parts.append(f"USING MODEL {gen.sql(self, 'model')}")
            if self.args.get("version") is not None:
                parts.append(f"VERSION {gen.sql(self, 'version')}")
        if self.args.get("search") is not None:
            parts.append(gen.sql(self, "search"))
        if self.args.get("options"):
            parts.append(f"WITH {options_sql(gen, self.args['options'])}")
        return " ".join(parts) + gen.sql(self, "order") + gen.sql(self, "limit")

    def _relation(self, arg: str) -> exp.Expression:
        """The ``source`` or ``given`` relation, with the statement's CTEs (``WITH t AS (...) PREDICT ...
        FROM t``) brought inside it, so it reads the same wherever the scoring query puts it."""
        relation = self.args[arg]
        ctes = self.args.get("with_")
        if ctes is None:
            return relation
        query = exp.Select(expressions=[exp.Star()]).from_(relation.copy(), copy=False)
        query.set("with_", ctes.copy())
        subquery = exp.Subquery(this=query)
        subquery.meta.update(relation.meta)
        return subquery

    def _modifiers(self, planner: Planner) -> str:
        """`` ORDER BY ... LIMIT ...`` of the result rows, in the reference dialect."""
        from paqdb.engines.base import REFERENCE_DIALECT

        pieces = [
            self.args[arg].sql(dialect=REFERENCE_DIALECT).strip()
            for arg in ("order", "limit")
            if self.args.get(arg) is not None
        ]
        return "".join(f" {piece}" for piece in pieces)

    def _scoring_options(self, statement: Statement) -> tuple[bool, float | None, bool]:
        """``WITH (probabilities => true, threshold => 0.3, explain => true)``: (probabilities, threshold,
        explain), checked; a bad option is an error at that option."""
        probabilities, threshold, explain = False, None, False
        for option in self.args.get("options") or []:
            name, value = option.option_name, option.value()
            if name == "explain":
                if not isinstance(value, bool):
                    raise statement.locate(
                        InvalidParameterError(
                            f"explain {value!r} is not true or false",
                            hint="write explain => true for each row's contributions and base_value",
                        ),
                        option,
                    )
                explain = value
            elif name == "probabilities":
                if not isinstance(value, bool):
                    raise statement.locate(
                        InvalidParameterError(
                            f"probabilities {value!r} is not true or false",
                            hint="write probabilities => true for a probability_<class> column per class",
                        ),
                        option,
                    )
                probabilities = value
            elif name == "threshold":
                if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                    raise statement.locate(
                        InvalidParameterError(
                            f"threshold {value!r} is not a probability between 0 and 1",
                            hint="e.g. threshold => 0.3 predicts the second class from a 30% probability",
                        ),
                        option,
                    )
                threshold = float(value)
            else:
                raise statement.locate(
                    InvalidParameterError(
                        f"unknown PREDICT option '{name}'",
                        hint=f"options: {', '.join(SCORING_OPTIONS)}",
                    ),
                    option,
                )
        return probabilities, threshold, explain

    def _check_scoring(self, statement: Statement, task: str | None, classes: int | None) -> None:
        """Probabilities need a classifier and a threshold a binary one (``classes``: None when unknown
        until the search has run; the scoring function checks again then)."""
        for option in self.args.get("options") or []:
            if option.option_name not in SCORING_OPTIONS or option.option_name == "explain":
                continue
            if task == "regression":
                raise statement.locate(
                    InvalidParameterError(
                        f"{option.option_name} applies to classification; this model predicts a number",
                        hint=f"leave {option.option_name} out for a regression model",
                    ),
                    option,
                )
            if option.option_name == "threshold" and classes is not None and classes != 2:
                raise statement.locate(
                    InvalidParameterError(
                        f"threshold applies to a model of two classes; this one has {classes}",
                        hint="leave threshold out, and read every class's probability with "
                        "probabilities => true",
                    ),
                    option,
                )

    def _check_explain(self, statement: Statement, family: str) -> str:
        """How rows of a ``family`` model are explained; an error at the option for a family that is
        not explained."""
        from paqdb.ml.explain import explain_method

        option = next(o for o in self.args.get("options") or [] if o.option_name == "explain")
        try:
            return explain_method(family)
        except Error as error:
            raise statement.locate(error, option) from None

    def _explainable_search(
        self, statement: Statement, physical: list[ops.PhysicalOperator], task: str, rewrites: list[str]
    ) -> None:
        """``GIVEN ... WITH (explain => true)``: the search compares only the families whose rows can be
        explained, so it never keeps a model the statement then cannot explain (after the whole search
        has run). Families named in ``families`` that are not explained are an error at the option."""
        import dataclasses

        from paqdb.errors import NotSupportedError
        from paqdb.ml.explain import EXPLAINABLE_FAMILIES
        from paqdb.ml.families import families_for

        option = next(o for o in self.args.get("options") or [] if o.option_name == "explain")
        index, search = next((i, op) for i, op in enumerate(physical) if isinstance(op, ops.ModelSearchOp))
        spec = search.spec
        if spec.families is not None:
            refused = [name for name in spec.families if name not in EXPLAINABLE_FAMILIES]
            if refused:
                raise statement.locate(
                    NotSupportedError(
                        "explain => true cannot explain the rows of "
                        f"{', '.join(repr(n) for n in refused)} models, which families names",
                        hint=f"leave {', '.join(refused)} out of families (explained: "
                        f"{', '.join(EXPLAINABLE_FAMILIES)}), or leave explain out",
                    ),
                    option,
                )
            return
        kept = [
            f.name
            for f in families_for(task)  # type: ignore[arg-type]
            if f.name in EXPLAINABLE_FAMILIES and (spec.class_weight is None or f.class_weighted)
        ]
        physical[index] = ops.ModelSearchOp(
            search.label, dataclasses.replace(spec, families=tuple(kept)), search.shape
        )
        rewrites.append(f"explain: the search compares the families it can explain ({', '.join(kept)})")

    def build_plan(self, planner: Planner, statement: Statement) -> Plan:
        probabilities, threshold, explain = self._scoring_options(statement)
        scored_classes: list[str] | None = None
        scored_model: str | None = None  # the catalog model's lower-case name; None: the search's
        source_sql, source_columns = planner.bind_relation(statement, self._relation("source"))
        label_node = self.args["label"]
        if self.args.get("model") is not None:
            record = planner.bind_model_record(statement, self.args["model"], self.args.get("version"))
            name = record.name
            if label_node.name.lower() != record.label.lower():
                raise statement.locate(
                    InvalidParameterError(
                        f"model '{name}' predicts '{record.label}', not '{label_node.name}'",
                        hint=f"write PREDICT {record.label} FROM ... USING MODEL {name}",
                    ),
                    label_node,
                )
            planner.check_inputs(statement, name, record.features, source_columns, self.args["source"])
            features = [f for f in (feature_column(c) for c in record.features) if f is not None]
            model_node = LogicalNode(
                "Model", {"name": name, "version": record.version, "family": record.family}
            )
            label_name, label_sql_type, task = record.label, record.label_type, record.task
            drop_after = None
            scored_model = record.name.lower()
            if probabilities or threshold is not None or explain:
                explained_by = self._check_explain(statement, record.family) if explain else None
                if probabilities or threshold is not None:
                    self._check_scoring(statement, task, None)
                    # The classes are in the artifact: decoded now (the model store caches it for
                    # LoadModel), so a threshold on a multiclass model fails before anything runs, and the
                    # probability columns are named in the plan.
                    try:
                        loaded = planner.context.models.load_record(record).model
                    except Error as error:
                        raise statement.locate(error, self.args["model"]) from None
                    scored_classes = scoring.class_names(loaded)
                    self._check_scoring(statement, task, len(scored_classes))
                # A function of this statement's own: the session's cached one returns no probabilities.
                function = f"paqdb_score_tmp_{uuid.uuid4().hex[:12]}"
                physical = [
                    ops.LoadModel(record),
                    ops.RegisterScorer(
                        function,
                        features,
                        label_model_type(record.label_type) or "VARCHAR",
                        record.name.lower(),
                        probabilities=probabilities,
                        threshold=threshold,
                        explain=explain,
                        explain_method=explained_by,
                    ),
                ]
                drop_after = function
            else:
                function, physical = planner.catalog_scorer(record, features)
            rewrites = [f"model binding: {name} version {record.version} from the catalog"]
        else:
            training = planner.plan_training(
                statement, label_node, self._relation("given"), source_columns, self.args.get("search")
            )
            model_node, physical, features = training.logical, training.physical, training.features
            rewrites = training.rewrites
            label_name, label_sql_type = training.label.name, training.label.type
            task = training.task
            if explain:
                self._explainable_search(statement, physical, task, rewrites)
            if probabilities or threshold is not None:
                shape = next(op.shape for op in physical if isinstance(op, ops.ModelSearchOp))
                classes = shape.classes if shape is not None and shape.classes else None
                self._check_scoring(statement, task, classes)
            function = f"paqdb_score_tmp_{uuid.uuid4().hex[:12]}"
            physical.append(
                ops.RegisterScorer(
                    function,
                    features,
                    training.label_type,
                    None,
                    probabilities=probabilities,
                    threshold=threshold,
                    explain=explain,
                )
            )
            drop_after = function
        rewrites.append(
            "scoring pushed into the engine: one vectorised call per vector, no row-by-row Python"
        )
        physical.append(
            ops.ScoreQuery(
                source_sql,
                source_columns,
                function,
                features,
                label_name,
                label_sql_type,
                task,
                drop_function=drop_after,
                modifiers=self._modifiers(planner),
                probabilities=probabilities,
                model_name=scored_model,
                classes=scored_classes,
                explain=explain,
            )
        )
        if probabilities:
            rewrites.append(
                "probabilities: a probability_<class> column per class, in the model's class order"
            )
        if threshold is not None:
            rewrites.append(
                "threshold: the second class in the model's class order when its probability >= "
                f"{threshold:g}"
            )
        if explain:
            rewrites.append(
                "explain: contributions (input column -> contribution) and base_value, adding up to the "
                "model's raw output"
            )
        scan = LogicalNode("Scan", {"relation": source_sql, "columns": len(source_columns)})
        logical = LogicalNode(
            "Predict", {"label": label_name, "output": f"predicted_{label_name}"}, [scan, model_node]
        )
        return Plan(statement.text, logical, physical, rewrites)


def _with_result_modifiers(parser: PaqParser, node: Predict) -> Predict:
    """``ORDER BY`` and ``LIMIT`` after the statement: they apply to its result rows."""
    order = parser._parse_order()
    if order is not None:
        node.set("order", order)
    limit = parser._parse_limit()
    if limit is not None:
        node.set("limit", limit)
    return node
