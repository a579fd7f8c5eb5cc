-- paqdb quickstart: load UCI Adult (shipped inside a PyPI package), train a model with a search,
-- predict, and look at the result. Run with:  paqdb quickstart.duckdb -f sql_examples/quickstart.sql

-- 1. Data: 32,561 people, 14 features, label `income` ('<=50K' / '>50K').
DROP TABLE IF EXISTS adult;
DROP TABLE IF EXISTS adult_train;
DROP TABLE IF EXISTS adult_test;
LOAD DATASET adult;
CREATE TABLE adult_train AS SELECT * FROM adult WHERE hash(fnlwgt, age, education) % 5 <> 0;
CREATE TABLE adult_test AS SELECT * FROM adult WHERE hash(fnlwgt, age, education) % 5 = 0;

-- 2. Train: the planner searches model families and hyperparameters within the budget and keeps the
--    best model on a held-out validation split. The model is stored in this database file.
CREATE OR REPLACE MODEL income_model PREDICT income FROM adult_train
USING SEARCH (budget => '30 seconds', metric => 'accuracy', seed => 0);

-- 3. What the search tried: one row per trial.
DESCRIBE MODEL income_model;
SHOW MODELS;

-- 4. Predict: the test rows plus predicted_income and confidence.
PREDICT income FROM adult_test USING MODEL income_model;

-- 5. PREDICT(...) works inside any query: accuracy on the test set, and predictions by group.
SELECT round(avg((PREDICT(income USING MODEL income_model) = income)::INT), 4) AS test_accuracy,
       count(*) AS test_rows
FROM adult_test;

SELECT education, count(*) AS people,
       round(avg((PREDICT(income USING MODEL income_model) = '>50K')::INT), 3) AS predicted_high_income
FROM adult_test GROUP BY ALL ORDER BY predicted_high_income DESC LIMIT 5;
