"""paqdb: predictive analytic queries in SQL on DuckDB.

``paqdb.connect()`` opens a database through a PEP 249 connection; plain DuckDB SQL and the paqdb
statements (PREDICT, CREATE MODEL, SHOW MODELS, DESCRIBE MODEL, DROP MODEL, LOAD DATASET) go through
the same cursor.
"""

from paqdb.dbapi import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Connection,
    Cursor,
    Date,
    DateFromTicks,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
    apilevel,
    connect,
    paramstyle,
    threadsafety,
)
from paqdb.errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)
from paqdb.evaluation import evaluate, feature_importance
from paqdb.session import Session

__version__ = "0.1.0"

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Session",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "Warning",
    "apilevel",
    "connect",
    "evaluate",
    "feature_importance",
    "paramstyle",
    "threadsafety",
]
