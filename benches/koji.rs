//! The Koji client benchmark (issue 4): how long Pipal takes to tag many builds through
//! fake-koji over HTTP, in multicall batches (as a push does) and one build at a time, and how
//! long reconciling a pending-testing tag takes.
//!
//!     cargo bench --bench koji -- [--builds 1000] [--batch 100]
//!
//! fake-koji runs in-process on loopback; its tasks complete at the next poll. The figures
//! are the client's and the hub's work together, so they bound what Pipal adds to a real hub.

use std::time::Instant;

use pipal::buildsys::koji::{KojiBuildSystem, KojiCall};
use pipal::buildsys::{BuildSystem, ListTaggedOptions, TagOp};
use pipal::config::KojiSettings;
use pipal::fakekoji::{HubConfig, RunningHub};
use serde_json::{Value, json};

fn main() -> anyhow::Result<()> {
    let mut builds = 1000usize;
    let mut batch = 100usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || -> anyhow::Result<usize> {
            Ok(args
                .next()
                .ok_or_else(|| anyhow::anyhow!("{arg} needs a value"))?
                .parse()?)
        };
        match arg.as_str() {
            "--builds" => builds = value()?,
            "--batch" => batch = value()?,
            "--bench" => {}
            other => anyhow::bail!("unknown option {other}"),
        }
    }
    let hub = RunningHub::start(HubConfig::default())?;
    let settings = KojiSettings {
        url: hub.url(),
        task_poll_ms: 10,
        multicall_batch: batch,
        ..KojiSettings::default()
    };
    let koji = KojiBuildSystem::from_settings(&settings)?;
    let call = |method: &str, args: Vec<Value>| koji.client().call(&KojiCall::new(method, args));
    for tag in ["f44", "f44-updates-testing", "f44-one-by-one"] {
        call("createTag", vec![json!(tag)])?;
        call("packageListAdd", vec![json!(tag), json!("pkg")])?;
    }
    let nvrs: Vec<String> = (0..builds).map(|i| format!("pkg-1.{i}-1.fc44")).collect();
    for (i, nvr) in nvrs.iter().enumerate() {
        call(
            "createEmptyBuild",
            vec![
                json!("pkg"),
                json!(format!("1.{i}")),
                json!("1.fc44"),
                Value::Null,
            ],
        )?;
        call("tagBuildBypass", vec![json!("f44"), json!(nvr)])?;
    }

    let ops: Vec<TagOp> = nvrs
        .iter()
        .map(|nvr| TagOp::tag("f44-updates-testing", nvr))
        .collect();
    let started = Instant::now();
    let failed = koji
        .apply_batch(&ops, "bench")
        .into_iter()
        .filter(Result::is_err)
        .count();
    let batched = started.elapsed();
    anyhow::ensure!(failed == 0, "{failed} batched tag operations failed");

    let sample = nvrs.len().min(200);
    let started = Instant::now();
    for nvr in &nvrs[..sample] {
        koji.tag_build("f44-one-by-one", nvr, "bench")?;
    }
    let one_by_one = started.elapsed();

    let started = Instant::now();
    let listed = koji.list_tagged("f44-updates-testing", &ListTaggedOptions::default())?;
    let listing = started.elapsed();
    anyhow::ensure!(listed.len() == builds, "listTagged found {}", listed.len());

    let per_build = |d: std::time::Duration, n: usize| d.as_secs_f64() * 1000.0 / n as f64;
    println!("| operation | builds | total | per build |");
    println!("|---|---:|---:|---:|");
    println!(
        "| tagBuild in multicalls of {batch}, tasks polled together | {builds} | {:.2} s | {:.2} ms |",
        batched.as_secs_f64(),
        per_build(batched, builds)
    );
    println!(
        "| tagBuild one at a time (a task each, polled until done) | {sample} | {:.2} s | {:.2} ms |",
        one_by_one.as_secs_f64(),
        per_build(one_by_one, sample)
    );
    println!(
        "| listTagged of the tag (what reconcile reads) | {builds} | {:.1} ms | {:.3} ms |",
        listing.as_secs_f64() * 1000.0,
        per_build(listing, builds)
    );
    Ok(())
}
