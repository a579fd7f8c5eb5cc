"""``PREDICT label FROM source GIVEN labeled [USING SEARCH (...)]`` and ``PREDICT label FROM source USING
MODEL m``: the input rows plus ``predicted_<label>`` (and ``confidence`` for classification)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot.tokens import Token, TokenType

from paqdb.errors import InvalidParameterError
from paqdb.planner import operators as ops
from paqdb.planner.plan import LogicalNode, Plan
from paqdb.planner.typing import feature_column
from paqdb.sql import ast

if TYPE_CHECKING:
    from paqdb.planner.planner import Planner
    from paqdb.sql import Statement
    from paqdb.sql.dialect import PaqParser


class Predict(ast.PaqStatement):
    """``PREDICT label FROM source [GIVEN labeled | USING MODEL model] [USING SEARCH (...)]``."""

    statement_name = "PREDICT"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("PREDICT",),)
    keywords: ClassVar[tuple[str, ...]] = ("FROM", "GIVEN", "USING", "MODEL", "SEARCH", "RANGE", "LOG", "INT")
    usage = "PREDICT <column> FROM <table> GIVEN <labeled table> | USING MODEL <name>"
    arg_types = {"label": True, "source": True, "given": False, "model": False, "search": False}

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
        search = None
        while parser._match(TokenType.USING):
            if parser._match_text_seq("MODEL"):
                if model is not None:
                    parser.raise_error("USING MODEL is given twice", parser._prev)
                model = parser._parse_required_identifier("a model name")
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
        return parser.expression(
            cls(label=label, source=source, given=given, model=model, search=search), token=start
        )

    def to_sql(self, gen: Any) -> str:
        parts = [f"PREDICT {gen.sql(self, 'label')} FROM {gen.sql(self, 'source')}"]
        if self.args.get("given") is not None:
            parts.append(f"GIVEN {gen.sql(self, 'given')}")
        if self.args.get("model") is not None:
            parts.append(f"USING MODEL {gen.sql(self, 'model')}")
        if self.args.get("search") is not None:
            parts.append(gen.sql(self, "search"))
        return " ".join(parts)

    def build_plan(self, planner: Planner, statement: Statement) -> Plan:
        source_sql, source_columns = planner.bind_relation(statement, self.args["source"])
        label_node = self.args["label"]
        if self.args.get("model") is not None:
            record = planner.bind_model_record(statement, self.args["model"])
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
            function, physical = planner.catalog_scorer(record, features)
            model_node = LogicalNode(
                "Model", {"name": name, "version": record.version, "family": record.family}
            )
            label_name, label_sql_type, task = record.label, record.label_type, record.task
            drop_after = None
            rewrites = [f"model binding: {name} version {record.version} from the catalog"]
        else:
            training = planner.plan_training(
                statement, label_node, self.args["given"], source_columns, self.args.get("search")
            )
            model_node, physical, features = training.logical, training.physical, training.features
            rewrites = training.rewrites
            label_name, label_sql_type = training.label.name, training.label.type
            task = training.spec.task  # None: the search infers it from the label
            function = f"paqdb_score_tmp_{uuid.uuid4().hex[:12]}"
            physical.append(ops.RegisterScorer(function, features, training.label_type, None))
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
            )
        )
        scan = LogicalNode("Scan", {"relation": source_sql, "columns": len(source_columns)})
        logical = LogicalNode(
            "Predict", {"label": label_name, "output": f"predicted_{label_name}"}, [scan, model_node]
        )
        return Plan(statement.text, logical, physical, rewrites)
