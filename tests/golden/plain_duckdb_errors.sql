-- Statements that plain DuckDB rejects. Each entry starts with a line naming the DuckDB exception class
-- it raises ("-- error: <Class>"); entries are separated by a line holding only "-- ----".
-- Every statement fails on a fresh in-memory database and also after plain_duckdb.sql has run.
-- ----
-- error: ParserException
SELEC 1;
-- ----
-- error: ParserException
SELECT * FROM;
-- ----
-- error: ParserException
SELECT 1 +;
-- ----
-- error: ParserException
CREATE TABLE broken (id INTEGER,;
-- ----
-- error: ParserException
SELECT 'unterminated; string;
-- ----
-- error: ParserException
INSERT INTO VALUES (1);
-- ----
-- error: ParserException
SELECT 'a;b' FROM WHERE x = 1;
-- ----
-- error: ParserException
SELECT id FROM range(3) WHERE;
-- ----
-- error: ParserException
SELECT * FROM range(3) ORDER BY;
-- ----
-- error: ParserException
/* a comment that mentions PREDICT */ SELECT FROM FROM;
-- ----
-- error: CatalogException
SELECT * FROM no_such_table;
-- ----
-- error: CatalogException
SELECT predict income FROM no_such_adult;
-- ----
-- error: CatalogException
SELECT predict, given FROM model WHERE clean;
-- ----
-- error: CatalogException
SELECT no_such_function(1);
-- ----
-- error: CatalogException
DROP TABLE no_such_table;
-- ----
-- error: CatalogException
INSERT INTO no_such_table VALUES (1);
-- ----
-- error: CatalogException
SELECT nextval('no_such_sequence');
-- ----
-- error: CatalogException
SELECT * FROM no_such_schema.some_table;
-- ----
-- error: CatalogException
SET no_such_setting = 1;
-- ----
-- error: BinderException
SELECT no_such_column FROM range(3);
-- ----
-- error: BinderException
SELECT x FROM (VALUES (1, 2)) AS t(a, b);
-- ----
-- error: BinderException
SELECT range, count(*) FROM range(3);
-- ----
-- error: BinderException
SELECT a FROM (SELECT 1 AS a) AS t1, (SELECT 2 AS a) AS t2;
-- ----
-- error: BinderException
SELECT 1 AS a UNION SELECT 1, 2;
-- ----
-- error: BinderException
SELECT * FROM range(3) ORDER BY 5;
-- ----
-- error: BinderException
SELECT list_transform([1, 2, 3], x -> x + 1);
-- ----
-- error: BinderException
SELECT sum(x) FROM (VALUES ('a'), ('b')) AS t(x);
-- ----
-- error: ConversionException
SELECT 'abc'::INTEGER;
-- ----
-- error: ConversionException
SELECT '2024-13-45'::DATE;
-- ----
-- error: ConversionException
SELECT CAST(300 AS TINYINT);
-- ----
-- error: ConversionException
SELECT '{bad json'::JSON;
-- ----
-- error: OutOfRangeException
SELECT 9223372036854775807::BIGINT + 1;
-- ----
-- error: InvalidInputException
SELECT error('boom; PREDICT failed');
-- ----
-- error: NotImplementedException
DROP TABLE first_table, second_table;
-- ----
-- error: TransactionException
COMMIT;
-- ----
-- error: TransactionException
ROLLBACK;
