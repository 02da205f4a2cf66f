-- The day's run counter of a tenant is split over shards: each start adds to one shard row, picked at
-- random, so concurrent starts of one tenant do not queue behind one row lock until they commit. The
-- day's count is the sum of its shards.
ALTER TABLE usage_daily ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE usage_daily DROP CONSTRAINT usage_daily_pkey;
ALTER TABLE usage_daily ADD PRIMARY KEY (tenant_id, day, shard);
