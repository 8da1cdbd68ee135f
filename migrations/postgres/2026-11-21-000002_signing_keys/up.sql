-- Signing keys shared by every node (PostgreSQL).
-- `sealed` is the PKCS#8 private key encrypted with AES-256-GCM under the master key, with the
-- kid as associated data (kunci-core `sealing`); the database never sees a private key in clear.
-- Times are Unix seconds; `retired_at` is NULL while the key may sign.

CREATE TABLE signing_keys (
    kid        TEXT   NOT NULL PRIMARY KEY,
    alg        TEXT   NOT NULL,
    sealed     BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
