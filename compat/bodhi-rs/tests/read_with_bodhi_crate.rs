//! The `bodhi` crate from crates.io, a client written against the real Bodhi, reads Pipal's
//! updates, releases, builds, comments, overrides, users, packages and composes without a
//! deserialisation error.
//!
//! The test runs the `pipal` binary (`PIPAL_BIN`, default `../../target/debug/pipal`): `pipal
//! demo` into a scratch SQLite database, then `pipal serve` on a free port.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bodhi::*;

fn pipal_binary() -> PathBuf {
    let path = std::env::var_os("PIPAL_BIN").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/pipal"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "no pipal binary at {} (run `cargo build` at the top, or set PIPAL_BIN)",
        path.display()
    );
    path
}

/// A `pipal` command against the scratch directory's database and build system.
fn pipal(dir: &Path) -> Command {
    let mut command = Command::new(pipal_binary());
    command
        .current_dir(dir)
        .env(
            "PIPAL__DATABASE__URL",
            format!("sqlite://{}", dir.join("pipal.db").display()),
        )
        .env("PIPAL__BUILDSYS__LOCAL__ROOT", dir.join("koji"))
        .env("RUST_LOG", "warn");
    command
}

/// `pipal serve`, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port()
}

/// Whether `GET /healthz/ready` answers 200.
fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let request = "GET /healthz/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let mut response = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut response).is_ok()
        && response.starts_with("HTTP/1.1 200")
}

fn serve(dir: &Path) -> Server {
    let demo = pipal(dir).arg("demo").output().expect("run pipal demo");
    assert!(
        demo.status.success(),
        "pipal demo failed: {}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let port = free_port();
    let child = pipal(dir)
        .args([
            "serve",
            "--no-worker",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start pipal serve");
    let mut server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready(port) {
        if let Some(status) = server.child.try_wait().expect("server status") {
            panic!("pipal serve exited: {status}");
        }
        assert!(Instant::now() < deadline, "pipal serve did not get ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    server.port = port;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bodhi_crate_reads_everything_pipal_serves() {
    let dir = tempfile::tempdir().expect("scratch directory");
    let server = serve(dir.path());
    let base = format!("http://127.0.0.1:{}/", server.port);
    let client = BodhiClientBuilder::custom(base.clone(), format!("{base}oidc/"))
        .retries(0)
        .timeout(Duration::from_secs(30))
        .build()
        .await
        .expect("a client");

    let updates: Vec<Update> = client
        .paginated_request(&UpdateQuery::new())
        .await
        .expect("updates");
    assert!(updates.len() >= 4, "the demo's updates: {}", updates.len());
    for update in &updates {
        let one: Update = client
            .request(&UpdateIDQuery::new(&update.alias))
            .await
            .unwrap_or_else(|e| panic!("update {}: {e}", update.alias));
        assert_eq!(one.alias, update.alias);
        assert!(!one.builds.is_empty());
    }
    let f43 = FedoraRelease::try_from("F43").expect("a release name");
    let in_f43: Vec<Update> = client
        .paginated_request(&UpdateQuery::new().releases(&[f43]))
        .await
        .expect("updates of F43");
    assert!(!in_f43.is_empty());

    let releases: Vec<Release> = client
        .paginated_request(&ReleaseQuery::new())
        .await
        .expect("releases");
    let names: Vec<String> = releases.iter().map(|r| r.name.to_string()).collect();
    assert!(names.contains(&"F43".to_owned()) && names.contains(&"F44".to_owned()));
    let release: Release = client
        .request(&ReleaseNameQuery::new("F44"))
        .await
        .expect("release F44");
    assert_eq!(release.candidate_tag, "f44-updates-candidate");

    let builds: Vec<Build> = client
        .paginated_request(&BuildQuery::new())
        .await
        .expect("builds");
    assert!(!builds.is_empty());
    let build: Build = client
        .request(&BuildNVRQuery::new(&builds[0].nvr))
        .await
        .expect("one build");
    assert_eq!(build.nvr, builds[0].nvr);

    let comments: Vec<Comment> = client
        .paginated_request(&CommentQuery::new())
        .await
        .expect("comments");
    assert!(!comments.is_empty());
    let comment: Comment = client
        .request(&CommentIDQuery::new(comments[0].id))
        .await
        .expect("one comment");
    assert_eq!(comment.id, comments[0].id);

    let overrides: Vec<Override> = client
        .paginated_request(&OverrideQuery::new())
        .await
        .expect("overrides");
    assert_eq!(overrides.len(), 1, "the demo's override");
    let one: Override = client
        .request(&OverrideNVRQuery::new(&overrides[0].nvr))
        .await
        .expect("one override");
    assert_eq!(one.nvr, "libfrob-1.4.1-1.fc43");

    let users: Vec<User> = client
        .paginated_request(&UserQuery::new())
        .await
        .expect("users");
    assert!(users.iter().any(|u| u.name == "alice"));
    let alice: User = client
        .request(&UserNameQuery::new("alice"))
        .await
        .expect("alice");
    assert_eq!(alice.name, "alice");

    let packages: Vec<Package> = client
        .paginated_request(&PackageQuery::new())
        .await
        .expect("packages");
    assert!(!packages.is_empty());

    let composes: Vec<Compose> = client
        .request(&ComposeQuery::new())
        .await
        .expect("composes");
    assert!(composes.is_empty(), "no push has run");

    let missing = client
        .request(&UpdateIDQuery::new("FEDORA-2026-0000000000"))
        .await;
    assert!(matches!(missing, Err(QueryError::NotFound)), "{missing:?}");
}
