-- Refresh token families (SQLite). One row per token; the token itself is never stored, only
-- its base64url SHA-256 (`token_hash`). Every token rotated from one authorization shares
-- `family_id` (the grant id). `used_at` is set when a token is exchanged for its successor; a
-- used token presented again revokes its family. Times are Unix seconds.
-- `scopes` and `amr` are space-separated lists.

CREATE TABLE refresh_tokens (
    token_hash          TEXT    NOT NULL PRIMARY KEY,
    family_id           TEXT    NOT NULL,
    client_id           TEXT    NOT NULL,
    account_id          TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scopes              TEXT    NOT NULL,
    session_id          TEXT    NOT NULL,
    auth_time           INTEGER NOT NULL,
    amr                 TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    idle_expires_at     INTEGER NOT NULL,
    used_at             INTEGER
) STRICT;

-- Revoking a family; deleting an account's tokens; the retention purge.
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_account_id ON refresh_tokens (account_id);
CREATE INDEX refresh_tokens_absolute_expires_at ON refresh_tokens (absolute_expires_at);
