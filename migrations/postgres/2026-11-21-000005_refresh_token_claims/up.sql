-- The authorization request's `claims` parameter (OIDC Core §5.5) as JSON, kept with every
-- token of a refresh token family so that refreshed tokens release the same claims. NULL
-- when the request had none; rows written before this migration have none.

ALTER TABLE refresh_tokens ADD COLUMN claims TEXT;
