-- Whether runs of the tenant wait for concurrency slots (queued, not admitted), read afresh: a VOLATILE
-- PL/pgSQL function takes a new snapshot for its query, so a statement that freed slots after waiting
-- for their row lock sees the runs that the lock's previous holder left waiting (its own snapshot,
-- taken before the wait, does not). A run's end enqueues an admit job only when some run waits.
CREATE FUNCTION aiq_runs_await_slots(tenant uuid) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM runs WHERE tenant_id = tenant AND NOT admitted AND status = 'queued');
END $$;
GRANT EXECUTE ON FUNCTION aiq_runs_await_slots(uuid) TO aiq_app, aiq_system;
