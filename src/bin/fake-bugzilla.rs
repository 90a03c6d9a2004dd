//! `fake-bugzilla`: runs the fake Bugzilla (see `pipal::fakebugzilla`).

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use pipal::fakebugzilla::{BugzillaConfig, FakeBug, FakeBugzilla, server};

/// A Bugzilla-compatible XML-RPC server with its bugs in memory, for tests and demos.
#[derive(Parser)]
#[command(name = "fake-bugzilla", version)]
struct Options {
    /// Address to listen on; the endpoint is http://ADDR/xmlrpc.cgi.
    #[arg(long, default_value = "127.0.0.1:8181")]
    listen: String,
    /// The API key callers must present to change bugs; none: anyone may.
    #[arg(long)]
    api_key: Option<String>,
    /// A JSON file with a list of bugs: {"id", "summary", "status", "product", "component",
    /// "keywords", "cf_fixed_in", "private"}.
    #[arg(long)]
    bugs: Option<PathBuf>,
    /// Make up unknown bugs (product Fedora, status NEW) instead of answering fault 101.
    #[arg(long)]
    auto_create: bool,
    /// Append every change as a JSON line to this file.
    #[arg(long)]
    log: Option<PathBuf>,
}

fn main() {
    if let Err(e) = run(Options::parse()) {
        eprintln!("fake-bugzilla: {e:#}");
        std::process::exit(1);
    }
}

fn run(options: Options) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let bugs: Vec<FakeBug> = match &options.bugs {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
            serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: not a list of bugs: {e}", path.display()))?
        }
        None => Vec::new(),
    };
    let bugzilla = Arc::new(FakeBugzilla::new(BugzillaConfig {
        api_key: options.api_key,
        login: None,
        auto_create: options.auto_create,
        bugs,
        log: options.log,
    }));
    let listener = TcpListener::bind(&options.listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", options.listen))?;
    eprintln!(
        "fake-bugzilla: listening on http://{}/xmlrpc.cgi",
        listener.local_addr()?
    );
    actix_web::rt::System::new().block_on(server::serve(bugzilla, listener))?;
    Ok(())
}
