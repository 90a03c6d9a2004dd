//! `pipal push` (Bodhi's `bodhi-push`) and `pipal composes`: start composes, resume failed
//! ones, and watch them.

use std::io::{BufRead, Write};
use std::time::Duration;

use anyhow::bail;
use clap::Args;

use super::{Context, split_list};
use crate::buildsys::BuildSystem;
use crate::db::types::UpdateRequest;
use crate::db::write_transaction;
use crate::models::compose::{Compose, ComposeRecord};
use crate::models::now;
use crate::models::release::Release;
use crate::services::push::{self, PushOptions, PushPlan};
use crate::state::AppState;

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Comma-separated releases (default: every release Pipal composes that is current,
    /// pending or frozen; frozen releases' stable updates only when named).
    #[arg(long, value_name = "F44,F43")]
    releases: Option<String>,
    /// Comma-separated requests to push.
    #[arg(long, value_name = "testing,stable", default_value = "testing,stable")]
    request: String,
    /// Only these updates (comma-separated aliases).
    #[arg(long, value_name = "ALIAS,...", conflicts_with = "builds")]
    updates: Option<String>,
    /// Only the updates of these builds (comma-separated NVRs).
    #[arg(long, value_name = "NVR,...")]
    builds: Option<String>,
    /// Resume the failed composes instead of starting new ones.
    #[arg(long)]
    resume: bool,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    yes: bool,
    /// Wait for the composes to finish, showing their progress.
    #[arg(long)]
    wait: bool,
}

#[derive(Debug, Args)]
pub struct ComposesArgs {
    /// Keep refreshing until every compose has finished.
    #[arg(long)]
    watch: bool,
}

fn options(args: &PushArgs) -> anyhow::Result<PushOptions> {
    let mut requests = Vec::new();
    for request in split_list(&args.request) {
        match request.parse::<UpdateRequest>() {
            Ok(r @ (UpdateRequest::Testing | UpdateRequest::Stable)) => requests.push(r),
            _ => bail!("--request: {request} is not testing or stable"),
        }
    }
    Ok(PushOptions {
        releases: args.releases.as_deref().map(split_list).unwrap_or_default(),
        requests,
        updates: args.updates.as_deref().map(split_list).unwrap_or_default(),
        builds: args.builds.as_deref().map(split_list).unwrap_or_default(),
    })
}

fn print_plan(plan: &PushPlan) {
    for warning in &plan.warnings {
        println!("{warning}");
    }
    for compose in &plan.composes {
        println!(
            "\n===== {} {} ({}{}) =====",
            compose.release,
            compose.request,
            compose.content_type,
            if compose.security { ", security" } else { "" }
        );
        for (alias, title) in &compose.updates {
            println!("{alias}  {title}");
        }
    }
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

pub fn push(ctx: Context, args: PushArgs) -> anyhow::Result<()> {
    let db = ctx.open_db()?;
    let state = AppState::new(db, ctx.settings)?;
    let mut conn = state.db.conn()?;
    let started: Vec<i32> = if args.resume {
        let failed: Vec<Compose> = Compose::list(&mut conn)?
            .into_iter()
            .filter(|c| c.state == crate::db::types::ComposeState::Failed)
            .collect();
        if failed.is_empty() {
            println!("No failed compose to resume.");
            return Ok(());
        }
        for compose in &failed {
            let release = Release::by_id(&mut conn, compose.release_id)?;
            println!(
                "{} {}: {}",
                release.name,
                compose.request,
                compose.error_message.as_deref().unwrap_or("failed")
            );
        }
        if !args.yes && !confirm("Resume these composes?")? {
            bail!("not resumed");
        }
        let resumed = write_transaction(&mut conn, |conn| push::resume_failed(conn, now()))?;
        resumed.iter().map(|c| c.id).collect()
    } else {
        let options = options(&args)?;
        let buildsys: &dyn BuildSystem = state.buildsys.as_ref();
        let plan = push::plan(&mut conn, buildsys, &options)?;
        print_plan(&plan);
        if plan.composes.is_empty() {
            println!("Nothing to push.");
            return Ok(());
        }
        let count: usize = plan.composes.iter().map(|c| c.updates.len()).sum();
        if !args.yes
            && !confirm(&format!(
                "\nPush {count} update(s) in {} compose(s)?",
                plan.composes.len()
            ))?
        {
            bail!("not pushed");
        }
        let composes = write_transaction(&mut conn, |conn| push::start(conn, &plan, now()))?;
        println!(
            "Started {} compose(s); the masher of `pipal serve` or `pipal worker` runs them.",
            composes.len()
        );
        composes.iter().map(|c| c.id).collect()
    };
    if args.wait {
        wait_for(&state, &started)?;
    }
    Ok(())
}

/// Prints each compose's state as it changes until none of `ids` is running.
fn wait_for(state: &AppState, ids: &[i32]) -> anyhow::Result<()> {
    let mut shown: Vec<(i32, String)> = Vec::new();
    let failed = loop {
        let mut conn = state.db.conn()?;
        let live: Vec<Compose> = Compose::list(&mut conn)?
            .into_iter()
            .filter(|c| ids.contains(&c.id))
            .collect();
        for compose in &live {
            let line = compose_line(&mut conn, compose)?;
            if !shown.iter().any(|(id, l)| *id == compose.id && *l == line) {
                println!("{line}");
                shown.retain(|(id, _)| *id != compose.id);
                shown.push((compose.id, line));
            }
        }
        let running = live
            .iter()
            .filter(|c| c.state != crate::db::types::ComposeState::Failed)
            .count();
        if running == 0 {
            break live.len();
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let finished = ids.len() - failed;
    println!("{finished} compose(s) finished, {failed} failed");
    if failed > 0 {
        bail!("{failed} compose(s) failed: see `pipal composes`, then `pipal push --resume`");
    }
    Ok(())
}

fn compose_line(conn: &mut crate::db::DbConnection, compose: &Compose) -> anyhow::Result<String> {
    let release = Release::by_id(conn, compose.release_id)?;
    let age = (now() - compose.date_created).num_seconds();
    let (done, total, mut updates) = crate::masher::work::progress(compose);
    if updates == 0 {
        // Not started yet: the updates it will take are those locked for it.
        use crate::db::schema::updates as u;
        use diesel::prelude::*;
        let locked: i64 = u::table
            .filter(u::release_id.eq(compose.release_id))
            .filter(u::request.eq(compose.request))
            .filter(u::locked.eq(true))
            .count()
            .get_result(conn)?;
        updates = usize::try_from(locked).unwrap_or_default();
    }
    let width = 10;
    let filled = (done * width).checked_div(total).unwrap_or(0);
    let bar = format!("[{}{}]", "#".repeat(filled), ".".repeat(width - filled));
    let mut line = format!(
        "{:<8} {:<8} {:<14} {:>6}s  {bar} {done}/{total}  {updates:>4} update(s)  attempt {}",
        release.name, compose.request, compose.state, age, compose.attempts
    );
    if let Some(error) = &compose.error_message {
        line.push_str(&format!("  error: {error}"));
    }
    Ok(line)
}

/// `pipal composes`: composes in flight, then the latest finished ones.
pub fn composes(ctx: Context, args: ComposesArgs) -> anyhow::Result<()> {
    let db = ctx.open_db()?;
    loop {
        let mut conn = db.conn()?;
        let live = Compose::list(&mut conn)?;
        println!(
            "{:<8} {:<8} {:<14} {:>7}  PROGRESS",
            "RELEASE", "REQUEST", "STATE", "AGE"
        );
        for compose in &live {
            println!("{}", compose_line(&mut conn, compose)?);
        }
        if live.is_empty() {
            println!("(no compose in flight)");
        }
        println!("\nRecently finished:");
        for record in ComposeRecord::recent(&mut conn, 10)? {
            let release = Release::by_id(&mut conn, record.release_id)?;
            println!(
                "{:<8} {:<8} {:<8} {}  {}",
                release.name,
                record.request,
                record.final_state,
                record.date_finished.format("%Y-%m-%d %H:%M:%S"),
                record.error_message.as_deref().unwrap_or("")
            );
        }
        if !args.watch || live.is_empty() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(2));
        println!();
    }
}
