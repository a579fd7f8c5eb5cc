-- CLEAN: clean the records that matter to a model, a batch at a time (ActiveClean), with every
-- correction recorded and the cleaned model saved as a new version.
-- Run with: paqdb example.duckdb -f sql_examples/clean.sql

-- Sensor readings; one in nine was recorded ten times too high.
CREATE TABLE sensors AS
SELECT id, temp, vibration, temp + 4 * vibration > 95 AS failure
FROM (SELECT range AS id, CAST(40 + hash(range) % 40 AS DOUBLE) AS temp,
             CAST(hash(range * 7) % 100 AS DOUBLE) / 10 AS vibration
      FROM range(2000));
UPDATE sensors SET temp = temp * 10 WHERE id % 9 = 0;
CREATE TABLE readings AS SELECT * FROM sensors;  -- the same dirty rows, for the interactive part

-- A model trained on the dirty data.
CREATE MODEL failure_model PREDICT failure FROM (SELECT temp, vibration, failure FROM sensors)
USING SEARCH (families => ['logistic'], budget => '2 trials');

-- What would run: the detector, how many records it flags, the repair, the batches.
EXPLAIN CLEAN sensors PREDICT failure USING MODEL failure_model
  WITH (detect => 'temp > 200', repair => 'temp = temp / 10', key => 'id', budget => 200);

-- Repair by SQL assignments: one row per batch (records cleaned so far, the model's estimated
-- accuracy on the records known clean and its change, the records still flagged).
CLEAN sensors PREDICT failure USING MODEL failure_model
  WITH (detect => 'temp > 200', repair => 'temp = temp / 10', key => 'id', budget => 200);

-- The cleaned model is version 2; the table is unchanged, the corrections are recorded.
SHOW MODELS;
SELECT run, batch, row_key, column_name, old_value, new_value, applied
FROM paqdb.clean_corrections ORDER BY id LIMIT 5;

-- Write the corrections into the table, and take one batch of them back out.
CLEAN sensors APPLY CORRECTIONS;
CLEAN sensors UNDO CORRECTIONS BATCH 1;

-- Repair from a table of corrected rows keyed like the cleaned one.
CREATE TABLE sensors_fixed AS SELECT id, temp / 10 AS temp FROM sensors WHERE temp > 200;
CLEAN sensors PREDICT failure USING MODEL failure_model
  WITH (detect => 'temp > 200', repair => 'sensors_fixed', key => 'id', batch_size => 25);

-- Interactive: each CLEAN hands out the next batch to fix (its rows, with the key); fix them with
-- UPDATE and run the same CLEAN again: it records your changes as corrections, folds them into the model
-- (a new version) and hands out the next batch, until the budget is spent or nothing is flagged.
CLEAN readings PREDICT failure USING MODEL failure_model
  WITH (detect => 'temp > 200', repair => 'manual', key => 'id', batch_size => 5, budget => 10);
UPDATE readings SET temp = temp / 10 WHERE id IN (SELECT CAST(row_key AS BIGINT) FROM paqdb.clean_pending);
CLEAN readings PREDICT failure USING MODEL failure_model
  WITH (detect => 'temp > 200', repair => 'manual', key => 'id', batch_size => 5, budget => 10);
SELECT run, status, batches, cleaned, model_version FROM paqdb.clean_runs ORDER BY run;
