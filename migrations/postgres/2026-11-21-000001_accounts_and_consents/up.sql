-- Accounts and remembered consents (PostgreSQL).
-- Times are Unix seconds in BIGINT so that the same diesel schema serves SQLite too.

CREATE TABLE accounts (
    id             TEXT    NOT NULL PRIMARY KEY,
    email          TEXT    NOT NULL,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    name           TEXT    NOT NULL,
    password_hash  TEXT,
    locale         TEXT,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    CONSTRAINT accounts_email_key UNIQUE (email)
);

-- AccountRepo::list pages through accounts oldest first.
CREATE INDEX accounts_created_at_id ON accounts (created_at, id);

CREATE TABLE consents (
    account_id TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id  TEXT   NOT NULL,
    scopes     TEXT   NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, client_id)
);
