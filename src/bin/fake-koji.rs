//! `fake-koji`: runs the fake Koji hub (see `pipal::fakekoji`).

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use pipal::fakekoji::{BusConfig, FaultRule, Hub, HubConfig, TaskTiming, server};
use pipal::xmlrpc::Fault;

/// A Koji-compatible XML-RPC hub with its state in memory, for tests and demos.
#[derive(Parser)]
#[command(name = "fake-koji", version)]
struct Options {
    /// Address to listen on; the endpoint is http://ADDR/kojihub.
    #[arg(long, default_value = "127.0.0.1:8180")]
    listen: String,
    /// Load the state from this JSON file and write it back after every change.
    #[arg(long)]
    snapshot: Option<PathBuf>,
    #[arg(long, default_value = "kojiadmin")]
    admin_user: String,
    #[arg(long, default_value = "kojiadmin")]
    admin_password: String,
    /// Milliseconds before a tagBuild/moveBuild task runs.
    #[arg(long, default_value_t = 0)]
    task_delay_ms: u64,
    /// Run tasks only when `fake.runTasks` is called.
    #[arg(long)]
    manual_tasks: bool,
    /// The user sslLogin authenticates (as if it were the client certificate's CN).
    #[arg(long)]
    ssl_user: Option<String>,
    /// Fail the Nth call with a GenericError.
    #[arg(long)]
    fail_call: Option<u64>,
    /// Fail every call of this method with a GenericError.
    #[arg(long)]
    fail_method: Option<String>,
    /// Fail calls naming this build, and its tag tasks.
    #[arg(long)]
    fail_build: Option<String>,
    /// Publish buildsys.tag/buildsys.untag messages to this AMQP broker
    /// (e.g. amqp://guest:guest@127.0.0.1:5672/%2f).
    #[arg(long)]
    amqp_url: Option<String>,
    /// The exchange the messages go to.
    #[arg(long, default_value = "amq.topic")]
    amqp_exchange: String,
    /// Prepended to the topics: PREFIX.buildsys.tag.
    #[arg(long, default_value = "org.fedoraproject.dev")]
    topic_prefix: String,
    /// Milliseconds each call takes (each entry of a multicall), as on a loaded hub.
    #[arg(long, default_value_t = 0)]
    call_latency_ms: u64,
}

fn main() {
    if let Err(e) = run(Options::parse()) {
        eprintln!("fake-koji: {e:#}");
        std::process::exit(1);
    }
}

fn run(options: Options) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let hub = Arc::new(Hub::new(HubConfig {
        admin_user: options.admin_user,
        admin_password: options.admin_password,
        tasks: TaskTiming {
            delay: Duration::from_millis(options.task_delay_ms),
            manual: options.manual_tasks,
        },
        snapshot: options.snapshot,
        ssl_user: options.ssl_user,
        call_latency: Duration::from_millis(options.call_latency_ms),
        bus: options.amqp_url.map(|amqp_url| BusConfig {
            amqp_url,
            exchange: options.amqp_exchange,
            topic_prefix: options.topic_prefix,
        }),
    })?);
    let injected = |method: Option<String>, nth: Option<u64>, build: Option<String>| FaultRule {
        method,
        nth,
        build,
        fault: Fault::new(1000, "injected fault"),
        remaining: None,
    };
    if let Some(nth) = options.fail_call {
        hub.inject(injected(None, Some(nth), None));
    }
    if let Some(method) = options.fail_method {
        hub.inject(injected(Some(method), None, None));
    }
    if let Some(build) = options.fail_build {
        hub.inject(injected(None, None, Some(build)));
    }
    let listener = TcpListener::bind(&options.listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", options.listen))?;
    eprintln!(
        "fake-koji: listening on http://{}/kojihub",
        listener.local_addr()?
    );
    actix_web::rt::System::new().block_on(server::serve(hub, listener))?;
    Ok(())
}
