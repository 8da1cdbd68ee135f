-- Key rotation with overlap (SQLite; ADR 0006). A key signs from `activates_at` until
-- `retired_at` (which a rotation may set in the future); before `activates_at` it is only
-- published. Keys stored before this migration have always signed: they activate when made.
-- The default 0 (active since ever) keeps inserts of an older version valid during a rolling
-- upgrade.

ALTER TABLE signing_keys ADD COLUMN activates_at INTEGER NOT NULL DEFAULT 0;
UPDATE signing_keys SET activates_at = created_at;
