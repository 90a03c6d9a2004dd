//! Accounts: users with argon2 password hashes, group memberships, and API tokens (random,
//! shown once, stored as a SHA-256 hash, labelled, revocable, with a last-used time).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::NaiveDateTime;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::{DbConnection, write_transaction};
use crate::error::{AppError, AppResult};
use crate::models::user::{ApiToken, Group, NewApiToken, NewUser, User};

/// An authenticated user with the names of their groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub user: User,
    pub groups: Vec<String>,
}

impl CurrentUser {
    pub fn name(&self) -> &str {
        &self.user.name
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    pub fn in_any(&self, groups: &[String]) -> bool {
        groups.iter().any(|g| self.in_group(g))
    }
}

/// Every API token starts with this, so that a leaked one is easy to recognise.
pub const TOKEN_PREFIX: &str = "pipal_";
pub const MIN_PASSWORD_LENGTH: usize = 8;

/// Bodhi's user and group names are at most 64 characters; Pipal also keeps them to the
/// characters that are safe in URLs and mail headers.
pub fn validate_name(kind: &str, name: &str) -> AppResult<()> {
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if name.is_empty() || name.len() > 64 || !valid_chars || !starts_well {
        return Err(AppError::invalid(
            "body",
            kind,
            format!(
                "Invalid {kind} name `{name}`: use 1 to 64 letters, digits, `.`, `_` or `-`, \
                 starting with a letter or digit"
            ),
        ));
    }
    Ok(())
}

fn validate_email(email: &str) -> AppResult<()> {
    let valid = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c == '<' || c == '>');
    if valid {
        Ok(())
    } else {
        Err(AppError::invalid(
            "body",
            "email",
            format!("Invalid email address `{email}`"),
        ))
    }
}

pub fn hash_password(password: &str) -> AppResult<String> {
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(AppError::invalid(
            "body",
            "password",
            format!("The password must be at least {MIN_PASSWORD_LENGTH} characters long"),
        ));
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches the stored argon2 hash. A malformed hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The hash under which a token is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// What is needed to create a user.
#[derive(Debug, Clone, Default)]
pub struct UserSpec<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub groups: &'a [String],
    pub password: Option<&'a str>,
}

/// Creates a user with its group memberships (groups are created as needed).
pub fn create_user(
    conn: &mut DbConnection,
    spec: &UserSpec<'_>,
    now: NaiveDateTime,
) -> AppResult<User> {
    validate_name("user", spec.name)?;
    if let Some(email) = spec.email {
        validate_email(email)?;
    }
    for group in spec.groups {
        validate_name("group", group)?;
    }
    let password_hash = spec.password.map(hash_password).transpose()?;
    write_transaction(conn, |conn| {
        if User::by_name(conn, spec.name)?.is_some() {
            return Err(AppError::Conflict(format!(
                "user `{}` already exists",
                spec.name
            )));
        }
        let user = User::create(
            conn,
            &NewUser {
                name: spec.name,
                email: spec.email,
                password_hash: password_hash.as_deref(),
                created_at: now,
            },
        )?;
        for group in spec.groups {
            let (group, _) = Group::ensure(conn, group)?;
            Group::add_member(conn, group.id, user.id)?;
        }
        Ok(user)
    })
}

/// Sets (or with `None`, removes) a user's password.
pub fn set_password(conn: &mut DbConnection, name: &str, password: Option<&str>) -> AppResult<()> {
    let hash = password.map(hash_password).transpose()?;
    let user = existing_user(conn, name)?;
    User::set_password_hash(conn, user.id, hash.as_deref())?;
    Ok(())
}

/// The user whose name and password match, if any.
pub fn check_password(
    conn: &mut DbConnection,
    name: &str,
    password: &str,
) -> AppResult<Option<User>> {
    let Some(user) = User::by_name(conn, name)? else {
        return Ok(None);
    };
    let matches = user
        .password_hash
        .as_deref()
        .is_some_and(|hash| verify_password(hash, password));
    Ok(matches.then_some(user))
}

/// Issues a new API token for the user and returns it; only its hash is stored.
pub fn issue_token(
    conn: &mut DbConnection,
    user_name: &str,
    label: &str,
    expires_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> AppResult<String> {
    let user = existing_user(conn, user_name)?;
    let token = new_token();
    ApiToken::create(
        conn,
        &NewApiToken {
            user_id: user.id,
            label,
            token_hash: &token_hash(&token),
            created_at: now,
            expires_at,
        },
    )?;
    Ok(token)
}

/// The user a token belongs to, if the token is valid; records when it was used.
pub fn user_for_token(
    conn: &mut DbConnection,
    token: &str,
    now: NaiveDateTime,
) -> AppResult<Option<User>> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let Some(api_token) = ApiToken::find_usable(conn, &token_hash(token), now)? else {
        return Ok(None);
    };
    ApiToken::touch(conn, api_token.id, now)?;
    Ok(Some(User::by_id(conn, api_token.user_id)?))
}

/// Adds the user to the groups (created as needed); returns the groups newly joined.
pub fn add_to_groups(
    conn: &mut DbConnection,
    user_name: &str,
    groups: &[String],
) -> AppResult<Vec<String>> {
    for group in groups {
        validate_name("group", group)?;
    }
    write_transaction(conn, |conn| {
        let user = existing_user(conn, user_name)?;
        let mut joined = Vec::new();
        for name in groups {
            let (group, _) = Group::ensure(conn, name)?;
            if Group::add_member(conn, group.id, user.id)? {
                joined.push(name.clone());
            }
        }
        Ok(joined)
    })
}

pub fn existing_user(conn: &mut DbConnection, name: &str) -> AppResult<User> {
    User::by_name(conn, name)?
        .ok_or_else(|| AppError::not_found("body", "name", format!("No such user: {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2"));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "wrong horse"));
        assert!(!verify_password("not a hash", "correct horse"));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(validate_name("user", "alice").is_ok());
        assert!(validate_name("user", "a.b_c-1").is_ok());
        assert!(validate_name("user", "").is_err());
        assert!(validate_name("user", "-alice").is_err());
        assert!(validate_name("user", "al ice").is_err());
        assert!(validate_name("user", &"a".repeat(65)).is_err());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
