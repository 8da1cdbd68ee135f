-- Accounts and remembered consents (SQLite).
-- STRICT tables: SQLite then rejects values of the wrong type instead of storing them.
-- Times are Unix seconds; booleans are 0/1.

CREATE TABLE accounts (
    id             TEXT    NOT NULL PRIMARY KEY,
    email          TEXT    NOT NULL,
    email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
    name           TEXT    NOT NULL,
    password_hash  TEXT,
    locale         TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CONSTRAINT accounts_email_key UNIQUE (email)
) STRICT;

-- AccountRepo::list pages through accounts oldest first.
CREATE INDEX accounts_created_at_id ON accounts (created_at, id);

CREATE TABLE consents (
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id  TEXT    NOT NULL,
    scopes     TEXT    NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, client_id)
) STRICT;
