-- Models live in the database file: create, list, inspect, use from any query, drop.
LOAD DATASET diabetes;

-- A regression model (the task is inferred from the label's type; task => 'regression' forces it).
CREATE MODEL progression_model PREDICT progression FROM diabetes
USING SEARCH (families => ['ridge', 'gradient_boosting'], budget => '6 trials', metric => 'rmse');

SHOW MODELS;
DESCRIBE MODEL progression_model;

-- The plan: logical operators, the rewrites applied, and the physical pipeline.
EXPLAIN PREDICT progression FROM diabetes USING MODEL progression_model;

-- PREDICT(...) is an ordinary expression.
SELECT sex, round(avg(PREDICT(progression USING MODEL progression_model)), 1) AS mean_predicted,
       round(avg(progression), 1) AS mean_actual
FROM diabetes GROUP BY sex ORDER BY sex;

-- A new version replaces the current one; DROP MODEL removes every version.
CREATE OR REPLACE MODEL progression_model PREDICT progression FROM diabetes
USING SEARCH (families => ['ridge'], budget => '2 trials');
SHOW MODELS;
DROP MODEL progression_model;
DROP MODEL IF EXISTS progression_model;
