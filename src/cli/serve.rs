//! `pipal serve` and `pipal worker`: the long-running processes, with a clean shutdown on
//! SIGINT or SIGTERM.

use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use tokio::sync::watch;

use super::Context;
use crate::masher::Masher;
use crate::state::AppState;
use crate::worker::Worker;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, overriding `server.listen` (e.g. 0.0.0.0:8080).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// Serve HTTP only; leave jobs and composes to `pipal worker` processes.
    #[arg(long)]
    pub no_worker: bool,
}

pub fn serve(mut ctx: Context, args: ServeArgs) -> anyhow::Result<()> {
    if let Some(listen) = args.listen {
        ctx.settings.server.listen = listen;
    }
    let addr = ctx.settings.listen_addr()?;
    let db = ctx.open_db()?;
    prepare_directories(&ctx)?;
    let state = AppState::new(db, ctx.settings)?;
    actix_web::rt::System::new().block_on(run_server(state, addr, !args.no_worker))
}

pub fn worker_only(ctx: Context) -> anyhow::Result<()> {
    let db = ctx.open_db()?;
    prepare_directories(&ctx)?;
    let state = AppState::new(db, ctx.settings)?;
    actix_web::rt::System::new().block_on(async move {
        let (stop, stopped) = watch::channel(false);
        let background = spawn_background(&state, &stopped)?;
        wait_for_shutdown_signal().await?;
        tracing::info!("shutting down");
        let _ = stop.send(true);
        join_background(background).await
    })
}

/// Starts what runs next to (or instead of) the HTTP server: the job worker, one masher loop
/// per compose that may run at once (none when `masher.enabled` is off), the outbox's
/// delivery, and the buildsys.tag consumer when a broker is set.
pub fn spawn_background(
    state: &AppState,
    stopped: &watch::Receiver<bool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut tasks = vec![tokio::spawn(
        Arc::new(Worker::with_all_handlers(state.clone())).run(stopped.clone()),
    )];
    let mashers = if state.settings.masher.enabled {
        state.settings.masher.max_concurrent_composes.max(1)
    } else {
        tracing::info!("masher.enabled is off: this node runs no composes");
        0
    };
    for _ in 0..mashers {
        tasks.push(tokio::spawn(
            Arc::new(Masher::new(state.clone())).run(stopped.clone()),
        ));
    }
    let notifier = crate::notify::Notifier::new(state.clone())?;
    tasks.push(tokio::spawn(Arc::new(notifier).run(stopped.clone())));
    let events = state.settings.buildsys.events.clone();
    if !events.amqp_url.is_empty() {
        tasks.push(tokio::spawn(crate::buildsys::events::consume_tag_events(
            state.db.clone(),
            events,
            stopped.clone(),
        )));
    }
    Ok(tasks)
}

async fn join_background(tasks: Vec<tokio::task::JoinHandle<()>>) -> anyhow::Result<()> {
    for task in tasks {
        task.await.context("a background task failed")?;
    }
    Ok(())
}

fn prepare_directories(ctx: &Context) -> anyhow::Result<()> {
    let root = &ctx.settings.buildsys.local.root;
    std::fs::create_dir_all(root).with_context(|| {
        format!(
            "cannot create the build system directory {}",
            root.display()
        )
    })
}

async fn run_server(
    state: AppState,
    addr: std::net::SocketAddr,
    with_worker: bool,
) -> anyhow::Result<()> {
    let workers = match state.settings.server.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let app_state = state.clone();
    let server = actix_web::HttpServer::new(move || crate::web::app(app_state.clone()))
        .workers(workers)
        .disable_signals()
        .bind(addr)
        .with_context(|| format!("cannot listen on {addr}"))?;
    for bound in server.addrs() {
        tracing::info!("listening on http://{bound}/");
    }
    let server = server.run();
    let handle = server.handle();
    let server_task = actix_web::rt::spawn(server);

    let (stop, stopped) = watch::channel(false);
    let background = if with_worker {
        spawn_background(&state, &stopped)?
    } else {
        Vec::new()
    };

    wait_for_shutdown_signal().await?;
    tracing::info!("shutting down");
    let _ = stop.send(true);
    handle.stop(true).await;
    server_task
        .await
        .context("the HTTP server task failed")?
        .context("the HTTP server failed")?;
    join_background(background).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_shutdown_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    Ok(())
}
