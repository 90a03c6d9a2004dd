//! Who may do what with on-demand composes (ODCS's `admins` and `allowed_clients` roles):
//! admins anything; a client, named by user or by one of its groups, may create and renew
//! composes within its limits. Any one of a user's client entries allowing the whole request
//! is enough.

use super::error::{OdcsError, OdcsResult};
use super::request::ComposeRequest;
use super::settings::{ClientLimits, OdcsSettings};
use crate::services::accounts::CurrentUser;

pub fn is_admin(settings: &OdcsSettings, user: &CurrentUser) -> bool {
    settings.admins.users.iter().any(|u| u == user.name())
        || settings.admins.groups.iter().any(|g| user.in_group(g))
}

/// The client entries that name the user, by name first, then by group.
fn clients<'a>(settings: &'a OdcsSettings, user: &CurrentUser) -> Vec<&'a ClientLimits> {
    let clients = &settings.allowed_clients;
    clients
        .users
        .get(user.name())
        .into_iter()
        .chain(
            clients
                .groups
                .iter()
                .filter(|(group, _)| user.in_group(group))
                .map(|(_, limits)| limits),
        )
        .collect()
}

/// May the user renew composes (ODCS: the `allowed_clients` role)?
pub fn check_client(settings: &OdcsSettings, user: &CurrentUser) -> OdcsResult<()> {
    if is_admin(settings, user) || !clients(settings, user).is_empty() {
        Ok(())
    } else {
        Err(OdcsError::forbidden(format!(
            "User {} is not in role allowed_clients.",
            user.name()
        )))
    }
}

/// May the user ask for this compose?
pub fn check_create(
    settings: &OdcsSettings,
    user: &CurrentUser,
    request: &ComposeRequest,
) -> OdcsResult<()> {
    if is_admin(settings, user) {
        return Ok(());
    }
    check_client(settings, user)?;
    let mut first_refusal = None;
    for limits in clients(settings, user) {
        match refusal(settings, limits, request) {
            None => return Ok(()),
            Some((attr, value)) => {
                first_refusal.get_or_insert((attr, value));
            }
        }
    }
    let (attr, value) = first_refusal.unwrap_or(("source_types", String::new()));
    Err(OdcsError::forbidden(format!(
        "User {} not allowed to operate with compose with {attr}={value}.",
        user.name()
    )))
}

/// One limit: the attribute, what the client may ask for (None: anything), what it asks.
type Check<'a> = (&'static str, Option<&'a Vec<String>>, Vec<String>);

/// The first attribute of the request the client's limits do not allow, with the value.
fn refusal(
    settings: &OdcsSettings,
    limits: &ClientLimits,
    request: &ComposeRequest,
) -> Option<(&'static str, String)> {
    let default_source_types = ["tag", "build", "update"].map(str::to_owned).to_vec();
    let checks: [Check<'_>; 5] = [
        (
            "source_types",
            Some(
                limits
                    .source_types
                    .as_ref()
                    .unwrap_or(&default_source_types),
            ),
            vec![request.source_type.name().to_owned()],
        ),
        ("sources", limits.sources.as_ref(), sources_of(request)),
        (
            "arches",
            Some(limits.arches.as_ref().unwrap_or(&settings.arches)),
            request.arches.clone(),
        ),
        ("flags", limits.flags.as_ref(), request.flags.clone()),
        (
            "compose_types",
            limits.compose_types.as_ref(),
            vec![request.compose_type.clone()],
        ),
    ];
    for (attr, allowed, wanted) in checks {
        // No list, or ODCS's `[""]`: anything goes.
        let Some(allowed) = allowed.filter(|a| !a.iter().any(String::is_empty)) else {
            continue;
        };
        if let Some(value) = wanted.iter().find(|w| !allowed.contains(w)) {
            return Some((attr, value.clone()));
        }
    }
    None
}

/// What `sources` limits: the tag, the aliases, or the NVRs of a build compose.
fn sources_of(request: &ComposeRequest) -> Vec<String> {
    let mut sources = request.source.clone();
    sources.extend(request.builds.iter().flatten().cloned());
    sources
}
