//! A user in Bodhi's JSON: `{name, email, id, avatar, openid, groups: [{name}]}`.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::JsonContext;
use crate::models::user::{Group, User};

#[derive(Debug, Clone, Serialize)]
pub struct GroupJson<'a> {
    pub name: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserJson<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub id: i32,
    pub avatar: Option<String>,
    pub openid: Option<String>,
    pub groups: Vec<GroupJson<'a>>,
}

impl<'a> UserJson<'a> {
    pub fn new(user: &'a User, groups: &'a [Group], ctx: &JsonContext<'_>) -> Self {
        let accounts = &ctx.settings.accounts;
        UserJson {
            name: &user.name,
            email: user.email.as_deref(),
            id: user.id,
            avatar: ctx.with_request.then(|| avatar(user, accounts)),
            openid: ctx
                .with_request
                .then(|| accounts.openid_template.replace("{username}", &user.name)),
            groups: groups.iter().map(|g| GroupJson { name: &g.name }).collect(),
        }
    }
}

/// Bodhi 26.4's avatar: the system user's icon, else the libravatar URL of the e-mail
/// address (`default` without one).
pub fn avatar(user: &User, accounts: &crate::config::AccountsSettings) -> String {
    if accounts.system_users.iter().any(|s| s == &user.name) {
        return "https://apps.fedoraproject.org/img/icons/bodhi-24.png".to_owned();
    }
    if !accounts.libravatar_enabled {
        return "libravatar.org".to_owned();
    }
    let email = user.email.as_deref().unwrap_or("default");
    let digest = if email.chars().any(char::is_uppercase) {
        Sha256::digest(email.to_lowercase().as_bytes())
    } else {
        Sha256::digest(email.as_bytes())
    };
    const PREFIX: &str = "https://seccdn.libravatar.org/avatar/";
    const SUFFIX: &str = "?s=24&d=retro";
    let mut url = String::with_capacity(PREFIX.len() + 64 + SUFFIX.len());
    url.push_str(PREFIX);
    for byte in digest {
        for nibble in [byte >> 4, byte & 0x0f] {
            url.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    url.push_str(SUFFIX);
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AccountsSettings;

    fn user(name: &str, email: Option<&str>) -> User {
        User {
            id: 1,
            name: name.into(),
            email: email.map(str::to_owned),
            password_hash: None,
            created_at: chrono::NaiveDateTime::default(),
        }
    }

    #[test]
    fn avatars_are_libravatar_urls_of_the_lowercased_address() {
        let accounts = AccountsSettings::default();
        let expected = "https://seccdn.libravatar.org/avatar/\
            7a64adf28737ea90719cbdf0b1a87a5effff3753b79c91d717f4f4153ead0498?s=24&d=retro";
        assert_eq!(
            avatar(&user("alice", Some("alice@example.org")), &accounts),
            expected
        );
        assert_eq!(
            avatar(&user("alice", Some("Alice@Example.ORG")), &accounts),
            expected
        );
        assert_eq!(
            avatar(&user("nobody", None), &accounts),
            "https://seccdn.libravatar.org/avatar/\
             37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f?s=24&d=retro"
        );
        assert_eq!(
            avatar(&user("bodhi", None), &accounts),
            "https://apps.fedoraproject.org/img/icons/bodhi-24.png"
        );
    }
}
