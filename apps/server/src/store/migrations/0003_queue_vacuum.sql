-- The queue churns: every step inserts and deletes a job, every claim updates one. Vacuum and analyze
-- it after a fixed number of changes rather than a share of its (always small) size, without cost
-- delays, so dead entries do not pile up in its indexes. The history tables are analyzed early too, so
-- plans see their growth.
ALTER TABLE jobs SET (
  autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
  autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000,
  autovacuum_vacuum_cost_delay = 0
);
ALTER TABLE queue_tenants SET (
  autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 500, autovacuum_vacuum_cost_delay = 0
);
ALTER TABLE steps SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.05);
ALTER TABLE runs SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.05);
