-- How PREDICT chooses a model: TuPAQ's planner (the default strategy), its options, and what it did.
LOAD DATASET breast_cancer;

-- The plan before anything trains: per family the unit trained, units per round, batch size and the
-- estimated seconds per configuration; the whole search's estimated cost.
EXPLAIN CREATE MODEL cancer_model PREDICT diagnosis FROM breast_cancer
USING SEARCH (families => ['logistic', 'linear_svm', 'gradient_boosting'], budget => '16 trials');

-- Train in rounds; configurations whose validation error is more than 30% above the best stop early.
-- The logistic and SVM configurations train in batches: one pass over the data per epoch for a batch.
CREATE MODEL cancer_model PREDICT diagnosis FROM breast_cancer
USING SEARCH (families => ['logistic', 'linear_svm', 'gradient_boosting'], budget => '16 trials',
              epsilon => 0.3, C => RANGE(1e-4, 1e2, LOG), seed => 1);

-- Every trial and its fate: finished, stopped early at round r (and the rule that stopped it), failed.
DESCRIBE MODEL cancer_model;
-- The trials are also plain rows of the catalog, for any query.
SELECT family, status, count(*) AS trials, round(max(validation_score), 4) AS best
FROM paqdb.trials WHERE name = 'cancer_model' GROUP BY ALL ORDER BY ALL;

-- Hyperband's brackets instead of TuPAQ's rule, and a fixed pipeline step (PCA onto 8 components).
CREATE OR REPLACE MODEL cancer_model PREDICT diagnosis FROM breast_cancer
USING SEARCH (strategy => 'hyperband', families => ['logistic', 'kernel_approximation'],
              budget => '12 trials', pca => 8);
SELECT family, status, count(*) AS trials FROM paqdb.trials
WHERE name = 'cancer_model' AND version = 2 GROUP BY ALL ORDER BY ALL;

SELECT diagnosis, PREDICT(diagnosis USING MODEL cancer_model) AS predicted, count(*) AS patients
FROM breast_cancer GROUP BY ALL ORDER BY ALL;
