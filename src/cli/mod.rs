//! The `pipal` command line: parses arguments, loads the settings and runs a subcommand.
//! Errors end up as one line on stderr and a non-zero exit status (see `main.rs`).

mod accounts;
mod buildsys;
mod import;
mod koji;
mod odcs;
mod outbox;
mod package;
mod push;
mod release;
pub mod serve;

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{LogFormat, Settings};
use crate::db::Db;

#[derive(Debug, Parser)]
#[command(
    name = "pipal",
    version,
    about = "Pipal: a Bodhi-compatible update manager with a database-backed masher"
)]
pub struct Cli {
    /// Configuration file (TOML); without one, Pipal runs on its embedded defaults.
    #[arg(long, global = true, env = "PIPAL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log format, overriding `log.format`.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormatArg>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web UI and the API (and run the worker unless --no-worker).
    Serve(serve::ServeArgs),
    /// Run the worker alone: jobs and composes, no HTTP.
    Worker,
    /// Apply pending database migrations.
    Migrate,
    /// Print the effective configuration, with secrets masked.
    CheckConfig,
    /// Manage users and their API tokens.
    #[command(subcommand)]
    User(accounts::UserCommand),
    /// Manage groups.
    #[command(subcommand)]
    Group(accounts::GroupCommand),
    /// Manage releases.
    #[command(subcommand)]
    Release(Box<release::ReleaseCommand>),
    /// Manage packages and who may edit their updates.
    #[command(subcommand)]
    Package(package::PackageCommand),
    /// Work with the local build system: import RPMs, tag and untag builds.
    #[command(subcommand)]
    Buildsys(buildsys::BuildsysCommand),
    /// Check the configured Koji hub.
    #[command(subcommand)]
    Koji(koji::KojiCommand),
    /// Fill the database with demo releases, users, builds and updates.
    Demo,
    /// Start composes of the updates with requests (Bodhi's bodhi-push), or resume failed ones.
    Push(push::PushArgs),
    /// Show the composes in flight and the latest finished ones.
    Composes(push::ComposesArgs),
    /// Inspect the outbox (bus messages, mails, Bugzilla changes) and retry failed entries.
    #[command(subcommand)]
    Outbox(outbox::OutboxCommand),
    /// On-demand composes: temporary repositories of a tag, builds or updates.
    Odcs(odcs::OdcsArgs),
    /// Import another update system's database (Bodhi).
    #[command(subcommand)]
    Import(import::ImportCommand),
}

/// What every subcommand gets: the loaded settings.
pub struct Context {
    pub settings: Settings,
}

impl Context {
    /// Opens the database, applying pending migrations when `database.migrate_on_start` is
    /// on; otherwise refuses to work on an unmigrated database.
    pub fn open_db(&self) -> anyhow::Result<Db> {
        let db = Db::connect(&self.settings.database)?;
        let mut conn = db.conn()?;
        let pending = crate::db::migrate::pending(&mut conn)?;
        if !pending.is_empty() {
            if !self.settings.database.migrate_on_start {
                bail!(
                    "the database needs {} migration(s): run `pipal migrate`",
                    pending.len()
                );
            }
            crate::db::migrate::run_pending(&mut conn)?;
            tracing::info!(applied = pending.len(), "applied pending migrations");
        }
        Ok(db)
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Some(format) = cli.log_format {
        settings.log.format = match format {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        };
    }
    crate::telemetry::init(settings.log.format, &settings.log.level);
    let ctx = Context { settings };
    match cli.command {
        Command::Serve(args) => serve::serve(ctx, args),
        Command::Worker => serve::worker_only(ctx),
        Command::Push(args) => push::push(ctx, args),
        Command::Composes(args) => push::composes(ctx, args),
        Command::Outbox(command) => outbox::run(&ctx, command),
        Command::Odcs(args) => odcs::run(&ctx, args),
        Command::Import(command) => import::run(&ctx, command),
        Command::Migrate => migrate(&ctx),
        Command::CheckConfig => {
            print!("{}", ctx.settings.to_masked_toml()?);
            Ok(())
        }
        Command::User(command) => accounts::run_user(&ctx, command),
        Command::Group(command) => accounts::run_group(&ctx, command),
        Command::Release(command) => release::run(&ctx, *command),
        Command::Package(command) => package::run(&ctx, command),
        Command::Buildsys(command) => buildsys::run(&ctx, command),
        Command::Koji(command) => koji::run(&ctx, command),
        Command::Demo => {
            let db = ctx.open_db()?;
            crate::demo::run(&db, &ctx.settings, &mut std::io::stdout())
        }
    }
}

fn migrate(ctx: &Context) -> anyhow::Result<()> {
    let db = Db::connect(&ctx.settings.database)?;
    let applied = db.migrate().context("cannot migrate the database")?;
    if applied.is_empty() {
        println!("The database is up to date.");
    } else {
        for name in &applied {
            println!("applied {name}");
        }
    }
    Ok(())
}

/// Reads one line (a password) from stdin, without its line ending.
pub(crate) fn read_stdin_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read from stdin")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Splits a comma-separated list, dropping empty items.
pub(crate) fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
