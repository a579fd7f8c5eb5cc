-- Train and predict in one statement: the result is the input rows plus the prediction and a
-- confidence column. Nothing is stored in the catalog.
LOAD DATASET iris AS flowers;
CREATE TABLE flowers_labeled AS SELECT * FROM flowers WHERE hash(sepal_length_cm, sepal_width_cm, petal_length_cm) % 3 <> 0;
CREATE TABLE flowers_new AS SELECT * EXCLUDE (species) FROM flowers WHERE hash(sepal_length_cm, sepal_width_cm, petal_length_cm) % 3 = 0;

PREDICT species FROM flowers_new GIVEN flowers_labeled;

-- Choose the families, the budget and the metric; fix ranges for hyperparameters.
PREDICT species FROM flowers_new GIVEN flowers_labeled
USING SEARCH (families => ['logistic', 'random_forest'], budget => '8 trials', metric => 'accuracy',
              C => RANGE(0.01, 100, LOG), max_depth => [4, 8, 16], seed => 1);
