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
-- node: DescribeModel
-- canonical: DESCRIBE MODEL income_model VERSION 2
describe model income_model version 2
-- ----
-- node: Predict
-- canonical: PREDICT income FROM adult_test USING MODEL income_model VERSION 1
PREDICT income FROM adult_test USING MODEL income_model VERSION 1
-- ----
-- node: Select
-- canonical: SELECT PREDICT(income USING MODEL m VERSION 1) = PREDICT(income USING MODEL m) AS same FROM adult_test
SELECT PREDICT(income USING MODEL m VERSION 1) = PREDICT(income USING MODEL m) AS same FROM adult_test
-- ----
-- node: ExportModel
-- canonical: EXPORT MODEL income_model TO 'income_model.paqdb'
EXPORT MODEL income_model TO 'income_model.paqdb';
-- ----
-- node: ExportModel
-- canonical: EXPORT MODEL "My Model" VERSION 3 TO '/tmp/my model.paqdb' WITH (format => 'paqdb')
export model "My Model" version 3 to '/tmp/my model.paqdb' with (format => 'paqdb')
-- ----
-- node: ExportModel
-- canonical: EXPORT MODEL m TO ?
EXPORT MODEL m TO ?
-- ----
-- node: ImportModel
-- canonical: IMPORT MODEL income_model FROM 'income_model.paqdb'
IMPORT MODEL income_model FROM 'income_model.paqdb';
-- ----
-- node: ImportModel
-- canonical: IMPORT OR REPLACE MODEL m FROM 'it''s.paqdb'
import or replace model m from 'it''s.paqdb'
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
-- node: EvaluateModel
-- canonical: EVALUATE MODEL income_model ON adult_test
EVALUATE MODEL income_model ON adult_test;
-- ----
-- node: EvaluateModel
-- canonical: EVALUATE MODEL income_model ON adult_test WITH (report => 'roc', threshold => 0.3)
evaluate model income_model
  on adult_test with (report => 'roc', threshold => 0.3)
-- ----
-- node: EvaluateModel
-- canonical: EVALUATE MODEL "My Model" ON (SELECT * FROM main.t WHERE NOT y IS NULL) WITH (report => 'confusion')
EVALUATE MODEL "My Model" ON (SELECT * FROM main.t WHERE y IS NOT NULL) WITH (report => 'confusion')
-- ----
-- node: LoadDataset
-- canonical: LOAD DATASET adult
LOAD DATASET adult;
-- ----
-- node: LoadDataset
-- canonical: LOAD DATASET mnist AS digits_5k
LOAD DATASET mnist AS digits_5k
-- ----
-- node: Predict
-- canonical: PREDICT species FROM iris USING MODEL m ORDER BY confidence DESC LIMIT 3
PREDICT species FROM iris USING MODEL m
ORDER BY confidence DESC
LIMIT 3
-- ----
-- node: Predict
-- canonical: WITH s AS (SELECT * FROM iris WHERE species <> 'setosa') PREDICT species FROM s USING MODEL m
WITH s AS (SELECT * FROM iris WHERE species <> 'setosa') PREDICT species FROM s USING MODEL m
-- ----
-- node: Select
-- canonical: SELECT * FROM (PREDICT species FROM iris USING MODEL m) WHERE confidence > 0.9
SELECT * FROM (PREDICT species FROM iris USING MODEL m) WHERE confidence > 0.9
-- ----
-- node: Create
-- canonical: CREATE TABLE scored AS PREDICT species FROM iris GIVEN iris_train
CREATE TABLE scored AS PREDICT species FROM iris GIVEN iris_train
-- ----
-- node: Predict
-- canonical: PREDICT income FROM adult_test USING MODEL income_model WITH (probabilities => TRUE, threshold => 0.3)
predict income from adult_test using model income_model with (probabilities => true, threshold => 0.3)
-- ----
-- node: Predict
-- canonical: PREDICT income FROM adult_test GIVEN adult_train USING SEARCH (exclude => ['id'], class_weight => 'balanced') WITH (probabilities => TRUE)
PREDICT income FROM adult_test GIVEN adult_train USING SEARCH (exclude => ['id'], class_weight => 'balanced') WITH (probabilities => true)
-- ----
-- node: Select
-- canonical: SELECT PREDICT_PROBA(income USING MODEL m)['>50K'] AS rich FROM adult_test
SELECT predict_proba(income USING MODEL m)['>50K'] AS rich FROM adult_test
