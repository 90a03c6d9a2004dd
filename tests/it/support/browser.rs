//! A real browser for the UI tests: Pipal served on loopback as `pipal serve` runs it (the
//! HTTP server, the job worker, the mashers and the outbox), Debian's chromedriver on a free
//! port, and headless Chromium driven over WebDriver (fantoccini). Screenshots go to
//! `target/screenshots/`.
//!
//! The tests run when chromedriver is installed; CI sets `PIPAL_TEST_BROWSER=1` so that a
//! missing browser fails instead of skipping.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use pipal::state::AppState;
use serde_json::json;
use tokio::sync::watch;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Whether the browser tests can run here; panics when CI asked for them and they cannot.
pub fn available() -> bool {
    let required = std::env::var("PIPAL_TEST_BROWSER").is_ok_and(|v| v == "1");
    let present =
        std::path::Path::new(CHROMEDRIVER).is_file() && std::path::Path::new(CHROMIUM).is_file();
    if !present {
        assert!(
            !required,
            "PIPAL_TEST_BROWSER=1 but chromium or chromedriver is missing"
        );
        eprintln!("browser test skipped: install chromium and chromium-driver");
    }
    present
}

/// Pipal serving on a loopback port with its background work, until dropped.
pub struct RunningPipal {
    pub base: String,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningPipal {
    /// Serves `state` on `listener` (whose address `state.settings.server.base_address` must
    /// name, so that the pages' links come back here).
    pub fn start(state: AppState, listener: TcpListener) -> RunningPipal {
        let base = state.settings.base_address();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let app_state = state.clone();
                let server = actix_web::HttpServer::new(move || pipal::web::app(app_state.clone()))
                    .workers(2)
                    .disable_signals()
                    .listen(listener)
                    .expect("listen")
                    .run();
                let handle = server.handle();
                let serving = actix_web::rt::spawn(server);
                let (stop, stopped) = watch::channel(false);
                let background =
                    pipal::cli::serve::spawn_background(&state, &stopped).expect("background");
                ready_tx.send(()).expect("ready");
                // The test thread says when to stop.
                let _ = actix_web::rt::task::spawn_blocking(move || stop_rx.recv()).await;
                let _ = stop.send(true);
                for task in background {
                    let _ = task.await;
                }
                handle.stop(true).await;
                let _ = serving.await;
            });
        });
        ready_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("Pipal started");
        RunningPipal {
            base,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for RunningPipal {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A free loopback port, bound.
pub fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind a loopback port")
}

/// chromedriver and a headless Chromium session, closed when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    shots: PathBuf,
}

impl Browser {
    pub async fn start(test: &str) -> Browser {
        let port = listener().local_addr().expect("a port").port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("a profile directory");
        // As the machine's notes say: without the background-networking switches Chromium
        // tries the closed network at every start.
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                // chromedriver takes a moment to listen.
                Err(error) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let _ = error;
                }
                Err(error) => panic!("cannot start a browser session: {error}"),
            }
        };
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("target/screenshots")
            .join(test);
        std::fs::create_dir_all(&shots).expect("the screenshot directory");
        Browser {
            client,
            driver,
            _profile: profile,
            shots,
        }
    }

    /// Saves what the browser shows as `NAME.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("save the screenshot");
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Types `text` into the field that `css` finds.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("click");
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
    }

    /// Waits up to `seconds` for `css` to appear (the page's own script redraws it).
    pub async fn wait_for(&self, css: &str, seconds: u64) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(seconds))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear within {seconds} s: {e}"))
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    pub async fn source(&self) -> String {
        self.client.source().await.expect("the page source")
    }

    pub async fn log_in(&self, base: &str, user: &str, password: &str) {
        self.goto(&format!("{base}login")).await;
        self.fill("#username", user).await;
        self.fill("#password", password).await;
        self.click("form button[type=submit]").await;
        self.find("a[href$='logout']").await;
    }

    pub async fn log_out(&self, base: &str) {
        self.goto(&format!("{base}logout")).await;
        self.find("a[href*='login']").await;
    }

    /// Ends the session and stops chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
