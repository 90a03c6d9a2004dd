//! The demo on a Koji hub (`buildsys.kind = "koji"`, meant for `fake-koji`): the demo is
//! staged in the local build system rooted at `buildsys.koji.topdir` (so the RPM files are
//! where Koji keeps them), then its tags, builds and RPMs are recreated in the hub, with the
//! buildroot tag and build target Fedora has for each release (`f43-build`, inheriting the
//! override tag, and the target `f43-candidate`) so that `koji wait-repo` works.
//!
//! Builds the hub already has are left alone: after a push the hub, not the local staging
//! copy, knows where they are. RPMs are registered with the fake-only `fake.addBuildRPM`
//! (a real hub imports builds from its builders), so a real Koji refuses the demo.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::Context;
use serde_json::json;

use crate::buildsys::koji::{KojiBuildSystem, KojiCall};
use crate::buildsys::{BuildSystem, ListTaggedOptions, LocalBuildSystem};
use crate::models::release::NewRelease;
use crate::services::releases;

/// The owner of the demo's packages in the hub (its admin, who runs the demo).
const HUB_OWNER: &str = "kojiadmin";

/// Recreates the demo's releases in the hub; returns how many changes it made.
pub fn mirror(
    local: &LocalBuildSystem,
    koji: &KojiBuildSystem,
    releases: &[NewRelease],
    out: &mut dyn Write,
) -> anyhow::Result<usize> {
    let mut changes = 0;
    let mut registered = 0;
    for release in releases {
        changes += create_tags(koji, release)?;
        let tags = releases::tags_of(release);
        let mut listed = Vec::new();
        for tag in &tags {
            listed.push((tag, local.list_tagged(tag, &ListTaggedOptions::default())?));
        }
        let packages: BTreeSet<&str> = listed
            .iter()
            .flat_map(|(_, builds)| builds.iter().map(|b| b.build.package_name.as_str()))
            .collect();
        for tag in tags.iter().chain([&build_tag(release)]) {
            for package in &packages {
                call(
                    koji,
                    KojiCall::new("packageListAdd", vec![json!(tag), json!(package)])
                        .kwarg("owner", HUB_OWNER),
                )?;
            }
        }
        // Per build: whether the mirror tags it (new to the hub, or left untagged there by
        // an interrupted run).
        let mut to_tag = std::collections::BTreeMap::new();
        for (tag, builds) in &listed {
            for tagged in builds {
                let nvr = &tagged.build.nvr;
                if !to_tag.contains_key(nvr) {
                    let tag_it = if koji.get_build(nvr)?.is_none() {
                        register_build(local, koji, &tagged.build)?;
                        registered += 1;
                        true
                    } else {
                        koji.list_tags(nvr)?.is_empty()
                    };
                    to_tag.insert(nvr.clone(), tag_it);
                }
                if to_tag[nvr] {
                    call(
                        koji,
                        KojiCall::new("tagBuildBypass", vec![json!(tag), json!(nvr)]),
                    )?;
                    changes += 1;
                }
            }
        }
    }
    if registered > 0 {
        writeln!(out, "registered {registered} builds in the Koji hub")?;
    }
    Ok(changes + registered)
}

/// The release's tags, its buildroot tag and its build target, those the hub lacks.
fn create_tags(koji: &KojiBuildSystem, release: &NewRelease) -> anyhow::Result<usize> {
    let mut created = 0;
    let mut tags: Vec<(String, Option<String>)> = releases::tags_of(release)
        .into_iter()
        .map(|tag| {
            let parent = releases::fedora_tag_parent(release, &tag).map(str::to_owned);
            (tag, parent)
        })
        .collect();
    tags.push((build_tag(release), Some(release.override_tag.clone())));
    for (tag, parent) in tags {
        if koji.get_tag(&tag)?.is_some() {
            continue;
        }
        let mut create = KojiCall::new("createTag", vec![json!(tag)]).kwarg("arches", "x86_64");
        if let Some(parent) = parent {
            create = create.kwarg("parent", parent);
        }
        call(koji, create)?;
        created += 1;
    }
    let target = format!("{}-candidate", release.dist_tag);
    let existing = call(koji, KojiCall::new("getBuildTarget", vec![json!(target)]))?;
    if existing.is_null() {
        call(
            koji,
            KojiCall::new(
                "createBuildTarget",
                vec![
                    json!(target),
                    json!(build_tag(release)),
                    json!(release.candidate_tag),
                ],
            ),
        )?;
        created += 1;
    }
    Ok(created)
}

/// Fedora's buildroot tag of a release: `f43-build`, where `koji wait-repo` looks for
/// overrides (the `bodhi` CLI waits on `<dist tag>-build`).
fn build_tag(release: &NewRelease) -> String {
    format!("{}-build", release.dist_tag)
}

fn register_build(
    local: &LocalBuildSystem,
    koji: &KojiBuildSystem,
    build: &crate::buildsys::BuildInfo,
) -> anyhow::Result<()> {
    call(
        koji,
        KojiCall::new(
            "createEmptyBuild",
            vec![
                json!(build.package_name),
                json!(build.version),
                json!(build.release),
                json!(build.epoch),
            ],
        )
        .kwarg("owner", HUB_OWNER),
    )?;
    for rpm in local.list_build_rpms(&build.nvr)? {
        call(
            koji,
            KojiCall::new("fake.addBuildRPM", vec![json!(build.nvr)])
                .kwarg("arch", rpm.arch.as_str())
                .kwarg("name", rpm.name.as_str())
                .kwarg("size", rpm.size)
                .kwarg("payloadhash", rpm.payloadhash.as_str()),
        )?;
    }
    Ok(())
}

fn call(koji: &KojiBuildSystem, call: KojiCall) -> anyhow::Result<serde_json::Value> {
    koji.client()
        .call(&call)
        .with_context(|| format!("the Koji hub refused {}", call.method))
}
