//! Pipal as an OpenID Connect provider for its own API clients (the `bodhi` CLI needs one):
//! the authorization code grant with optional PKCE, refresh tokens that rotate, and access
//! tokens that are ordinary Pipal API tokens, so that `/oidc/login-token` and every API route
//! accept them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, NaiveDateTime};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::OidcSettings;
use crate::db::{DbConnection, write_transaction};
use crate::models::oidc::{AuthorizationCode, NewAuthorizationCode, RefreshToken};
use crate::models::user::User;
use crate::services::accounts;

/// The redirect URI of clients that cannot listen (the user pastes the code).
pub const OOB_REDIRECT_URI: &str = "urn:ietf:wg:oauth:2.0:oob";
const CODE_MINUTES: i64 = 10;

/// An OAuth 2.0 error, answered as `{"error", "error_description"}` (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    pub code: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            description: description.into(),
        }
    }
}

impl From<diesel::result::Error> for OAuthError {
    fn from(error: diesel::result::Error) -> Self {
        OAuthError::new("server_error", format!("database error: {error}"))
    }
}

impl From<crate::error::AppError> for OAuthError {
    fn from(error: crate::error::AppError) -> Self {
        OAuthError::new("server_error", error.to_string())
    }
}

/// Where the code goes after login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// Shown to the user to paste into the client.
    OutOfBand,
    /// A redirect to the client (a loopback address, or a configured URI).
    Uri(url::Url),
}

/// Accepts the out-of-band URI, loopback URIs of native clients (RFC 8252 §7.3), and the URIs
/// an administrator configured.
pub fn check_redirect_uri(uri: &str, settings: &OidcSettings) -> Result<Redirect, OAuthError> {
    if uri == OOB_REDIRECT_URI {
        return Ok(Redirect::OutOfBand);
    }
    let invalid = || {
        OAuthError::new(
            "invalid_request",
            format!("redirect_uri {uri} is not allowed"),
        )
    };
    let parsed = url::Url::parse(uri).map_err(|_| invalid())?;
    let loopback = parsed.scheme() == "http"
        && matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if loopback || settings.redirect_uris.iter().any(|allowed| allowed == uri) {
        Ok(Redirect::Uri(parsed))
    } else {
        Err(invalid())
    }
}

/// Client `state` values are echoed into pages and URLs: keep them to URL-safe characters.
pub fn check_state(state: &str) -> Result<(), OAuthError> {
    let ok = state.len() <= 512
        && state
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'));
    if ok {
        Ok(())
    } else {
        Err(OAuthError::new(
            "invalid_request",
            "state has characters outside [A-Za-z0-9._~-]",
        ))
    }
}

/// What the authorization endpoint was asked for, checked.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

fn hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Issues a single-use authorization code for the logged-in user.
pub fn issue_code(
    conn: &mut DbConnection,
    user: &User,
    request: &AuthorizationRequest,
    now: NaiveDateTime,
) -> Result<String, OAuthError> {
    if let Some(method) = &request.code_challenge_method
        && method != "S256"
        && method != "plain"
    {
        return Err(OAuthError::new(
            "invalid_request",
            "code_challenge_method must be S256 or plain",
        ));
    }
    let code = random_token("");
    AuthorizationCode::create(
        conn,
        &NewAuthorizationCode {
            code_hash: &hash(&code),
            user_id: user.id,
            client_id: &request.client_id,
            redirect_uri: &request.redirect_uri,
            scope: &request.scope,
            code_challenge: request.code_challenge.as_deref(),
            code_challenge_method: request
                .code_challenge
                .as_ref()
                .map(|_| request.code_challenge_method.as_deref().unwrap_or("plain")),
            created_at: now,
            expires_at: now + Duration::minutes(CODE_MINUTES),
        },
    )?;
    Ok(code)
}

/// The token endpoint's answer.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub scope: String,
}

fn issue_tokens(
    conn: &mut DbConnection,
    user: &User,
    client_id: &str,
    scope: &str,
    settings: &OidcSettings,
    now: NaiveDateTime,
) -> Result<TokenResponse, OAuthError> {
    let lifetime = Duration::hours(settings.access_token_hours.max(1));
    let access_token = accounts::issue_token(
        conn,
        &user.name,
        &format!("oidc:{client_id}"),
        Some(now + lifetime),
        now,
    )?;
    let refresh_token = random_token("pipalrt_");
    RefreshToken::create(
        conn,
        &hash(&refresh_token),
        user.id,
        client_id,
        scope,
        now,
        now + Duration::days(settings.refresh_token_days.max(1)),
    )?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: lifetime.num_seconds(),
        refresh_token,
        scope: scope.to_owned(),
    })
}

/// The `authorization_code` grant.
pub fn exchange_code(
    conn: &mut DbConnection,
    code: &str,
    redirect_uri: Option<&str>,
    client_id: Option<&str>,
    code_verifier: Option<&str>,
    settings: &OidcSettings,
    now: NaiveDateTime,
) -> Result<TokenResponse, OAuthError> {
    // Redeemed on its own, committed: a failed exchange spends the code too, so a stolen code
    // cannot be tried against many verifiers.
    let grant = AuthorizationCode::redeem(conn, &hash(code), now)?
        .ok_or_else(|| OAuthError::new("invalid_grant", "the code is unknown, used or expired"))?;
    write_transaction(conn, |conn| {
        if redirect_uri.is_some_and(|uri| uri != grant.redirect_uri) {
            return Err(OAuthError::new(
                "invalid_grant",
                "redirect_uri does not match the authorization request",
            ));
        }
        if client_id.is_some_and(|id| id != grant.client_id) {
            return Err(OAuthError::new(
                "invalid_grant",
                "the code was issued to another client",
            ));
        }
        if let Some(challenge) = &grant.code_challenge {
            let verifier = code_verifier
                .ok_or_else(|| OAuthError::new("invalid_grant", "code_verifier is required"))?;
            let computed = match grant.code_challenge_method.as_deref() {
                Some("S256") => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
                _ => verifier.to_owned(),
            };
            if &computed != challenge {
                return Err(OAuthError::new(
                    "invalid_grant",
                    "code_verifier does not match",
                ));
            }
        }
        let user = User::by_id(conn, grant.user_id)?;
        issue_tokens(conn, &user, &grant.client_id, &grant.scope, settings, now)
    })
}

/// The `refresh_token` grant: the old refresh token is spent and a new pair issued.
pub fn refresh(
    conn: &mut DbConnection,
    refresh_token: &str,
    client_id: Option<&str>,
    settings: &OidcSettings,
    now: NaiveDateTime,
) -> Result<TokenResponse, OAuthError> {
    write_transaction(conn, |conn| {
        let grant = RefreshToken::redeem(conn, &hash(refresh_token), now)?.ok_or_else(|| {
            OAuthError::new(
                "invalid_grant",
                "the refresh token is unknown, used or expired",
            )
        })?;
        if client_id.is_some_and(|id| id != grant.client_id) {
            return Err(OAuthError::new(
                "invalid_grant",
                "the refresh token was issued to another client",
            ));
        }
        let user = User::by_id(conn, grant.user_id)?;
        issue_tokens(conn, &user, &grant.client_id, &grant.scope, settings, now)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_oob_loopback_or_configured() {
        let mut settings = OidcSettings::default();
        assert_eq!(
            check_redirect_uri(OOB_REDIRECT_URI, &settings),
            Ok(Redirect::OutOfBand)
        );
        assert!(matches!(
            check_redirect_uri("http://localhost:45678/auth", &settings),
            Ok(Redirect::Uri(_))
        ));
        assert!(matches!(
            check_redirect_uri("http://127.0.0.1:9/cb", &settings),
            Ok(Redirect::Uri(_))
        ));
        assert!(check_redirect_uri("https://evil.example.org/cb", &settings).is_err());
        assert!(check_redirect_uri("http://localhost.evil.org/cb", &settings).is_err());
        settings.redirect_uris = vec!["https://app.example.org/cb".into()];
        assert!(check_redirect_uri("https://app.example.org/cb", &settings).is_ok());
    }

    #[test]
    fn states_are_url_safe() {
        assert!(check_state("abc-DEF_1.2~").is_ok());
        assert!(check_state("<script>").is_err());
    }
}
