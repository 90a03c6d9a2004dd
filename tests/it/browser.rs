//! The web UI in headless Chromium (issue 7): a packager creates an update, a tester gives it
//! karma, a release engineer pushes it from the admin page and watches the compose finish,
//! all through the pages, with Pipal serving on loopback as `pipal serve` does. Screenshots
//! of each step are written to `target/screenshots/a_push_in_the_browser/`.

use crate::support::browser::{self, Browser, RunningPipal};
use pipal::db::types::UpdateStatus;
use pipal::models::update::Update;

use crate::support::world::World;

const PASSWORD: &str = "secret-password";

#[actix_web::test]
async fn a_push_in_the_browser() {
    if !browser::available() {
        return;
    }
    let listener = browser::listener();
    let port = listener.local_addr().expect("an address").port();
    let w = World::with_state(|s| {
        s.buildsys.local.autosign_delay_secs = 0;
        s.server.base_address = format!("http://127.0.0.1:{port}/");
        s.masher.poll_interval_ms = 200;
    });
    w.candidate("nano-8.2-1.fc44");
    let pipal = RunningPipal::start(w.state.clone(), listener);
    let base = pipal.base.clone();
    let b = Browser::start("a_push_in_the_browser").await;

    // A packager logs in and creates an update with the form.
    b.log_in(&base, "alice", PASSWORD).await;
    b.screenshot("01-dashboard").await;
    b.goto(&format!("{base}updates/new")).await;
    b.fill("#builds", "nano-8.2-1.fc44").await;
    b.fill("#notes", "Fixes the **crash** when saving.").await;
    b.click("input[name=type][value=bugfix]").await;
    b.screenshot("02-new-update").await;
    b.click("#update-form button[type=submit]").await;
    b.wait_for(".update-head .badge-pending", 10).await;
    let url = b.client.current_url().await.expect("a URL");
    let alias = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .expect("the update's alias")
        .to_owned();
    assert!(alias.starts_with("FEDORA-"), "{url}");
    assert!(
        b.source()
            .await
            .contains("Fixes the <strong>crash</strong> when saving.")
    );
    b.screenshot("03-update").await;

    // The search box suggests the package and the update as one types.
    b.fill("#search", "nano").await;
    b.wait_for(
        &format!("#search-suggestions a[href$='updates/{alias}']"),
        10,
    )
    .await;
    b.wait_for("#search-suggestions a[href$='updates/?packages=nano']", 10)
        .await;
    b.screenshot("03b-search").await;
    b.log_out(&base).await;

    // A tester comments with karma.
    b.log_in(&base, "bob", PASSWORD).await;
    b.goto(&format!("{base}updates/{alias}")).await;
    b.fill("#comment-text", "Works for me.").await;
    b.click("input[name=karma][value='1']").await;
    b.click("#comment-form button[type=submit]").await;
    b.wait_for(".comment .karma-up", 10).await;
    assert_eq!(b.text("#karma .karma-up").await, "+1");
    b.screenshot("04-commented").await;
    b.log_out(&base).await;

    // The signer signs the build (the worker's job does it every few seconds anyway).
    let worker = pipal::worker::Worker::with_all_handlers(w.state.clone());
    worker
        .make_periodic_due("local_signer")
        .expect("signer due");
    while worker.run_one().expect("a job").is_some() {}

    // A release engineer previews the push, starts it and watches the compose finish.
    b.log_in(&base, "carol", PASSWORD).await;
    b.goto(&format!("{base}admin/push")).await;
    b.click("input[name=releases][value=F44]").await;
    b.click("input[name=request][value=testing]").await;
    b.click("form.card button[type=submit]").await;
    b.wait_for("#start-push", 10).await;
    assert!(
        b.source().await.contains(&alias),
        "the preview lists the update"
    );
    b.screenshot("05-push-preview").await;
    b.click("#start-push button").await;
    b.wait_for("#live", 10).await;
    b.screenshot("06-composes").await;
    b.goto(&format!("{base}composes/F44/testing")).await;
    // The page redraws itself from the database until the compose is done.
    b.wait_for("[data-state=success]", 90).await;
    b.screenshot("07-compose-finished").await;

    b.goto(&format!("{base}updates/{alias}")).await;
    assert_eq!(b.text(".update-head .badge-testing").await, "testing");
    b.screenshot("08-update-in-testing").await;
    let update = Update::by_alias(&mut w.db.conn(), &alias)
        .expect("a query")
        .expect("the update");
    assert_eq!(update.status, UpdateStatus::Testing);
    b.close().await;
    drop(pipal);
}
