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
    let email = user.email.as_deref().unwrap_or("default").to_lowercase();
    format!(
        "https://seccdn.libravatar.org/avatar/{}?s=24&d=retro",
        hex::encode(Sha256::digest(email.as_bytes()))
    )
}
