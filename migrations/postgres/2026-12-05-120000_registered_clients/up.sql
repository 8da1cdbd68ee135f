-- Dynamically registered clients (RFC 7591, PostgreSQL). Configured clients stay in the
-- configuration file; these are created through `POST /register` and managed through
-- `/register/{client_id}` (RFC 7592). `metadata` is the checked client metadata as JSON,
-- read by kunci-core. The client secret and the registration access token are never stored:
-- `secret_sha256` is the lowercase hex SHA-256 of the secret (NULL without one) and
-- `registration_token_hash` the base64url SHA-256 of the token. Times are Unix seconds.

CREATE TABLE registered_clients (
    client_id               TEXT   NOT NULL PRIMARY KEY,
    metadata                TEXT   NOT NULL,
    secret_sha256           TEXT,
    registration_token_hash TEXT   NOT NULL,
    issued_at               BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
