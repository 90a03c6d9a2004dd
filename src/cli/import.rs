//! `pipal import bodhi`: moves a Bodhi site's data into Pipal (see docs/operations.md,
//! "Migrating from Bodhi").

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::Context;
use crate::import::bodhi::{self, ImportOptions};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a Bodhi database (26.x or 8.x): users, releases, updates, comments, overrides,
    /// composes. Run it again to bring over what changed since.
    Bodhi(BodhiArgs),
}

#[derive(Debug, Args)]
pub struct BodhiArgs {
    /// Bodhi's PostgreSQL database, e.g. postgresql://bodhi@db.example.com/bodhi.
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// Read and check everything, write nothing, print what would change.
    #[arg(long)]
    pub dry_run: bool,
    /// Rows per read and per transaction (at most 10,000: a batch's keys are one query's
    /// parameters, and SQLite takes 32,766).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch: u32,
    /// Do not draw progress on stderr.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(ctx: &Context, command: ImportCommand) -> anyhow::Result<()> {
    match command {
        ImportCommand::Bodhi(args) => import_bodhi(ctx, args),
    }
}

fn import_bodhi(ctx: &Context, args: BodhiArgs) -> anyhow::Result<()> {
    let db = ctx.open_db()?;
    let mut conn = db.conn()?;
    let system_user = ctx
        .settings
        .accounts
        .system_users
        .first()
        .cloned()
        .context(
            "accounts.system_users is empty: Bodhi's user `bodhi` needs a Pipal system user",
        )?;
    let options = ImportOptions {
        from: args.from,
        batch: args.batch,
        dry_run: args.dry_run,
        system_user,
        progress: !args.quiet,
    };
    let summary = bodhi::import(&mut conn, &options)?;
    print!("{summary}");
    Ok(())
}
