-- The hottest read of the API, GET /v1/runs/:id, as one prepared call: a run and every attempt of its
-- steps, read as the tenant. The function sets app.tenant_id for the rest of its (implicit, one-call)
-- transaction, so row-level security confines both statements as in withTenant; it refuses to run
-- inside a transaction that is already another tenant's. PL/pgSQL keeps the two statements' plans for
-- the session, and a generic plan is right for these primary-key lookups (the sessions' default,
-- force_custom_plan, would plan them at every call). STABLE: PL/pgSQL rejects any write in it.
CREATE FUNCTION aiq_read_run(p_tenant uuid, p_run uuid)
RETURNS TABLE (
  kind text, id uuid, "workflowId" uuid, version int, status text, trigger jsonb, input jsonb,
  output jsonb, error jsonb, "createdAt" timestamptz, "startedAt" timestamptz, "finishedAt" timestamptz,
  scope text, "nodeId" text, attempt int, port text)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  IF coalesce(current_setting('app.tenant_id', true), '') NOT IN ('', p_tenant::text) THEN
    RAISE EXCEPTION 'aiq_read_run: the transaction is another tenant''s';
  END IF;
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  RETURN QUERY
    SELECT 'run'::text, r.id, r.workflow_id, r.version, r.status, r.trigger, r.input, r.output, r.error,
           r.created_at, r.started_at, r.finished_at, NULL::text, NULL::text, NULL::int, NULL::text
      FROM runs r WHERE r.tenant_id = p_tenant AND r.id = p_run;
  IF NOT FOUND THEN RETURN; END IF;
  RETURN QUERY
    SELECT 'step'::text, NULL::uuid, NULL::uuid, NULL::int, s.status, NULL::jsonb, NULL::jsonb, s.output,
           s.error, NULL::timestamptz, s.started_at, s.finished_at, s.scope, s.node_id, s.attempt, s.port
      FROM steps s WHERE s.tenant_id = p_tenant AND s.run_id = p_run
     ORDER BY s.created_at, s.scope, s.node_id, s.attempt;
END $$;

REVOKE ALL ON FUNCTION aiq_read_run(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aiq_read_run(uuid, uuid) TO aiq_app;
