"""Tab completion, names read from a live session, and the colouring of paqdb keywords."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from pygments.token import Keyword, Name

from paqdb.cli.completion import CompletionNames, SessionNames, SqlCompleter, quote_identifier
from paqdb.cli.highlight import PaqSqlLexer
from paqdb.session import Session

NAMES = CompletionNames(
    tables=["people", "payments", "My Table"],
    columns=["person_id", "amount"],
    models=["price_model", "churn"],
    datasets=["iris", "adult"],
    keywords=["PRAGMA"],
    functions=["power", "printf"],
)


def complete(text: str, *, requested: bool = False, names: CompletionNames = NAMES) -> list[str]:
    completer = SqlCompleter(
        lambda: names,
        dot_commands={".mode": ("box", "csv", "json"), ".models": (), ".quit": (), ".read": ()},
        file_commands=[".read"],
    )
    event = CompleteEvent(text_inserted=not requested, completion_requested=requested)
    return [c.text for c in completer.get_completions(Document(text), event)]


def test_keywords_follow_the_case_typed() -> None:
    assert "SELECT" in complete("SEL")
    assert "select" in complete("sel")
    assert "PREDICT" in complete("SELECT * FROM t; PRED")


def test_paqdb_keywords_and_phrases() -> None:
    assert "GIVEN" in complete("PREDICT y FROM t GIV")
    assert complete("SHOW M")[0] == "SHOW MODELS"
    assert "show models" in complete("show mo")
    assert {"CREATE MODEL", "CREATE OR REPLACE MODEL"} <= set(complete("CREATE"))
    assert "CROWD LABEL" in complete("CRO")
    assert "CAUSAL FREQ" in complete("CAUS")
    assert "LOAD DATASET" in complete("LOAD D")
    assert "USING SEARCH" in complete("PREDICT y FROM t GIVEN u USING S")


def test_tables_come_first_after_from_and_given() -> None:
    assert complete("SELECT * FROM p")[:2] == ["people", "payments"]
    assert complete("PREDICT y FROM t GIVEN pe")[0] == "people"


def test_models_after_model_and_datasets_after_dataset() -> None:
    assert complete("PREDICT y FROM t USING MODEL p")[0] == "price_model"
    assert complete("DESCRIBE MODEL ch")[0] == "churn"
    assert complete("LOAD DATASET i")[0] == "iris"


def test_columns_functions_and_quoted_names() -> None:
    assert "person_id" in complete("SELECT pers")
    assert "power" in complete("SELECT pow")
    assert '"My Table"' in complete("SELECT * FROM My")
    assert quote_identifier("plain_name") == "plain_name"
    assert quote_identifier('a "b"') == '"a ""b"""'


def test_nothing_inside_a_string_or_for_an_empty_word_unless_asked() -> None:
    assert complete("SELECT 'peo") == []
    assert complete("SELECT * FROM ") == []
    assert complete("SELECT * FROM ", requested=True)[:3] == ["people", "payments", '"My Table"']


def test_dot_commands_and_their_arguments() -> None:
    assert complete(".mo") == [".mode", ".models"]
    assert complete(".mode c") == ["csv"]
    assert complete(".mode ", requested=True) == ["box", "csv", "json"]


def test_dot_read_completes_file_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "setup.sql").write_text("SELECT 1;")
    assert complete(".read se") == ["tup.sql"]


@pytest.fixture
def session() -> Iterator[Session]:
    with Session(":memory:") as opened:
        yield opened


def test_session_names_reads_tables_models_datasets_and_refreshes(session: Session) -> None:
    names = SessionNames(session)
    first = names()
    assert first.tables == [] and first.models == []
    assert "iris" in first.datasets
    assert "SELECT" in first.keywords and "sum" in first.functions
    session.execute("CREATE TABLE people AS SELECT 1 AS person_id")
    session.execute("SHOW MODELS")  # creates no table of its own that completion would offer
    assert names() is first  # cached
    names.invalidate()
    assert names().tables == ["people"]
    assert "person_id" in names().columns


def test_session_names_survive_a_closed_session(session: Session) -> None:
    names = SessionNames(session)
    names()
    session.close()
    names.invalidate()
    assert names().tables == []


def _token_kinds(text: str) -> dict[str, object]:
    return {value: kind for _, kind, value in PaqSqlLexer().get_tokens_unprocessed(text) if value.strip()}


def test_lexer_colours_paqdb_words_as_keywords() -> None:
    kinds = _token_kinds("PREDICT income FROM t GIVEN u USING MODEL m")
    assert kinds["PREDICT"] is Keyword and kinds["GIVEN"] is Keyword and kinds["MODEL"] is Keyword
    assert kinds["income"] in Name
    crowd = _token_kinds("CROWD LABEL x FROM t")
    assert crowd["CROWD"] is Keyword and crowd["LABEL"] is Keyword


def test_lexer_leaves_paqdb_words_used_as_names_alone() -> None:
    kinds = _token_kinds("SELECT label, model FROM t")
    assert kinds["label"] in Name and kinds["model"] in Name
    assert _token_kinds("SELECT log(x) FROM t")["log"] in Name
