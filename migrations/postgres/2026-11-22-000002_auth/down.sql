DROP TABLE oidc_refresh_tokens;
DROP TABLE oidc_codes;
DROP TABLE secrets;
