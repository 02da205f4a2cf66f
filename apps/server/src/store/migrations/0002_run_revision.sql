-- Every change to a run's steps bumps its revision, under the run's row lock. A worker that holds the
-- run's state at a revision that is still current need not read the steps again.
ALTER TABLE runs ADD COLUMN revision bigint NOT NULL DEFAULT 0;
