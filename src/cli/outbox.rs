//! `pipal outbox`: what waits to be delivered (bus messages, mails, Bugzilla changes), what
//! failed for good and why, and putting failed entries back in the queue.

use anyhow::bail;
use clap::Subcommand;

use super::Context;
use crate::db::types::OutboxState;
use crate::models::outbox::OutboxEntry;

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List entries: pending and failed ones by default.
    List {
        /// Only entries in this state: pending, failed, delivered or all.
        #[arg(long)]
        state: Option<String>,
        /// At most this many, oldest first.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Queue failed entries again, due now with their attempts reset.
    Retry {
        /// The entries' ids.
        #[arg(required_unless_present = "all_failed", conflicts_with = "all_failed")]
        ids: Vec<i32>,
        /// Every failed entry.
        #[arg(long)]
        all_failed: bool,
    },
}

pub fn run(ctx: &Context, command: OutboxCommand) -> anyhow::Result<()> {
    let db = ctx.open_db()?;
    let mut conn = db.conn()?;
    match command {
        OutboxCommand::List { state, limit } => {
            let states = match state.as_deref() {
                None => vec![OutboxState::Pending, OutboxState::Failed],
                Some("all") => vec![
                    OutboxState::Pending,
                    OutboxState::Failed,
                    OutboxState::Delivered,
                ],
                Some(name) => match name.parse::<OutboxState>() {
                    Ok(state) => vec![state],
                    Err(_) => bail!("--state: {name} is not pending, failed, delivered or all"),
                },
            };
            let entries = OutboxEntry::list(&mut conn, &states, limit)?;
            println!(
                "{:>6}  {:<7}  {:<9}  {:>8}  {:<19}  KEY / LAST ERROR",
                "ID", "KIND", "STATE", "ATTEMPTS", "NEXT OR DELIVERED"
            );
            for entry in &entries {
                let when = entry.delivered_at.unwrap_or(entry.next_attempt_at);
                println!(
                    "{:>6}  {:<7}  {:<9}  {:>8}  {:<19}  {}",
                    entry.id,
                    entry.kind.to_string(),
                    entry.state.to_string(),
                    entry.attempts,
                    when.format("%Y-%m-%d %H:%M:%S"),
                    entry.dedup_key
                );
                if let Some(error) = &entry.last_error {
                    println!("{:>62}{error}", "");
                }
            }
            if entries.is_empty() {
                println!("(nothing)");
            }
        }
        OutboxCommand::Retry { ids, all_failed } => {
            let ids = (!all_failed).then_some(ids.as_slice());
            let queued = OutboxEntry::retry(&mut conn, ids, crate::models::now())?;
            println!(
                "queued {queued} failed entr{} again",
                if queued == 1 { "y" } else { "ies" }
            );
        }
    }
    Ok(())
}
