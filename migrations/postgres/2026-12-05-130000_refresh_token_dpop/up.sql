-- RFC 9449 §5: the RFC 7638 thumbprint of the DPoP key a public client's refresh token family
-- is bound to; every rotation keeps it. NULL for unbound families (confidential clients, whose
-- tokens are bound to their client authentication, and clients that sent no DPoP proof).

ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt TEXT;
