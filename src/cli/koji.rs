//! `pipal koji`: checks of the configured Koji hub.

use clap::Subcommand;

use super::Context;
use crate::buildsys::BuildSystem;
use crate::buildsys::koji::{KojiBuildSystem, KojiCall};
use crate::db::types::ReleaseState;
use crate::models::release::Release;

#[derive(Debug, Subcommand)]
pub enum KojiCommand {
    /// Log in to the hub, print its version, and say which tags of each active release exist.
    Check,
}

pub fn run(ctx: &Context, command: KojiCommand) -> anyhow::Result<()> {
    match command {
        KojiCommand::Check => check(ctx),
    }
}

fn check(ctx: &Context) -> anyhow::Result<()> {
    let settings = &ctx.settings.buildsys.koji;
    let koji = KojiBuildSystem::from_settings(settings)?;
    let client = koji.client();
    client
        .login()
        .map_err(|e| anyhow::anyhow!("cannot log in to {}: {e}", client.url()))?;
    let user = client.call(&KojiCall::new("getLoggedInUser", vec![]))?;
    let api = client.call(&KojiCall::new("getAPIVersion", vec![]))?;
    println!(
        "hub {}: Koji {} (API {api}), logged in as {}",
        client.url(),
        client
            .hub_version()
            .as_deref()
            .unwrap_or("of unknown version"),
        user.get("name")
            .and_then(|n| n.as_str())
            .unwrap_or("nobody (anonymous)")
    );
    let db = ctx.open_db()?;
    let mut conn = db.conn()?;
    let mut missing_total = 0;
    for release in Release::list(&mut conn)?
        .iter()
        .filter(|r| r.state != ReleaseState::Archived)
    {
        let mut present = Vec::new();
        let mut missing = Vec::new();
        for tag in release_tags(release) {
            if koji.get_tag(tag)?.is_some() {
                present.push(tag);
            } else {
                missing.push(tag);
            }
        }
        missing_total += missing.len();
        println!(
            "{}: {} tag(s) present{}{}",
            release.name,
            present.len(),
            if missing.is_empty() {
                ""
            } else {
                ", missing: "
            },
            missing.join(", ")
        );
    }
    let _ = client.logout();
    if missing_total > 0 {
        anyhow::bail!("{missing_total} tag(s) missing in Koji");
    }
    Ok(())
}

fn release_tags(release: &Release) -> Vec<&str> {
    let mut tags: Vec<&str> = [
        &release.dist_tag,
        &release.stable_tag,
        &release.testing_tag,
        &release.candidate_tag,
        &release.pending_signing_tag,
        &release.pending_testing_tag,
        &release.pending_stable_tag,
        &release.override_tag,
    ]
    .into_iter()
    .map(String::as_str)
    .filter(|t| !t.is_empty())
    .collect();
    tags.dedup();
    tags
}
