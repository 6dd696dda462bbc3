-- glue-auth-sql: authorization codes of the code flow (SPEC §2a), our own
-- table (Spryker's spy_oauth_code_flow_auth_code has no columns for the
-- redirect URI and the PKCE challenge the gateway binds each code to).
--   * identifier: SHA-256 of the code, 64 lowercase hex digits (the code
--     itself is never stored);
--   * user_identifier and scopes: JSON, as in spy_oauth_refresh_token;
--   * expires_at: integer microseconds since the Unix epoch (UTC).
CREATE TABLE glue_oauth_authorization_code (
    identifier CHAR(64) NOT NULL PRIMARY KEY,
    fk_oauth_client VARCHAR(1024) NOT NULL,
    redirect_uri VARCHAR(1024) NOT NULL,
    user_identifier VARCHAR(1024) NOT NULL,
    scopes VARCHAR(1024) NOT NULL,
    code_challenge VARCHAR(128) NOT NULL,
    code_challenge_method VARCHAR(8) NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX glue_oauth_authorization_code_expires_at ON glue_oauth_authorization_code (expires_at);
