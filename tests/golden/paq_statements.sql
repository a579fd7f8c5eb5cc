-- Golden parses of the paqdb statements: every form the grammar accepts.
-- Each entry: "-- node: <AST class>", "-- canonical: <the text the AST generates>", then the statement.
-- The test parses the statement, checks the node class and canonical text, and re-parses the canonical
-- text to the same AST (round trip).
-- ----
-- node: Predict
-- canonical: PREDICT income FROM adult_test GIVEN adult_train
PREDICT income FROM adult_test GIVEN adult_train;
-- ----
-- node: Predict
-- canonical: PREDICT income FROM adult_test GIVEN adult_train
predict   income
  from adult_test
  given adult_train
-- ----
-- node: Predict
-- canonical: PREDICT income FROM adult_test GIVEN adult_train USING SEARCH (families => ['logistic', 'random_forest'], budget => '2 minutes', metric => 'accuracy')
PREDICT income FROM adult_test GIVEN adult_train USING SEARCH (families => ['logistic', 'random_forest'], budget => '2 minutes', metric => 'accuracy');
-- ----
-- node: Predict
-- canonical: PREDICT income FROM adult_test GIVEN adult_train USING SEARCH (learning_rate => RANGE(1e-4, 1e-1, LOG), max_depth => [4, 8, 16], strategy => 'random', seed => 7)
PREDICT income FROM adult_test GIVEN adult_train
USING SEARCH (learning_rate => RANGE(1e-4, 1e-1, LOG), max_depth => [4, 8, 16], strategy => 'random', seed => 7)
-- ----
-- node: Predict
-- canonical: PREDICT income FROM adult_test GIVEN adult_train USING SEARCH ()
PREDICT income FROM adult_test GIVEN adult_train USING SEARCH ()
-- ----
-- node: Predict
-- canonical: PREDICT income FROM adult_test USING MODEL income_model
PREDICT income FROM adult_test USING MODEL income_model;
-- ----
-- node: Predict
-- canonical: PREDICT "Income Level" FROM main.adult_test USING MODEL "My Model"
PREDICT "Income Level" FROM main.adult_test USING MODEL "My Model"
-- ----
-- node: Predict
-- canonical: PREDICT y FROM (SELECT * FROM t WHERE x > 1) GIVEN (SELECT * FROM t WHERE NOT y IS NULL)
PREDICT y FROM (SELECT * FROM t WHERE x > 1) GIVEN (SELECT * FROM t WHERE y IS NOT NULL)
-- ----
-- node: CreateModel
-- canonical: CREATE MODEL income_model PREDICT income FROM adult_train
CREATE MODEL income_model PREDICT income FROM adult_train;
-- ----
-- node: CreateModel
-- canonical: CREATE MODEL income_model PREDICT income FROM adult_train USING SEARCH (families => ['gradient_boosting'], budget => '30 seconds')
CREATE MODEL income_model PREDICT income FROM adult_train USING SEARCH (families => ['gradient_boosting'], budget => '30 seconds')
-- ----
-- node: CreateModel
-- canonical: CREATE OR REPLACE MODEL m PREDICT y FROM t
create or replace model m predict y from t
-- ----
-- node: CreateModel
-- canonical: CREATE MODEL IF NOT EXISTS m PREDICT y FROM t USING SEARCH (budget => 20, task => 'regression', metric => 'rmse')
CREATE MODEL IF NOT EXISTS m PREDICT y FROM t USING SEARCH (budget => 20, task => 'regression', metric => 'rmse')
-- ----
-- node: CreateModel
-- canonical: CREATE MODEL m PREDICT y FROM t USING SEARCH (alpha => RANGE(-3, 3), neg => -2.5, "on" => TRUE, off => FALSE, nothing => NULL)
CREATE MODEL m PREDICT y FROM t USING SEARCH (alpha => RANGE(-3, 3), neg => -2.5, on => TRUE, off => FALSE, nothing => NULL)
-- ----
-- node: ShowModels
-- canonical: SHOW MODELS
SHOW MODELS;
-- ----
-- node: DescribeModel
-- canonical: DESCRIBE MODEL income_model
DESCRIBE MODEL income_model;
-- ----
-- node: DescribeModel
-- canonical: DESCRIBE MODEL income_model
DESC MODEL income_model
-- ----
-- node: DropModel
-- canonical: DROP MODEL income_model
DROP MODEL income_model;
-- ----
-- node: DropModel
-- canonical: DROP MODEL IF EXISTS income_model
DROP MODEL IF EXISTS income_model
-- ----
-- node: Explain
-- canonical: EXPLAIN PREDICT income FROM adult_test GIVEN adult_train USING SEARCH (budget => '1 minute')
EXPLAIN PREDICT income FROM adult_test GIVEN adult_train USING SEARCH (budget => '1 minute')
-- ----
-- node: Explain
-- canonical: EXPLAIN ANALYZE CREATE MODEL m PREDICT y FROM t
EXPLAIN ANALYZE CREATE MODEL m PREDICT y FROM t
-- ----
-- node: Explain
-- canonical: EXPLAIN SELECT name FROM adult_test WHERE PREDICT(income USING MODEL income_model) = '>50K'
EXPLAIN SELECT name FROM adult_test WHERE PREDICT(income USING MODEL income_model) = '>50K'
-- ----
-- node: Select
-- canonical: SELECT name FROM adult_test WHERE PREDICT(income USING MODEL income_model) = '>50K'
SELECT name FROM adult_test WHERE PREDICT(income USING MODEL income_model) = '>50K'
-- ----
-- node: Select
-- canonical: SELECT sex, AVG(CASE WHEN PREDICT(income USING MODEL m) = '>50K' THEN 1 ELSE 0 END) AS share FROM adult_test GROUP BY sex
SELECT sex, avg(CASE WHEN PREDICT(income USING MODEL m) = '>50K' THEN 1 ELSE 0 END) AS share FROM adult_test GROUP BY sex
-- ----
-- node: Create
-- canonical: CREATE TABLE scored AS SELECT *, PREDICT(income USING MODEL m) AS p FROM adult_test
CREATE TABLE scored AS SELECT *, PREDICT(income USING MODEL m) AS p FROM adult_test
-- ----
-- node: Clean
-- canonical: CLEAN sensors PREDICT failure WITH (budget => 500, batch_size => 50, detector => 'rules')
CLEAN sensors PREDICT failure WITH (budget => 500, batch_size => 50, detector => 'rules')
-- ----
-- node: Clean
-- canonical: CLEAN sensors PREDICT failure USING MODEL failure_model
CLEAN sensors FOR PREDICT failure USING MODEL failure_model
-- ----
-- node: CrowdLabel
-- canonical: CROWD LABEL sentiment FROM reviews GIVEN seed_labels WITH (budget => 200, batch_size => 10, workers => 3)
CROWD LABEL sentiment FROM reviews GIVEN seed_labels WITH (budget => 200, batch_size => 10, workers => 3)
-- ----
-- node: CrowdLabel
-- canonical: CROWD LABEL sentiment FROM reviews
CROWD LABEL sentiment FROM reviews
-- ----
-- node: CausalFreq
-- canonical: CAUSAL FREQ bid, ask FROM ticks TIME ts
CAUSAL FREQ bid, ask FROM ticks TIME ts
-- ----
-- node: CausalFreq
-- canonical: CAUSAL FREQ price FROM ticks TIME ts BY symbol WITH (segments => 16, engine => 'spark')
CAUSAL FREQ price FROM ticks TIME ts BY symbol WITH (segments => 16, engine => 'spark')
-- ----
-- node: LoadDataset
-- canonical: LOAD DATASET adult
LOAD DATASET adult;
-- ----
-- node: LoadDataset
-- canonical: LOAD DATASET mnist AS digits_5k
LOAD DATASET mnist AS digits_5k
