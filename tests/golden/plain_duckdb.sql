-- Plain DuckDB statements that paqdb must pass to DuckDB untouched.
-- One statement per entry; entries are separated by a line holding only "-- ----".
-- The file runs top to bottom on a fresh in-memory database (duckdb.connect()).
-- Lines before the first separator are this header and are not a statement.
-- ----
CREATE SCHEMA IF NOT EXISTS shop;
-- ----
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    city VARCHAR,
    signup DATE,
    tier VARCHAR DEFAULT 'bronze' CHECK (tier IN ('bronze', 'silver', 'gold'))
);
-- ----
INSERT INTO customers VALUES
    (1, 'Alice', 'Amsterdam', DATE '2023-01-15', 'gold'),
    (2, 'Bob', 'Berlin', DATE '2023-03-02', 'silver'),
    (3, 'Carol', 'Copenhagen', DATE '2023-06-20', 'bronze'),
    (4, 'Dave', NULL, DATE '2024-01-05', 'bronze'),
    (5, 'Eve', 'Amsterdam', DATE '2024-02-29', 'silver'),
    (6, 'Frank', 'Berlin', NULL, 'gold');
-- ----
CREATE TABLE products (
    sku VARCHAR PRIMARY KEY,
    title VARCHAR,
    category VARCHAR,
    price DECIMAL(8, 2),
    tags VARCHAR[]
);
-- ----
INSERT INTO products VALUES
    ('A-100', 'Espresso beans', 'coffee', 12.50, ['dark', 'whole bean']),
    ('A-200', 'Filter coffee', 'coffee', 8.99, ['medium']),
    ('B-100', 'Green tea', 'tea', 5.25, ['loose', 'organic']),
    ('B-200', 'Earl Grey', 'tea', 6.75, []),
    ('C-100', 'Ceramic mug', 'gear', 14.00, NULL),
    ('C-200', 'Pour-over kettle', 'gear', 49.90, ['steel']);
-- ----
CREATE TABLE orders (
    order_id INTEGER PRIMARY KEY,
    customer_id INTEGER,
    ordered_at TIMESTAMP,
    status VARCHAR,
    amount DECIMAL(10, 2)
);
-- ----
INSERT INTO orders VALUES
    (100, 1, TIMESTAMP '2024-01-03 09:15:00', 'shipped', 25.00),
    (101, 2, TIMESTAMP '2024-01-03 17:40:00', 'shipped', 8.99),
    (102, 1, TIMESTAMP '2024-01-10 08:05:00', 'returned', 49.90),
    (103, 3, TIMESTAMP '2024-02-01 12:00:00', 'pending', 11.50),
    (104, 5, TIMESTAMP '2024-02-14 19:30:00', 'shipped', 64.00),
    (105, 2, TIMESTAMP '2024-02-20 10:10:00', 'cancelled', 5.25),
    (106, 6, TIMESTAMP '2024-03-01 14:45:00', 'shipped', 120.40),
    (107, 1, TIMESTAMP '2024-03-15 11:00:00', 'pending', 6.75),
    (108, 9, TIMESTAMP '2024-03-16 16:20:00', 'shipped', 14.00);
-- ----
CREATE TABLE order_items (
    order_id INTEGER,
    sku VARCHAR,
    qty INTEGER CHECK (qty > 0),
    PRIMARY KEY (order_id, sku)
);
-- ----
INSERT INTO order_items VALUES
    (100, 'A-100', 2), (101, 'A-200', 1), (102, 'C-200', 1), (103, 'B-100', 1),
    (103, 'B-200', 1), (104, 'A-100', 3), (104, 'C-100', 2), (105, 'B-100', 1),
    (106, 'C-200', 2), (106, 'C-100', 1), (107, 'B-200', 1), (108, 'C-100', 1);
-- ----
-- A table and columns named like paqdb's keywords are ordinary DuckDB identifiers.
CREATE TABLE model (
    id INTEGER,
    predict DOUBLE,
    clean BOOLEAN,
    given VARCHAR,
    label VARCHAR
);
-- ----
INSERT INTO model VALUES (1, 0.25, true, 'x', 'cat'), (2, 0.75, false, 'y', 'dog'), (3, NULL, true, NULL, 'cat');
-- ----
SELECT predict FROM model ORDER BY id;
-- ----
SELECT id, predict, clean, given FROM model WHERE clean ORDER BY id;
-- ----
SELECT model.predict, model.given FROM model WHERE model.label = 'cat' ORDER BY model.id;
-- ----
SELECT "predict", "model"."clean", "given" AS "model" FROM "model" ORDER BY "id";
-- ----
SELECT m.predict * 2 AS doubled, coalesce(m.given, 'none') AS given FROM model AS m ORDER BY m.id;
-- ----
SELECT label, avg(predict) AS predict FROM model GROUP BY label ORDER BY label;
-- ----
CREATE TABLE predict (given INTEGER, model VARCHAR, causal DOUBLE, freq INTEGER, crowd VARCHAR);
-- ----
INSERT INTO predict VALUES (1, 'tree', 0.5, 3, 'a'), (2, 'linear', 0.1, 7, 'b');
-- ----
SELECT given, model FROM predict ORDER BY given;
-- ----
SELECT * FROM predict WHERE model = 'PREDICT' OR given > 1;
-- ----
FROM predict SELECT causal, freq, crowd ORDER BY freq;
-- ----
UPDATE model SET predict = 0.5 WHERE predict IS NULL;
-- ----
INSERT INTO model (id, predict, clean, given, label) VALUES (4, 0.9, false, 'PREDICT', 'MODEL');
-- ----
DELETE FROM model WHERE clean = false AND given = 'PREDICT';
-- ----
CREATE VIEW clean AS SELECT id, predict FROM model WHERE clean;
-- ----
SELECT * FROM clean ORDER BY id;
-- ----
CREATE MACRO predict_score(x) AS x * 100;
-- ----
SELECT predict_score(predict) AS score FROM model ORDER BY id;
-- ----
/* PREDICT income FROM adult -- a block comment before the statement */
SELECT 1 AS one;
-- ----
-- CREATE MODEL m PREDICT y FROM t
SELECT 2 AS two;
-- ----
SELECT 'PREDICT income FROM adult; CREATE MODEL m PREDICT y FROM t' AS not_a_statement;
-- ----
SELECT 'a;b;c' AS semis, 'it''s; fine' AS quoted, 'CLEAN t; CROWD LABEL x' AS words;
-- ----
SELECT string_split('x;y;z', ';') AS parts;
-- ----
SELECT name /* inline comment; with a semicolon */ , city -- trailing comment; too
FROM customers
WHERE id < 3 -- WHERE predict
ORDER BY id;
-- ----
WITH predict AS (SELECT 1 AS given) SELECT given FROM predict;
-- ----
SELECT 1 AS predict, 2 AS model, 3 AS clean, 4 AS given, 5 AS causal, 6 AS freq;
-- ----
CREATE TABLE "Mixed Case" ("Column One" INTEGER, "select" VARCHAR, "PREDICT" VARCHAR);
-- ----
INSERT INTO "Mixed Case" VALUES (1, 'kw', 'p'), (2, 'from', 'q');
-- ----
SELECT "Column One", "select", "PREDICT" FROM "Mixed Case" ORDER BY "Column One";
-- ----
CREATE TABLE shop.inventory (
    sku VARCHAR,
    warehouse VARCHAR,
    on_hand INTEGER DEFAULT 0,
    updated DATE,
    UNIQUE (sku, warehouse)
);
-- ----
INSERT INTO shop.inventory VALUES
    ('A-100', 'north', 40, DATE '2024-03-01'),
    ('A-100', 'south', 12, DATE '2024-03-02'),
    ('B-100', 'north', 0, DATE '2024-02-28'),
    ('C-200', 'south', 5, DATE '2024-03-03');
-- ----
INSERT INTO shop.inventory (sku, warehouse) VALUES ('B-200', 'north');
-- ----
SELECT * FROM shop.inventory ORDER BY sku, warehouse;
-- ----
INSERT INTO shop.inventory VALUES ('A-100', 'north', 45, DATE '2024-03-05')
ON CONFLICT (sku, warehouse) DO UPDATE SET on_hand = excluded.on_hand, updated = excluded.updated;
-- ----
INSERT INTO shop.inventory VALUES ('B-100', 'north', 99, DATE '2024-03-05')
ON CONFLICT DO NOTHING;
-- ----
INSERT INTO customers VALUES (7, 'Grace', 'Geneva', DATE '2024-03-10', 'bronze')
ON CONFLICT (id) DO UPDATE SET city = excluded.city;
-- ----
INSERT OR REPLACE INTO customers VALUES (7, 'Grace', 'Ghent', DATE '2024-03-10', 'silver');
-- ----
INSERT OR IGNORE INTO customers VALUES (7, 'Someone else', 'Nowhere', NULL, 'bronze');
-- ----
INSERT INTO customers BY NAME SELECT 8 AS id, 'Heidi' AS name, 'Helsinki' AS city;
-- ----
INSERT INTO customers (id, name) VALUES (9, 'Ivan') RETURNING id, name, tier;
-- ----
SELECT id, name, city, tier FROM customers ORDER BY id;
-- ----
CREATE SEQUENCE ticket_seq START WITH 1000 INCREMENT BY 10;
-- ----
CREATE TABLE tickets (
    ticket_id BIGINT DEFAULT nextval('ticket_seq'),
    customer_id INTEGER,
    subject VARCHAR,
    opened DATE,
    priority SMALLINT DEFAULT 3
);
-- ----
INSERT INTO tickets (customer_id, subject, opened) VALUES
    (1, 'Late delivery', DATE '2024-01-12'),
    (2, 'Wrong item; please fix', DATE '2024-02-22'),
    (1, 'Refund', DATE '2024-01-20');
-- ----
INSERT INTO tickets (customer_id, subject, opened, priority)
SELECT customer_id, 'Follow-up on ' || order_id, CAST(ordered_at AS DATE), 1
FROM orders
WHERE status = 'returned';
-- ----
SELECT ticket_id, customer_id, subject, priority FROM tickets ORDER BY ticket_id;
-- ----
SELECT currval('ticket_seq') AS last_ticket;
-- ----
UPDATE tickets SET priority = priority - 1 WHERE subject LIKE 'Late%' RETURNING ticket_id, priority;
-- ----
UPDATE tickets AS t
SET subject = t.subject || ' (' || c.name || ')'
FROM customers AS c
WHERE t.customer_id = c.id AND c.tier = 'gold';
-- ----
DELETE FROM tickets USING customers
WHERE tickets.customer_id = customers.id AND customers.name = 'Bob';
-- ----
DELETE FROM tickets WHERE opened < DATE '2024-01-15' RETURNING *;
-- ----
SELECT count(*) AS open_tickets FROM tickets;
-- ----
CREATE TABLE trades (sym VARCHAR, ts TIMESTAMP, price DOUBLE, volume INTEGER);
-- ----
INSERT INTO trades VALUES
    ('ACME', TIMESTAMP '2024-05-01 09:30:01', 10.10, 100),
    ('ACME', TIMESTAMP '2024-05-01 09:30:05', 10.20, 50),
    ('ACME', TIMESTAMP '2024-05-01 09:31:00', 10.05, 75),
    ('BOLT', TIMESTAMP '2024-05-01 09:30:02', 55.00, 10),
    ('BOLT', TIMESTAMP '2024-05-01 09:32:00', 55.40, 20);
-- ----
CREATE TABLE quotes (sym VARCHAR, ts TIMESTAMP, bid DOUBLE, ask DOUBLE);
-- ----
INSERT INTO quotes VALUES
    ('ACME', TIMESTAMP '2024-05-01 09:30:00', 10.00, 10.15),
    ('ACME', TIMESTAMP '2024-05-01 09:30:04', 10.15, 10.25),
    ('ACME', TIMESTAMP '2024-05-01 09:30:59', 10.00, 10.10),
    ('BOLT', TIMESTAMP '2024-05-01 09:30:03', 54.90, 55.10);
-- ----
CREATE TABLE monthly_sales (region VARCHAR, jan INTEGER, feb INTEGER, mar INTEGER);
-- ----
INSERT INTO monthly_sales VALUES ('north', 10, 12, 15), ('south', 7, NULL, 9), ('west', 20, 18, 22);
-- ----
CREATE TABLE employees (id INTEGER, name VARCHAR, manager_id INTEGER, dept VARCHAR, salary INTEGER);
-- ----
INSERT INTO employees VALUES
    (1, 'Ada', NULL, 'exec', 300),
    (2, 'Brian', 1, 'eng', 200),
    (3, 'Chen', 1, 'sales', 180),
    (4, 'Dana', 2, 'eng', 150),
    (5, 'Eli', 2, 'eng', 140),
    (6, 'Fay', 3, 'sales', 120),
    (7, 'Gus', 4, 'eng', 100);
-- ----
CREATE TABLE readings (sensor VARCHAR, ts TIMESTAMP, value DOUBLE);
-- ----
INSERT INTO readings
SELECT
    'sensor_' || (i % 3) AS sensor,
    TIMESTAMP '2024-01-01 00:00:00' + i * INTERVAL 15 MINUTE AS ts,
    round(sin(i / 5.0) * 10 + i % 7, 3) AS value
FROM range(48) AS t(i);
-- ----
SELECT sensor, count(*) AS n, round(avg(value), 3) AS mean FROM readings GROUP BY sensor ORDER BY sensor;
-- ----
-- joins
SELECT o.order_id, c.name, o.amount
FROM orders AS o
JOIN customers AS c ON o.customer_id = c.id
ORDER BY o.order_id;
-- ----
SELECT o.order_id, c.name
FROM orders AS o
LEFT JOIN customers AS c ON o.customer_id = c.id
WHERE c.id IS NULL;
-- ----
SELECT c.name, o.order_id
FROM orders AS o
RIGHT OUTER JOIN customers AS c ON o.customer_id = c.id
ORDER BY c.id, o.order_id NULLS FIRST;
-- ----
SELECT coalesce(c.id, o.customer_id) AS cid, c.name, o.order_id
FROM customers AS c
FULL OUTER JOIN orders AS o ON o.customer_id = c.id
ORDER BY cid, o.order_id;
-- ----
SELECT c.name, p.category
FROM customers AS c
CROSS JOIN (SELECT DISTINCT category FROM products) AS p
WHERE c.id <= 2
ORDER BY c.name, p.category;
-- ----
SELECT order_id, sku, title, qty * price AS line_total
FROM order_items
JOIN products USING (sku)
ORDER BY order_id, sku;
-- ----
SELECT * FROM order_items NATURAL JOIN products ORDER BY order_id, sku;
-- ----
SELECT c.* FROM customers AS c SEMI JOIN orders AS o ON o.customer_id = c.id ORDER BY c.id;
-- ----
SELECT c.id, c.name FROM customers AS c ANTI JOIN orders AS o ON o.customer_id = c.id ORDER BY c.id;
-- ----
SELECT t.sym, t.ts, t.price, q.bid, q.ask
FROM trades AS t
ASOF JOIN quotes AS q ON t.sym = q.sym AND t.ts >= q.ts
ORDER BY t.sym, t.ts;
-- ----
SELECT t.sym, t.ts, q.ts AS quote_ts
FROM trades AS t
ASOF LEFT JOIN quotes AS q ON t.sym = q.sym AND t.ts >= q.ts
ORDER BY ALL;
-- ----
SELECT t.sym, t.ts, q.bid
FROM trades t ASOF JOIN quotes q USING (sym, ts)
ORDER BY t.sym, t.ts;
-- ----
SELECT * FROM (SELECT name FROM customers ORDER BY id LIMIT 3) POSITIONAL JOIN (SELECT title FROM products ORDER BY sku LIMIT 4);
-- ----
SELECT c.name, last_order.order_id, last_order.amount
FROM customers AS c,
LATERAL (
    SELECT order_id, amount FROM orders AS o
    WHERE o.customer_id = c.id
    ORDER BY ordered_at DESC
    LIMIT 1
) AS last_order
ORDER BY c.name;
-- ----
SELECT c.name, x.n
FROM customers AS c
LEFT JOIN LATERAL (SELECT count(*) AS n FROM orders AS o WHERE o.customer_id = c.id) AS x ON true
ORDER BY c.id;
-- ----
SELECT r.i, s.sq FROM range(4) AS r(i), LATERAL (SELECT r.i * r.i AS sq) AS s ORDER BY r.i;
-- ----
SELECT e.name AS employee, m.name AS manager
FROM employees AS e
LEFT JOIN employees AS m ON e.manager_id = m.id
ORDER BY e.id;
-- ----
SELECT a.id AS low, b.id AS high
FROM employees AS a
JOIN employees AS b ON a.salary < b.salary AND b.salary - a.salary <= 30
ORDER BY low, high;
-- ----
SELECT o.order_id, i.sku, p.category
FROM orders o
INNER JOIN order_items i ON i.order_id = o.order_id
INNER JOIN products p ON p.sku = i.sku AND p.category <> 'gear'
WHERE o.status IN ('shipped', 'pending')
ORDER BY 1, 2;
-- ----
-- aggregates and grouping
SELECT status, count(*) AS n, sum(amount) AS total, avg(amount)::DECIMAL(10, 2) AS mean
FROM orders
GROUP BY status
ORDER BY status;
-- ----
SELECT customer_id, status, count(*) AS n FROM orders GROUP BY ALL ORDER BY ALL;
-- ----
SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id HAVING sum(amount) > 20 ORDER BY total DESC;
-- ----
SELECT
    count(*) AS all_orders,
    count(*) FILTER (WHERE status = 'shipped') AS shipped,
    sum(amount) FILTER (WHERE status <> 'cancelled') AS kept_revenue,
    count(DISTINCT customer_id) AS buyers
FROM orders;
-- ----
SELECT category, count(*) AS n, min(price) AS cheapest, max(price) AS priciest
FROM products
GROUP BY ROLLUP (category)
ORDER BY category NULLS LAST;
-- ----
SELECT p.category, o.status, sum(i.qty) AS units, GROUPING(p.category, o.status) AS grp
FROM order_items AS i
JOIN products AS p USING (sku)
JOIN orders AS o USING (order_id)
GROUP BY CUBE (p.category, o.status)
ORDER BY grp, p.category NULLS LAST, o.status NULLS LAST;
-- ----
SELECT dept, manager_id, sum(salary) AS payroll
FROM employees
GROUP BY GROUPING SETS ((dept), (manager_id), ())
ORDER BY dept NULLS LAST, manager_id NULLS LAST, payroll;
-- ----
SELECT string_agg(name, ', ' ORDER BY name) AS names, list(id ORDER BY id) AS ids FROM customers WHERE city = 'Amsterdam';
-- ----
SELECT arg_max(name, salary) AS top_earner, max_by(dept, salary) AS top_dept, arg_min(name, salary) AS lowest FROM employees;
-- ----
SELECT
    median(salary) AS med,
    quantile_cont(salary, 0.25) AS q1,
    quantile_disc(salary, [0.5, 0.9]) AS qs,
    mode(dept) AS common_dept,
    round(stddev_samp(salary), 4) AS sd
FROM employees;
-- ----
SELECT bool_and(price > 5) AS all_above, bool_or(price > 40) AS any_premium, histogram(category) AS hist FROM products;
-- ----
SELECT round(corr(i, i * 2 + 1), 6) AS r, regr_slope(i * 2 + 1, i) AS slope, regr_intercept(i * 2 + 1, i) AS icept FROM range(10) t(i);
-- ----
SELECT approx_count_distinct(sensor) AS sensors, count(DISTINCT sensor) AS exact FROM readings;
-- ----
SELECT sum(x) AS s, product(x) AS p, bit_or(x::INTEGER) AS b, fsum(x / 10) AS f FROM (VALUES (1), (2), (3), (4)) AS v(x);
-- ----
SELECT first(name ORDER BY id) AS first_name, last(name ORDER BY id) AS last_name, any_value(dept ORDER BY id) AS d FROM employees;
-- ----
SELECT list_sort(list(DISTINCT dept)) AS depts, count(*) FILTER (dept = 'eng') AS engineers FROM employees;
-- ----
-- window functions
SELECT
    name, dept, salary,
    row_number() OVER (PARTITION BY dept ORDER BY salary DESC) AS rn,
    rank() OVER (ORDER BY salary DESC) AS rk,
    dense_rank() OVER (ORDER BY dept) AS drk
FROM employees
ORDER BY id;
-- ----
SELECT name, dept, salary
FROM employees
QUALIFY row_number() OVER (PARTITION BY dept ORDER BY salary DESC) = 1
ORDER BY dept;
-- ----
SELECT order_id, customer_id, amount,
    sum(amount) OVER (PARTITION BY customer_id ORDER BY ordered_at ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running,
    lag(amount) OVER (PARTITION BY customer_id ORDER BY ordered_at) AS prev,
    lead(amount, 1, 0) OVER (PARTITION BY customer_id ORDER BY ordered_at) AS next_or_zero
FROM orders
ORDER BY customer_id, ordered_at;
-- ----
SELECT sensor, ts, value,
    avg(value) OVER (PARTITION BY sensor ORDER BY ts RANGE BETWEEN INTERVAL 1 HOUR PRECEDING AND CURRENT ROW) AS hourly_avg
FROM readings
WHERE sensor = 'sensor_1'
ORDER BY ts
LIMIT 8;
-- ----
SELECT i,
    sum(i) OVER w AS s,
    min(i) OVER w AS lo,
    count(*) OVER w AS n
FROM range(10) t(i)
WINDOW w AS (ORDER BY i ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING)
ORDER BY i;
-- ----
SELECT i, i // 3 AS g,
    sum(i) OVER (ORDER BY i // 3 GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) AS grp_sum,
    sum(i) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW) AS neighbours
FROM range(9) t(i)
ORDER BY i;
-- ----
SELECT name, salary,
    first_value(name) OVER (ORDER BY salary DESC) AS best,
    last_value(name) OVER (ORDER BY salary DESC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS worst,
    nth_value(name, 2) OVER (ORDER BY salary DESC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS second
FROM employees
ORDER BY salary DESC;
-- ----
SELECT name, salary,
    ntile(3) OVER (ORDER BY salary) AS tercile,
    round(percent_rank() OVER (ORDER BY salary), 4) AS pr,
    round(cume_dist() OVER (ORDER BY salary), 4) AS cd
FROM employees
ORDER BY salary;
-- ----
SELECT dept, name, salary, salary - avg(salary) OVER (PARTITION BY dept) AS diff_from_dept_avg
FROM employees
ORDER BY dept, salary DESC;
-- ----
SELECT customer_id, order_id, amount
FROM orders
QUALIFY sum(amount) OVER (PARTITION BY customer_id) > 50
ORDER BY customer_id, order_id;
-- ----
SELECT sensor, ts, value, value - lag(value) OVER (PARTITION BY sensor ORDER BY ts) AS delta
FROM readings
QUALIFY delta > 3
ORDER BY sensor, ts;
-- ----
SELECT dept, list(name) OVER (PARTITION BY dept ORDER BY id) AS so_far FROM employees ORDER BY id;
-- ----
-- CTEs
WITH totals AS (
    SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id
), ranked AS (
    SELECT *, rank() OVER (ORDER BY total DESC) AS r FROM totals
)
SELECT c.name, ranked.total, ranked.r
FROM ranked JOIN customers AS c ON c.id = ranked.customer_id
ORDER BY ranked.r, c.name;
-- ----
WITH RECURSIVE chain(id, name, depth, path) AS (
    SELECT id, name, 0, [name] FROM employees WHERE manager_id IS NULL
    UNION ALL
    SELECT e.id, e.name, chain.depth + 1, list_append(chain.path, e.name)
    FROM employees AS e JOIN chain ON e.manager_id = chain.id
)
SELECT * FROM chain ORDER BY depth, id;
-- ----
WITH RECURSIVE fib(n, a, b) AS (
    SELECT 1, 0::BIGINT, 1::BIGINT
    UNION ALL
    SELECT n + 1, b, a + b FROM fib WHERE n < 20
)
SELECT n, a AS fib FROM fib ORDER BY n;
-- ----
WITH RECURSIVE countdown(n) AS (SELECT 5 UNION SELECT n - 1 FROM countdown WHERE n > 0) SELECT list(n ORDER BY n DESC) FROM countdown;
-- ----
WITH RECURSIVE doubling(k, v) USING KEY (k) AS (
    SELECT 1, 1
    UNION
    SELECT k + 1, v * 2 FROM doubling WHERE k < 6
)
SELECT * FROM doubling ORDER BY k;
-- ----
WITH cheap AS MATERIALIZED (SELECT * FROM products WHERE price < 10)
SELECT count(*) AS n, sum(price) AS total FROM cheap;
-- ----
WITH a AS (SELECT 1 AS x), b AS (SELECT x + 1 AS y FROM a) SELECT * FROM a, b;
-- ----
-- set operations
SELECT city FROM customers WHERE city IS NOT NULL
UNION
SELECT 'Dublin'
ORDER BY city;
-- ----
SELECT customer_id FROM orders UNION ALL SELECT id FROM customers ORDER BY 1;
-- ----
SELECT id FROM customers INTERSECT SELECT customer_id FROM orders ORDER BY 1;
-- ----
SELECT id FROM customers EXCEPT SELECT customer_id FROM orders ORDER BY 1;
-- ----
SELECT customer_id FROM orders INTERSECT ALL SELECT customer_id FROM orders WHERE status = 'shipped' ORDER BY 1;
-- ----
SELECT customer_id FROM orders EXCEPT ALL SELECT customer_id FROM orders WHERE status = 'shipped' ORDER BY 1;
-- ----
SELECT 1 AS a, 'x' AS b UNION ALL BY NAME SELECT 'y' AS b, 2 AS a, true AS c ORDER BY a;
-- ----
(SELECT 1 AS n) UNION (SELECT 2) ORDER BY n;
-- ----
-- PIVOT and UNPIVOT
PIVOT orders ON status USING sum(amount) GROUP BY customer_id ORDER BY customer_id;
-- ----
PIVOT (SELECT p.category, o.status, i.qty FROM order_items i JOIN products p USING (sku) JOIN orders o USING (order_id))
ON status IN ('shipped', 'pending')
USING sum(qty)
GROUP BY category
ORDER BY category;
-- ----
SELECT * FROM (SELECT dept, salary FROM employees) PIVOT (sum(salary) FOR dept IN ('eng', 'sales', 'exec'));
-- ----
UNPIVOT monthly_sales ON jan, feb, mar INTO NAME month VALUE sales ORDER BY region, month;
-- ----
UNPIVOT monthly_sales ON COLUMNS(* EXCLUDE (region)) INTO NAME month VALUE sales ORDER BY region, month;
-- ----
FROM monthly_sales UNPIVOT INCLUDE NULLS (sales FOR month IN (jan, feb, mar)) ORDER BY ALL;
-- ----
SELECT region, month, sales FROM monthly_sales UNPIVOT (sales FOR month IN (jan, feb, mar)) ORDER BY ALL;
-- ----
-- star expressions and COLUMNS
SELECT * EXCLUDE (signup, tier) FROM customers ORDER BY id;
-- ----
SELECT * REPLACE (upper(name) AS name, coalesce(city, '?') AS city) FROM customers ORDER BY id LIMIT 4;
-- ----
SELECT * RENAME (name AS customer_name) FROM customers WHERE id = 1;
-- ----
SELECT * LIKE 'c%' FROM customers ORDER BY id;
-- ----
SELECT COLUMNS('^(jan|feb|mar)$') FROM monthly_sales ORDER BY jan;
-- ----
SELECT min(COLUMNS(* EXCLUDE (region))), max(COLUMNS(* EXCLUDE (region))) FROM monthly_sales;
-- ----
SELECT region, COLUMNS(lambda c: c LIKE '%a%' AND c <> 'region') FROM monthly_sales ORDER BY region;
-- ----
SELECT coalesce(COLUMNS(['jan', 'feb', 'mar']), 0) FROM monthly_sales ORDER BY region;
-- ----
SELECT DISTINCT ON (dept) dept, name, salary FROM employees ORDER BY dept, salary DESC;
-- ----
-- FROM-first, VALUES, TABLE, ranges
FROM customers SELECT name WHERE tier = 'gold' ORDER BY name;
-- ----
FROM products ORDER BY sku LIMIT 2;
-- ----
VALUES (1, 'one'), (2, 'two'), (3, 'three');
-- ----
SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(num, letter) ORDER BY num DESC;
-- ----
TABLE monthly_sales;
-- ----
SELECT * FROM range(5);
-- ----
SELECT * FROM range(10, 0, -3) AS t(i);
-- ----
SELECT * FROM generate_series(1, 10, 4);
-- ----
SELECT * FROM generate_series(DATE '2024-01-01', DATE '2024-03-01', INTERVAL 1 MONTH) AS t(d);
-- ----
SELECT * FROM range(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02', INTERVAL 6 HOUR) AS t(ts);
-- ----
SELECT range(5) AS r, generate_series(2, 4) AS g, range(0, 10, 5) AS step;
-- ----
-- lists, structs, maps, arrays, unions
SELECT [1, 2, 3] AS l, ['a', NULL, 'c'] AS s, [[1, 2], [3]] AS nested, []::INTEGER[] AS empty;
-- ----
SELECT [10, 20, 30][2] AS second, [10, 20, 30][-1] AS last, [10, 20, 30][1:2] AS head, [10, 20, 30][2:] AS tail;
-- ----
SELECT list_value(1, 2, 3) AS lv, len([1, 2, 3]) AS n, array_length([1, 2]) AS al, list_contains([1, 2, 3], 2) AS has2;
-- ----
SELECT list_sort([3, 1, 2]) AS asc, list_reverse_sort([3, 1, 2]) AS desc_, list_distinct([1, 1, 2]) AS uniq, flatten([[1], [2, 3]]) AS flat;
-- ----
SELECT list_transform([1, 2, 3], lambda x: x + 1) AS plus_one, list_filter([1, 2, 3, 4], lambda x: x % 2 = 0) AS evens;
-- ----
SELECT list_reduce([1, 2, 3, 4], lambda acc, x: acc * x) AS prod, list_transform(['a', 'b'], lambda x, i: x || i) AS indexed;
-- ----
SELECT [x * 10 FOR x IN [1, 2, 3] IF x <> 2] AS comprehension;
-- ----
SET lambda_syntax = 'ENABLE_SINGLE_ARROW';
-- ----
SELECT list_transform([1, 2, 3], x -> x + 1) AS arrow_lambda, list_filter(['ab', 'c'], s -> length(s) > 1) AS long_ones;
-- ----
SELECT COLUMNS(c -> c IN ('id', 'name')) FROM customers WHERE id = 2;
-- ----
RESET lambda_syntax;
-- ----
SELECT title, list_transform(tags, lambda t: upper(t)) AS upper_tags, len(tags) AS n_tags FROM products ORDER BY sku;
-- ----
SELECT sku, unnest(tags) AS tag FROM products ORDER BY sku, tag;
-- ----
SELECT unnest([[1, 2], [3]], recursive := true) AS v;
-- ----
SELECT * FROM unnest(['x', 'y', 'z']) WITH ORDINALITY AS t(letter, pos);
-- ----
SELECT list_aggregate([2, 4, 6], 'sum') AS s, list_sum([1, 2]) AS ls, list_avg([1, 2, 3]) AS la, list_max([5, 9, 1]) AS lm;
-- ----
SELECT list_has_any([1, 2], [2, 3]) AS any_, list_has_all([1, 2, 3], [1, 3]) AS all_, list_position([7, 8, 9], 8) AS pos, list_slice([1, 2, 3, 4], 2, 3) AS sl;
-- ----
SELECT array_to_string(['a', 'b', 'c'], '-') AS joined, list_zip([1, 2], ['a', 'b']) AS zipped, list_concat([1], [2, 3]) AS cat;
-- ----
SELECT {'name': 'Ann', 'age': 41} AS s, {'name': 'Ann', 'age': 41}.age AS age, {'k': [1, 2]}['k'][2] AS deep;
-- ----
SELECT struct_pack(a := 1, b := 'two') AS s, struct_extract({'x': 5}, 'x') AS x, row(1, 'a') AS r;
-- ----
SELECT s.* FROM (SELECT {'a': 1, 'b': 2, 'c': 3} AS s);
-- ----
SELECT MAP {'a': 1, 'b': 2} AS m, MAP {'a': 1, 'b': 2}['b'] AS b, map_keys(MAP {'a': 1, 'b': 2}) AS ks, map_values(MAP {'a': 1}) AS vs;
-- ----
SELECT map_from_entries([('k1', 10), ('k2', 20)]) AS m, element_at(MAP {'x': 1}, 'x') AS ex, cardinality(MAP {'x': 1, 'y': 2}) AS card;
-- ----
SELECT map_entries(MAP([1, 2], ['one', 'two'])) AS entries, map_contains(MAP {'x': 1}, 'x') AS has_x;
-- ----
CREATE TABLE embeddings (id INTEGER, vec FLOAT[3]);
-- ----
INSERT INTO embeddings VALUES (1, [1.0, 0.0, 0.0]), (2, [0.0, 1.0, 0.0]), (3, [0.6, 0.8, 0.0]);
-- ----
SELECT a.id, b.id, round(array_cosine_similarity(a.vec, b.vec), 4) AS cos, round(array_distance(a.vec, b.vec), 4) AS dist
FROM embeddings a JOIN embeddings b ON a.id < b.id
ORDER BY a.id, b.id;
-- ----
SELECT array_value(1, 2, 3) AS arr, array_inner_product([1.0, 2.0]::DOUBLE[2], [3.0, 4.0]::DOUBLE[2]) AS dot;
-- ----
CREATE TABLE shapes (id INTEGER, v UNION(num INTEGER, txt VARCHAR));
-- ----
INSERT INTO shapes VALUES (1, 42), (2, 'forty-two'), (3, union_value(num := 7));
-- ----
SELECT id, v, union_tag(v) AS tag, v.num AS num FROM shapes ORDER BY id;
-- ----
-- strings and regular expressions
SELECT upper(name) AS u, lower(name) AS l, length(name) AS n, reverse(name) AS r, repeat('ab', 3) AS rep FROM customers WHERE id <= 3 ORDER BY id;
-- ----
SELECT concat('a', NULL, 'b') AS c1, 'a' || 'b' AS c2, concat_ws('-', 'x', 'y', NULL, 'z') AS c3, 'x' || NULL AS c4;
-- ----
SELECT substring('DuckDB', 2, 3) AS sub, substr('DuckDB', 5) AS tail, left('DuckDB', 4) AS l4, right('DuckDB', 2) AS r2;
-- ----
SELECT lpad('7', 3, '0') AS lp, rpad('ab', 5, '.') AS rp, trim('  x  ') AS t, ltrim('xxyxx', 'x') AS lt, rtrim('abc  ') AS rt;
-- ----
SELECT replace('a-b-c', '-', '+') AS rep, split_part('2024-05-01', '-', 2) AS mon, string_split('a,b,,c', ',') AS parts, str_split_regex('a1b22c', '[0-9]+') AS rx;
-- ----
SELECT strpos('banana', 'an') AS sp, position('na' IN 'banana') AS pos, contains('banana', 'nan') AS c, starts_with('banana', 'ba') AS sw, ends_with('banana', 'na') AS ew;
-- ----
SELECT name FROM customers WHERE name LIKE '_a%' OR name ILIKE 'e%' ORDER BY name;
-- ----
SELECT 'abc' SIMILAR TO 'a.c' AS sim, 'file.csv' GLOB '*.csv' AS gl, 'A_B' LIKE 'A\_B' ESCAPE '\' AS esc, 'abc' NOT LIKE 'b%' AS nl;
-- ----
SELECT regexp_matches('order-1234', '\d+') AS m, regexp_replace('a1b2c3', '[0-9]', '#', 'g') AS r, regexp_replace('a1b2', '[0-9]', '#') AS r1;
-- ----
SELECT regexp_extract('key=value; other=thing', '(\w+)=(\w+)', 2) AS v, regexp_extract_all('x1 y22 z333', '[0-9]+') AS all_nums;
-- ----
SELECT regexp_extract('2024-05-01', '(\d+)-(\d+)-(\d+)', ['y', 'm', 'd']) AS parts, regexp_full_match('abc', '[a-c]+') AS full;
-- ----
SELECT name FROM customers WHERE regexp_matches(name, '^[A-C]') ORDER BY name;
-- ----
SELECT format('{} has {} orders', 'Alice', 3) AS f, printf('%05.1f|%-4s|%d', 3.14159, 'ab', 42) AS p;
-- ----
SELECT md5('paqdb') AS h, sha256('paqdb') AS s, levenshtein('kitten', 'sitting') AS lev, round(jaro_winkler_similarity('martha', 'marhta'), 4) AS jw;
-- ----
SELECT ascii('A') AS a, chr(66) AS b, unicode('é') AS u, strlen('é') AS bytes, length('é') AS chars, translate('hello', 'el', 'ip') AS tr;
-- ----
SELECT 'Ünïcödé' AS s, upper('straße') AS up, lower('ÀÉÎ') AS low, 'emoji 🦆' AS duck;
-- ----
SELECT string_agg(DISTINCT city, '|' ORDER BY city) AS cities FROM customers;
-- ----
SELECT E'tab\there' AS esc, 'single ''quoted''' AS q, $$dollar 'quoted'; string$$ AS d;
-- ----
SELECT url_encode('a b&c') AS enc, url_decode('a%20b') AS dec, to_base64('duck'::BLOB) AS b64, from_base64('ZHVjaw==') AS raw;
-- ----
-- dates, times, intervals
SELECT DATE '2024-02-29' AS d, TIME '13:45:00' AS t, TIMESTAMP '2024-02-29 13:45:00' AS ts, INTERVAL 90 MINUTE AS i;
-- ----
SELECT date_trunc('month', ordered_at) AS month, count(*) AS n FROM orders GROUP BY ALL ORDER BY month;
-- ----
SELECT order_id, date_part('dow', ordered_at) AS dow, extract(hour FROM ordered_at) AS hr, dayname(ordered_at) AS dn, monthname(ordered_at) AS mn
FROM orders ORDER BY order_id LIMIT 4;
-- ----
SELECT strftime(TIMESTAMP '2024-05-01 08:09:10', '%Y/%m/%d %H:%M') AS s, strptime('01-05-2024', '%d-%m-%Y') AS p, try_strptime('nope', '%Y') AS bad;
-- ----
SELECT date_diff('day', DATE '2024-01-01', DATE '2024-03-01') AS days, datediff('month', DATE '2023-11-15', DATE '2024-02-01') AS months, date_sub('hour', TIMESTAMP '2024-01-01 00:00', TIMESTAMP '2024-01-02 06:00') AS hours;
-- ----
SELECT DATE '2024-01-31' + INTERVAL 1 MONTH AS plus_month, DATE '2024-03-01' - INTERVAL 1 DAY AS minus_day, DATE '2024-03-01' - DATE '2024-01-01' AS day_count, DATE '2024-01-01' + 10 AS plus_int;
-- ----
SELECT make_date(2024, 2, 29) AS md, make_timestamp(2024, 1, 2, 3, 4, 5.5) AS mt, make_time(12, 30, 0) AS mtime, last_day(DATE '2023-02-10') AS ld;
-- ----
SELECT age(TIMESTAMP '2024-03-05', TIMESTAMP '2020-01-01') AS a, epoch(TIMESTAMP '2024-01-01') AS e, epoch_ms(0) AS zero_ms;
-- ----
SELECT isodow(DATE '2024-03-10') AS isodow, week(DATE '2024-03-10') AS wk, yearweek(DATE '2024-03-10') AS yw, quarter(DATE '2024-08-01') AS q, dayofyear(DATE '2024-12-31') AS doy;
-- ----
SELECT time_bucket(INTERVAL 1 HOUR, ts) AS bucket, sensor, round(avg(value), 2) AS avg_value
FROM readings
GROUP BY ALL
ORDER BY bucket, sensor
LIMIT 6;
-- ----
SELECT INTERVAL '1 year 2 months 3 days' AS i, to_days(5) AS d, to_hours(36) AS h, INTERVAL 3 DAY * 2 AS dbl, datepart('minute', INTERVAL 90 MINUTE) AS mins;
-- ----
SELECT signup, signup + INTERVAL (id) DAY AS shifted, year(signup) AS y, month(signup) AS m FROM customers WHERE signup IS NOT NULL ORDER BY id;
-- ----
SELECT greatest(DATE '2024-01-01', DATE '2023-12-31') AS g, least(TIMESTAMP '2024-01-01 10:00', TIMESTAMP '2024-01-01 09:00') AS l;
-- ----
SELECT TIMESTAMP '2024-01-01 10:00:00' BETWEEN TIMESTAMP '2024-01-01' AND TIMESTAMP '2024-01-02' AS inside, DATE '2024-02-29' > DATE '2024-02-28' AS later;
-- ----
SET TimeZone = 'UTC';
-- ----
-- TIMESTAMPTZ values are cast to text: fetching them into Python needs pytz
SELECT TIMESTAMPTZ '2024-05-01 12:00:00+02'::VARCHAR AS tz, to_timestamp(1700000000)::VARCHAR AS from_epoch, TIMESTAMPTZ '2024-05-01 12:00:00+02' AT TIME ZONE 'America/New_York' AS ny;
-- ----
SELECT date_trunc('day', TIMESTAMPTZ '2024-05-01 23:30:00+00')::VARCHAR AS day_start, strftime(TIMESTAMPTZ '2024-05-01 12:00:00+00', '%Y-%m-%d %H:%M %Z') AS fmt;
-- ----
RESET TimeZone;
-- ----
-- casts and conversions
SELECT '42'::INTEGER AS i, CAST('3.5' AS DOUBLE) AS d, 3.7::INTEGER AS rounded, -3.5::INTEGER AS neg, 7 / 2 AS div, 7 // 2 AS idiv, 7 % 3 AS modulo;
-- ----
SELECT TRY_CAST('abc' AS INTEGER) AS bad, TRY_CAST('12' AS TINYINT) AS ok, '2024-02-29'::DATE AS d, 'true'::BOOLEAN AS b, 1::BOOLEAN AS one;
-- ----
SELECT 123.456::DECIMAL(6, 2) AS dec, 170141183460469231731687303715884105727::HUGEINT AS huge, 255::UTINYINT AS ut, '1e3'::DOUBLE AS sci;
-- ----
SELECT [1, 2]::VARCHAR[] AS strs, '[1, 2, 3]'::INTEGER[] AS parsed, {'a': '1'}::STRUCT(a INTEGER) AS s, 42::VARCHAR || '!' AS txt;
-- ----
SELECT typeof(1) AS t1, typeof(1.5) AS t2, typeof('x') AS t3, typeof([1]) AS t4, typeof({'a': 1}) AS t5, typeof(DATE '2024-01-01') AS t6;
-- ----
SELECT '550e8400-e29b-41d4-a716-446655440000'::UUID AS u, '\xAA\xBB'::BLOB AS b, octet_length('\xAA\xBB'::BLOB) AS len, '101'::BIT AS bits;
-- ----
SELECT 0.1 + 0.2 = 0.3 AS decimal_exact, 0.1::DOUBLE + 0.2::DOUBLE = 0.3::DOUBLE AS float_exact, 1 / 0 AS div_zero, 2 ** 10 AS pow, sqrt(16) AS root;
-- ----
SELECT round(2.567, 2) AS r, floor(-1.5) AS f, ceil(1.2) AS c, abs(-4) AS a, sign(-2) AS s, round(1234.5678, -2) AS r2, trunc(9.99) AS t;
-- ----
SELECT 5 & 3 AS band, 5 | 3 AS bor, xor(5, 3) AS bxor, 1 << 4 AS shl, bit_count(255) AS bc, ~0 AS bnot, factorial(5) AS fact;
-- ----
SELECT pi() AS pi, round(ln(exp(1.0)), 6) AS ln_e, log10(1000) AS lg, log2(8) AS l2, gcd(12, 18) AS g, lcm(4, 6) AS l, isnan('NaN'::DOUBLE) AS nan, isinf('inf'::DOUBLE) AS inf;
-- ----
-- predicates, CASE and NULL handling
SELECT name,
    CASE tier WHEN 'gold' THEN 3 WHEN 'silver' THEN 2 ELSE 1 END AS rank_num,
    CASE WHEN city IS NULL THEN 'unknown' WHEN city LIKE 'A%' THEN 'A-city' ELSE city END AS city_label
FROM customers
ORDER BY id;
-- ----
SELECT coalesce(NULL, NULL, 'x') AS c, nullif(5, 5) AS n, ifnull(NULL, 0) AS i, NULL IS DISTINCT FROM NULL AS d, 1 IS NOT DISTINCT FROM 1 AS nd;
-- ----
SELECT * FROM orders WHERE amount BETWEEN 10 AND 50 AND status NOT IN ('cancelled', 'returned') ORDER BY order_id;
-- ----
SELECT name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.amount > 20) ORDER BY name;
-- ----
SELECT name FROM customers WHERE id NOT IN (SELECT customer_id FROM orders WHERE customer_id IS NOT NULL) ORDER BY name;
-- ----
SELECT order_id, amount, (SELECT avg(amount) FROM orders)::DECIMAL(10, 2) AS overall_avg FROM orders WHERE amount > (SELECT avg(amount) FROM orders) ORDER BY order_id;
-- ----
SELECT o.order_id FROM orders o WHERE o.amount > ALL (SELECT amount FROM orders WHERE status = 'pending') ORDER BY 1;
-- ----
SELECT o.order_id FROM orders o WHERE o.amount = ANY (SELECT price FROM products) ORDER BY 1;
-- ----
SELECT c.name, (SELECT max(o.amount) FROM orders o WHERE o.customer_id = c.id) AS biggest FROM customers c ORDER BY c.id;
-- ----
SELECT greatest(1, 5, 3) AS g, least('b', 'a', 'c') AS l, NULL = NULL AS eq_null, NULL AND false AS and_null, NULL OR true AS or_null;
-- ----
SELECT name, city FROM customers ORDER BY city NULLS FIRST, name;
-- ----
SELECT name FROM customers ORDER BY name DESC LIMIT 3 OFFSET 1;
-- ----
SELECT id FROM customers ORDER BY id LIMIT 50%;
-- ----
SELECT 1 AS x, x + 1 AS y, y * 2 AS z;
-- ----
SELECT
    name,
    city,
FROM customers
ORDER BY id
LIMIT 2;
-- ----
SELECT 42
-- ----
SELECT count(*) FROM (SELECT * FROM orders USING SAMPLE 3 ROWS);
-- ----
SELECT setseed(0.42);
-- ----
SELECT random() < 1.0 AS in_range, gen_random_uuid() IS NOT NULL AS has_uuid;
-- ----
-- JSON
CREATE TABLE events (id INTEGER, payload JSON);
-- ----
INSERT INTO events VALUES
    (1, '{"user": "alice", "action": "click", "meta": {"x": 10, "tags": ["a", "b"]}}'),
    (2, '{"user": "bob", "action": "view", "meta": {"x": 3}}'),
    (3, '{"user": "alice", "action": "view"}');
-- ----
SELECT id, payload->>'user' AS usr, payload->'meta'->>'x' AS x, json_extract(payload, '$.meta.tags[0]') AS first_tag FROM events ORDER BY id;
-- ----
SELECT payload->>'$.user' AS usr, count(*) AS n FROM events GROUP BY ALL ORDER BY usr;
-- ----
SELECT json_object('a', 1, 'b', [1, 2]) AS obj, to_json({'k': 'v'}) AS tj, json_array_length('[1, 2, 3]') AS len, json_valid('{bad') AS valid;
-- ----
SELECT json_structure(payload) AS shape FROM events WHERE id = 1;
-- ----
SELECT json_keys(payload) AS keys, json_type(payload, '$.meta') AS meta_type FROM events ORDER BY id;
-- ----
SELECT json_transform('{"a": 1, "b": "x"}', '{"a": "INTEGER", "b": "VARCHAR"}') AS typed, '{"n": 5}'::JSON->'n' AS n;
-- ----
-- DDL: views, macros, types, indexes, ALTER, CTAS
CREATE VIEW order_summary AS
SELECT c.name, count(o.order_id) AS orders, coalesce(sum(o.amount), 0) AS spent
FROM customers AS c
LEFT JOIN orders AS o ON o.customer_id = c.id
GROUP BY c.name;
-- ----
SELECT * FROM order_summary ORDER BY spent DESC, name;
-- ----
CREATE OR REPLACE VIEW order_summary AS
SELECT c.name, count(o.order_id) AS orders FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY ALL;
-- ----
SELECT * FROM order_summary ORDER BY name;
-- ----
CREATE TEMP VIEW big_orders AS SELECT * FROM orders WHERE amount > 40;
-- ----
SELECT order_id FROM big_orders ORDER BY order_id;
-- ----
CREATE VIEW shop.stock_view (item, place, qty) AS SELECT sku, warehouse, on_hand FROM shop.inventory;
-- ----
SELECT * FROM shop.stock_view WHERE qty > 0 ORDER BY item, place;
-- ----
CREATE MACRO add_tax(amount, rate := 0.21) AS round(amount * (1 + rate), 2);
-- ----
SELECT order_id, add_tax(amount) AS with_vat, add_tax(amount, rate := 0.09) AS reduced FROM orders ORDER BY order_id LIMIT 3;
-- ----
CREATE MACRO orders_of(cid) AS TABLE SELECT order_id, amount FROM orders WHERE customer_id = cid;
-- ----
SELECT * FROM orders_of(1) ORDER BY order_id;
-- ----
CREATE OR REPLACE MACRO safe_div(a, b) AS CASE WHEN b = 0 THEN NULL ELSE a / b END;
-- ----
SELECT safe_div(10, 4) AS ok, safe_div(1, 0) AS none;
-- ----
CREATE FUNCTION clamp(x, lo, hi) AS least(greatest(x, lo), hi);
-- ----
SELECT clamp(15, 0, 10) AS hi, clamp(-3, 0, 10) AS lo;
-- ----
CREATE TEMPORARY MACRO twice(x) AS x * 2;
-- ----
SELECT twice(21) AS answer;
-- ----
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
-- ----
CREATE TABLE diary (day DATE, feeling mood);
-- ----
INSERT INTO diary VALUES (DATE '2024-01-01', 'happy'), (DATE '2024-01-02', 'sad'), (DATE '2024-01-03', 'ok');
-- ----
SELECT * FROM diary WHERE feeling > 'sad' ORDER BY feeling;
-- ----
SELECT enum_range(NULL::mood) AS all_moods, enum_first(NULL::mood) AS first_mood, feeling::VARCHAR AS txt FROM diary ORDER BY day;
-- ----
CREATE TYPE point2d AS STRUCT(x DOUBLE, y DOUBLE);
-- ----
SELECT {'x': 1.5, 'y': 2.5}::point2d AS p;
-- ----
CREATE INDEX idx_orders_customer ON orders (customer_id);
-- ----
CREATE UNIQUE INDEX idx_products_title ON products (title);
-- ----
SELECT index_name, table_name, is_unique FROM duckdb_indexes() ORDER BY index_name;
-- ----
CREATE TABLE customer_stats AS
SELECT customer_id, count(*) AS n_orders, sum(amount) AS spent, max(ordered_at) AS last_order
FROM orders
GROUP BY customer_id;
-- ----
SELECT * FROM customer_stats ORDER BY customer_id;
-- ----
CREATE OR REPLACE TABLE squares AS SELECT i, i * i AS sq FROM range(1, 6) t(i);
-- ----
CREATE TABLE IF NOT EXISTS squares (i INTEGER);
-- ----
CREATE TABLE squares_copy AS FROM squares WHERE sq > 4;
-- ----
CREATE TEMP TABLE scratch (k VARCHAR, v INTEGER);
-- ----
INSERT INTO scratch SELECT 'k' || i, i FROM range(3) t(i);
-- ----
SELECT * FROM scratch ORDER BY k;
-- ----
ALTER TABLE squares ADD COLUMN cube BIGINT;
-- ----
UPDATE squares SET cube = i * i * i;
-- ----
ALTER TABLE squares ADD COLUMN IF NOT EXISTS note VARCHAR DEFAULT 'n/a';
-- ----
ALTER TABLE squares RENAME COLUMN sq TO square;
-- ----
ALTER TABLE squares ALTER COLUMN square TYPE BIGINT;
-- ----
ALTER TABLE squares ALTER COLUMN note SET DEFAULT 'none';
-- ----
ALTER TABLE squares ALTER COLUMN note DROP DEFAULT;
-- ----
ALTER TABLE squares ALTER COLUMN i SET NOT NULL;
-- ----
ALTER TABLE squares DROP COLUMN note;
-- ----
ALTER TABLE squares RENAME TO powers;
-- ----
SELECT * FROM powers ORDER BY i;
-- ----
ALTER VIEW big_orders RENAME TO large_orders;
-- ----
SELECT count(*) FROM large_orders;
-- ----
CREATE TABLE generated_demo (
    price DOUBLE,
    qty INTEGER,
    total DOUBLE GENERATED ALWAYS AS (price * qty) VIRTUAL
);
-- ----
INSERT INTO generated_demo (price, qty) VALUES (2.5, 4), (10, 3);
-- ----
SELECT * FROM generated_demo ORDER BY price;
-- ----
CREATE TABLE parents (id INTEGER PRIMARY KEY, label VARCHAR);
-- ----
CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id), name VARCHAR);
-- ----
INSERT INTO parents VALUES (1, 'p1'), (2, 'p2');
-- ----
INSERT INTO children VALUES (10, 1, 'c1'), (11, 1, 'c2'), (12, 2, 'c3');
-- ----
SELECT p.label, list(c.name ORDER BY c.name) AS kids FROM parents p JOIN children c ON c.parent_id = p.id GROUP BY p.label ORDER BY p.label;
-- ----
COMMENT ON TABLE customers IS 'People who buy things; not a PREDICT target';
-- ----
COMMENT ON COLUMN customers.tier IS 'loyalty tier';
-- ----
SELECT comment FROM duckdb_tables() WHERE table_name = 'customers';
-- ----
CREATE SEQUENCE IF NOT EXISTS id_seq START 1;
-- ----
SELECT nextval('id_seq') AS a, nextval('id_seq') AS b;
-- ----
SELECT count(*) AS n, min(x) AS lo, max(x) AS hi FROM (SELECT nextval('id_seq') AS x FROM range(5));
-- ----
CREATE SCHEMA staging;
-- ----
CREATE TABLE staging.raw_orders AS SELECT * FROM orders WHERE false;
-- ----
INSERT INTO staging.raw_orders SELECT * FROM orders WHERE status = 'pending';
-- ----
SELECT order_id FROM staging.raw_orders ORDER BY order_id;
-- ----
SET schema = 'staging';
-- ----
SELECT count(*) AS pending FROM raw_orders;
-- ----
SET schema = 'main';
-- ----
-- MERGE, TRUNCATE, DEFAULT VALUES
CREATE TABLE balances (account VARCHAR PRIMARY KEY, balance DECIMAL(10, 2));
-- ----
INSERT INTO balances VALUES ('a', 100), ('b', 50);
-- ----
MERGE INTO balances AS t
USING (VALUES ('a', 25.00), ('c', 10.00)) AS s(account, delta)
ON t.account = s.account
WHEN MATCHED THEN UPDATE SET balance = t.balance + s.delta
WHEN NOT MATCHED THEN INSERT VALUES (s.account, s.delta);
-- ----
SELECT * FROM balances ORDER BY account;
-- ----
CREATE TABLE defaults_demo (id INTEGER DEFAULT 1, created DATE DEFAULT DATE '2024-01-01', note VARCHAR);
-- ----
INSERT INTO defaults_demo DEFAULT VALUES;
-- ----
INSERT INTO defaults_demo (note) VALUES ('explicit');
-- ----
SELECT * FROM defaults_demo ORDER BY note NULLS FIRST;
-- ----
TRUNCATE scratch;
-- ----
SELECT count(*) AS empty FROM scratch;
-- ----
-- transactions
BEGIN TRANSACTION;
-- ----
INSERT INTO balances VALUES ('z', 999);
-- ----
ROLLBACK;
-- ----
SELECT count(*) AS no_z FROM balances WHERE account = 'z';
-- ----
BEGIN;
-- ----
UPDATE balances SET balance = balance - 10 WHERE account = 'a';
-- ----
UPDATE balances SET balance = balance + 10 WHERE account = 'b';
-- ----
COMMIT;
-- ----
SELECT account, balance FROM balances ORDER BY account;
-- ----
START TRANSACTION;
-- ----
CREATE TABLE tx_temp (x INTEGER);
-- ----
INSERT INTO tx_temp VALUES (1), (2);
-- ----
ABORT;
-- ----
SELECT count(*) FROM information_schema.tables WHERE table_name = 'tx_temp';
-- ----
BEGIN TRANSACTION;
-- ----
INSERT INTO balances VALUES ('d', 5);
-- ----
END;
-- ----
SELECT count(*) AS with_d FROM balances;
-- ----
-- prepared statements
PREPARE orders_by_status AS SELECT order_id, amount FROM orders WHERE status = $1 ORDER BY order_id;
-- ----
EXECUTE orders_by_status('shipped');
-- ----
EXECUTE orders_by_status('pending');
-- ----
DEALLOCATE orders_by_status;
-- ----
PREPARE add_two AS SELECT ?::INTEGER + ?::INTEGER AS total;
-- ----
EXECUTE add_two(40, 2);
-- ----
PREPARE named_params AS SELECT $greeting || ', ' || $who AS msg;
-- ----
EXECUTE named_params(greeting := 'Hello', who := 'world');
-- ----
DEALLOCATE PREPARE add_two;
-- ----
-- settings, variables, pragmas and metadata
SET threads = 1;
-- ----
SELECT current_setting('threads') AS threads;
-- ----
RESET threads;
-- ----
SET memory_limit = '2GB';
-- ----
RESET memory_limit;
-- ----
SET default_null_order = 'nulls_first';
-- ----
SELECT x FROM (VALUES (2), (NULL), (1)) t(x) ORDER BY x;
-- ----
RESET default_null_order;
-- ----
SET SESSION preserve_insertion_order = true;
-- ----
SET GLOBAL preserve_insertion_order = true;
-- ----
SET enable_progress_bar = false;
-- ----
SET VARIABLE cutoff = 20;
-- ----
SELECT order_id FROM orders WHERE amount > getvariable('cutoff') ORDER BY order_id;
-- ----
RESET VARIABLE cutoff;
-- ----
PRAGMA table_info('customers');
-- ----
PRAGMA show_tables;
-- ----
PRAGMA enable_checkpoint_on_shutdown;
-- ----
PRAGMA disable_progress_bar;
-- ----
CALL pragma_table_info('orders');
-- ----
SELECT * FROM pragma_storage_info('orders') LIMIT 0;
-- ----
DESCRIBE customers;
-- ----
DESCRIBE SELECT name, amount FROM customers JOIN orders ON orders.customer_id = customers.id;
-- ----
SHOW orders;
-- ----
SHOW TABLES;
-- ----
SHOW ALL TABLES;
-- ----
SHOW SCHEMAS;
-- ----
SUMMARIZE customers;
-- ----
SUMMARIZE SELECT amount, status FROM orders;
-- ----
EXPLAIN SELECT c.name, sum(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name;
-- ----
EXPLAIN SELECT * FROM range(10) WHERE range > 5;
-- ----
SELECT table_name, column_count FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_name;
-- ----
SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position;
-- ----
SELECT function_name FROM duckdb_functions() WHERE function_name IN ('add_tax', 'orders_of', 'predict_score') ORDER BY 1;
-- ----
SELECT sequence_name, start_value, increment_by FROM duckdb_sequences() ORDER BY sequence_name;
-- ----
SELECT type_name FROM duckdb_types() WHERE type_name IN ('mood', 'point2d') ORDER BY 1;
-- ----
SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name;
-- ----
SELECT schema_name FROM duckdb_schemas() WHERE database_name = 'memory' ORDER BY 1;
-- ----
SELECT constraint_type, count(*) AS n FROM duckdb_constraints() WHERE table_name = 'customers' GROUP BY ALL ORDER BY ALL;
-- ----
SELECT count(*) > 100 AS many_functions FROM duckdb_functions();
-- ----
SELECT extension_name FROM duckdb_extensions() WHERE extension_name = 'json' AND loaded;
-- ----
LOAD json;
-- ----
SELECT version() LIKE 'v%' AS has_version;
-- ----
-- attached databases
ATTACH ':memory:' AS scratchpad;
-- ----
CREATE TABLE scratchpad.notes (id INTEGER, body VARCHAR);
-- ----
INSERT INTO scratchpad.notes VALUES (1, 'remember; the milk'), (2, 'PREDICT nothing');
-- ----
SELECT * FROM scratchpad.notes ORDER BY id;
-- ----
USE scratchpad;
-- ----
SELECT count(*) AS notes FROM notes;
-- ----
USE memory;
-- ----
SELECT database_name FROM duckdb_databases() WHERE NOT internal ORDER BY 1;
-- ----
DETACH scratchpad;
-- ----
CHECKPOINT;
-- ----
ANALYZE;
-- ----
VACUUM;
-- ----
-- assorted realistic reports
WITH monthly AS (
    SELECT date_trunc('month', ordered_at)::DATE AS month, sum(amount) AS revenue
    FROM orders
    WHERE status <> 'cancelled'
    GROUP BY ALL
)
SELECT month, revenue,
    revenue - lag(revenue) OVER (ORDER BY month) AS change,
    round(100.0 * revenue / sum(revenue) OVER (), 1) AS pct_of_total
FROM monthly
ORDER BY month;
-- ----
SELECT c.tier, count(DISTINCT c.id) AS customers, count(o.order_id) AS orders,
    round(count(o.order_id) / count(DISTINCT c.id), 2) AS orders_per_customer
FROM customers c
LEFT JOIN orders o ON o.customer_id = c.id
GROUP BY c.tier
ORDER BY c.tier;
-- ----
SELECT p.category, p.title, sum(i.qty) AS units,
    rank() OVER (PARTITION BY p.category ORDER BY sum(i.qty) DESC, p.title) AS rank_in_category
FROM order_items i
JOIN products p USING (sku)
GROUP BY p.category, p.title
ORDER BY p.category, rank_in_category;
-- ----
SELECT customer_id, list(status ORDER BY ordered_at) AS history,
    list_last(list(status ORDER BY ordered_at)) AS latest
FROM orders
GROUP BY customer_id
ORDER BY customer_id;
-- ----
SELECT sensor,
    min(value) AS lo,
    max(value) AS hi,
    round(avg(value), 3) AS mean,
    count(*) FILTER (WHERE value > 5) AS above_5,
    arg_max(ts, value) AS peak_at
FROM readings
GROUP BY ROLLUP (sensor)
ORDER BY sensor NULLS LAST;
-- ----
SELECT floor(amount / 50)::INTEGER AS bucket, count(*) AS n FROM orders GROUP BY ALL ORDER BY bucket;
-- ----
SELECT status, CAST(sum(amount) AS DOUBLE) / count(*) AS mean_amount FROM orders GROUP BY status HAVING count(*) >= 2 ORDER BY status;
-- ----
SELECT dept, count(*) AS n, list_sort(list(name)) AS people FROM employees GROUP BY dept HAVING n > 1 ORDER BY dept;
-- ----
SELECT i, CASE WHEN i % 15 = 0 THEN 'FizzBuzz' WHEN i % 3 = 0 THEN 'Fizz' WHEN i % 5 = 0 THEN 'Buzz' ELSE i::VARCHAR END AS fb
FROM range(1, 16) t(i)
ORDER BY i;
-- ----
SELECT d::DATE AS day, count(o.order_id) AS orders
FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-12', INTERVAL 1 DAY) g(d)
LEFT JOIN orders o ON o.ordered_at::DATE = d::DATE
GROUP BY d
ORDER BY d;
-- ----
SELECT region, jan + coalesce(feb, 0) + mar AS q1, [jan, feb, mar] AS months, list_max([jan, feb, mar]) AS best FROM monthly_sales ORDER BY region;
-- ----
SELECT name, hash(name) = hash(name) AS stable_hash, name COLLATE NOCASE = 'ALICE' AS ci FROM customers WHERE id = 1;
-- ----
SELECT name FROM customers ORDER BY name COLLATE NOCASE DESC LIMIT 2;
-- ----
SELECT * FROM customers WHERE city IN (SELECT city FROM customers GROUP BY city HAVING count(*) > 1) ORDER BY id;
-- ----
SELECT order_id, status FROM orders WHERE status ^@ 'sh' ORDER BY order_id;
-- ----
SELECT any_value(title) FILTER (WHERE category = 'tea') AS a_tea, count(*) FILTER (WHERE tags IS NULL OR len(tags) = 0) AS untagged FROM products;
-- ----
WITH params AS (SELECT 0.5 AS predict_threshold)
SELECT m.id, m.predict >= p.predict_threshold AS positive FROM model m, params p ORDER BY m.id;
-- ----
SELECT given AS "given", label AS "label" FROM model WHERE given IS NOT NULL ORDER BY 1;
-- ----
SELECT count(*) AS predict FROM orders;
-- ----
SELECT t.model FROM predict AS t WHERE t.model IN ('tree', 'forest');
-- ----
DROP VIEW clean;
-- ----
DROP MACRO predict_score;
-- ----
DROP TABLE predict;
-- ----
DROP TABLE model;
-- ----
-- cleanup DDL
DROP VIEW IF EXISTS large_orders;
-- ----
DROP VIEW shop.stock_view;
-- ----
DROP MACRO TABLE orders_of;
-- ----
DROP MACRO IF EXISTS add_tax;
-- ----
DROP FUNCTION clamp;
-- ----
DROP TABLE diary;
-- ----
DROP TYPE mood;
-- ----
DROP TYPE IF EXISTS point2d;
-- ----
DROP INDEX idx_products_title;
-- ----
DROP TABLE IF EXISTS does_not_exist;
-- ----
DROP TABLE children;
-- ----
DROP TABLE parents;
-- ----
DROP TABLE squares_copy;
-- ----
DROP TABLE powers;
-- ----
DROP SEQUENCE id_seq;
-- ----
DROP SCHEMA staging CASCADE;
-- ----
DROP SCHEMA shop CASCADE;
-- ----
SHOW TABLES;
-- ----
SELECT 'done' AS status
