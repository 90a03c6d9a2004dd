//! The pages, driven as a browser without JavaScript drives them: `Accept: text/html`, the
//! session and login cookies, forms posted form-encoded with their CSRF token.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use serde_json::json;

use crate::support::http::{Reply, send};
use crate::support::world::{World, get, post_ok, show, submit};

const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// A browser's cookie jar and the requests it makes.
#[derive(Default)]
struct Browser {
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn keep_cookies(&mut self, reply: &Reply) {
        for (name, value) in reply.cookies() {
            self.cookies.retain(|(n, _)| *n != name);
            if !value.is_empty() {
                self.cookies.push((name, value));
            }
        }
    }

    fn with_cookies(&self, mut request: TestRequest) -> TestRequest {
        for (name, value) in &self.cookies {
            request = request.cookie(actix_web::cookie::Cookie::new(name.clone(), value.clone()));
        }
        request.insert_header(("Accept", HTML))
    }

    async fn get<S, B>(&mut self, app: &S, path: &str) -> Reply
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let reply = send(app, self.with_cookies(TestRequest::get().uri(path))).await;
        self.keep_cookies(&reply);
        reply
    }

    async fn post<S, B>(&mut self, app: &S, path: &str, form: &[(&str, &str)]) -> Reply
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let body = serde_urlencoded::to_string(form).expect("a form");
        let request = TestRequest::post()
            .uri(path)
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(body);
        let reply = send(app, self.with_cookies(request)).await;
        self.keep_cookies(&reply);
        reply
    }

    /// Logs in through the login form.
    async fn log_in<S, B>(&mut self, app: &S, user: &str)
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let form = self.get(app, "/login").await;
        let csrf = csrf_of(&form.text());
        let reply = self
            .post(
                app,
                "/login",
                &[
                    ("username", user),
                    ("password", "secret-password"),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert_eq!(reply.status, 302, "{}", reply.text());
    }
}

/// The comment id at the end of a redirect to `#comment-N`.
fn location_id(location: &str) -> &str {
    location.rsplit("#comment-").next().unwrap_or_default()
}

/// The CSRF token a page's forms carry.
fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).expect("a form with a CSRF token") + marker.len();
    page[start..].split('"').next().expect("a token").to_owned()
}

#[actix_web::test]
async fn browsers_get_pages_and_api_clients_get_json_on_the_same_urls() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let mut browser = Browser::default();

    let list = browser.get(&app, "/updates/").await;
    assert_eq!(list.status, 200);
    assert!(
        list.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let html = list.text();
    assert!(html.contains(&format!("updates/{alias}\">")), "{html}");
    assert!(html.contains("nano-8.2-1.fc44"));
    assert!(html.contains("1 update."));

    let json = get(&app, "/updates/").await;
    assert_eq!(json.json()["total"], 1);

    let page = browser.get(&app, &format!("/updates/{alias}")).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("Fixes a crash when saving."), "the notes");
    assert!(html.contains("Builds (1)"));
    assert!(html.contains("pending → testing"), "the status and request");
    assert!(
        html.contains("Log in</a> to add a comment"),
        "anonymous users are asked to log in"
    );
    assert!(!html.contains("id=\"comment-form\""));
    assert_eq!(show(&app, &alias).await["alias"], alias.as_str());

    // Unknown pages and updates are pages too; the API keeps its envelope.
    let missing = browser.get(&app, "/updates/FEDORA-2026-0000000000").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing
            .text()
            .contains("There is no update FEDORA-2026-0000000000.")
    );
    assert!(missing.text().contains("<html"));
    let nowhere = browser.get(&app, "/no/such/page").await;
    assert_eq!(nowhere.status, 404);
    assert!(
        nowhere
            .text()
            .contains("The resource /no/such/page could not be found.")
    );
    let api = get(&app, "/updates/FEDORA-2026-0000000000").await;
    assert_eq!(api.status, 404);
    assert_eq!(api.json()["status"], "error");
}

#[actix_web::test]
async fn the_list_filters_and_pages_like_the_api() {
    let w = World::new();
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let mut aliases = Vec::new();
    for n in 0..23 {
        let nvr = format!("nano-8.{n}-1.fc44");
        w.candidate(&nvr);
        aliases.push(submit(&app, &w, "alice", &[&nvr]).await);
    }
    let security = {
        w.candidate("vim-9.1-1.fc44");
        let body = post_ok(
            &app,
            w.token("alice"),
            "/updates/",
            json!({"builds": ["vim-9.1-1.fc44"], "type": "security", "severity": "high",
                   "notes": "Fixes CVE-2026-0001."}),
        )
        .await;
        body["alias"].as_str().unwrap().to_owned()
    };
    let mut browser = Browser::default();

    // An empty field of the filter form means "any".
    let only_security = browser
        .get(
            &app,
            "/updates/?search=&status=&type=security&severity=&releases=&user=",
        )
        .await;
    assert_eq!(only_security.status, 200, "{}", only_security.text());
    let html = only_security.text();
    assert!(html.contains(&security));
    assert!(!html.contains(&aliases[0]));
    assert!(html.contains("<option value=\"security\" selected>"));

    // 24 updates, 20 a page: the newest first, the rest on page 2, and the pager keeps the
    // filters.
    let first = browser.get(&app, "/updates/?releases=F44").await.text();
    assert!(
        first.contains(&security),
        "{security} not on page 1: {first}"
    );
    assert!(
        !first.contains(&aliases[2]),
        "{} on page 1: {first}",
        aliases[2]
    );
    assert!(
        first.contains("updates/?releases=F44&#38;page=2\""),
        "{first}"
    );
    let second = browser
        .get(&app, "/updates/?releases=F44&page=2")
        .await
        .text();
    assert!(second.contains(&aliases[0]) && second.contains(&aliases[3]));
    assert!(!second.contains(&security));

    let bad = browser.get(&app, "/updates/?status=bogus").await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.text().contains("bogus&#34; is not one of"),
        "{}",
        bad.text()
    );
}

#[actix_web::test]
async fn a_tester_comments_with_karma_from_the_update_page() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let mut bob = Browser::default();
    bob.log_in(&app, "bob").await;

    let page = bob.get(&app, &format!("/updates/{alias}")).await.text();
    assert!(page.contains("id=\"comment-form\""));
    let csrf = csrf_of(&page);

    let posted = bob
        .post(
            &app,
            "/comments/",
            &[
                ("csrf_token", &csrf),
                ("update", &alias),
                ("text", "Works **well** here."),
                ("karma", "1"),
            ],
        )
        .await;
    assert_eq!(posted.status, 303, "{}", posted.text());
    let location = posted.header("location").expect("a redirect");
    assert!(
        location.ends_with(&format!(
            "/updates/{alias}#comment-{}",
            location_id(&location)
        )),
        "{location}"
    );

    let page = bob.get(&app, &format!("/updates/{alias}")).await.text();
    assert!(
        page.contains("Works <strong>well</strong> here."),
        "markdown rendered"
    );
    assert!(
        page.contains("<span class=\"karma-up\">+1</span>"),
        "the karma"
    );
    assert_eq!(show(&app, &alias).await["karma"], 1);

    // A form posted with a stale token is refused on a page, and nothing is saved.
    let forged = bob
        .post(
            &app,
            "/comments/",
            &[
                ("csrf_token", "stale"),
                ("update", &alias),
                ("text", "Spam"),
            ],
        )
        .await;
    assert_eq!(forged.status, 400);
    assert!(forged.text().contains("<html"), "{}", forged.text());
    let comments = show(&app, &alias).await["comments"].clone();
    assert!(!comments.to_string().contains("Spam"));
}

#[actix_web::test]
async fn the_submitter_revokes_a_request_with_the_action_button() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;

    let mut tess = Browser::default();
    tess.log_in(&app, "tess").await;
    let page = tess.get(&app, &format!("/updates/{alias}")).await.text();
    assert!(
        !page.contains("value=\"revoke\""),
        "only those who may edit see the actions"
    );

    let mut alice = Browser::default();
    alice.log_in(&app, "alice").await;
    let home = alice.get(&app, "/").await.text();
    assert!(home.contains(&format!("updates/{alias}\">")), "{home}");
    assert!(home.contains("alice</a> <span class=\"muted\">1 update</span>"));
    let page = alice.get(&app, &format!("/updates/{alias}")).await.text();
    assert!(page.contains("value=\"revoke\""), "{page}");
    let csrf = csrf_of(&page);
    let revoked = alice
        .post(
            &app,
            &format!("/updates/{alias}/request"),
            &[("csrf_token", &csrf), ("request", "revoke")],
        )
        .await;
    assert_eq!(revoked.status, 303, "{}", revoked.text());
    let update = show(&app, &alias).await;
    assert_eq!(update["request"], serde_json::Value::Null);
    assert_eq!(update["status"], "unpushed");
    let home = alice.get(&app, "/").await.text();
    assert!(!home.contains(&alias), "no longer active");
}

#[actix_web::test]
async fn assets_are_served_with_long_caching_and_pages_are_private() {
    let w = World::new();
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let mut browser = Browser::default();
    let home = browser.get(&app, "/").await;
    assert_eq!(
        home.header("cache-control").as_deref(),
        Some("private, no-cache")
    );
    let html = home.text();
    let start = html
        .find("static/css/pipal.css?v=")
        .expect("the stylesheet");
    let href = html[start..].split('"').next().unwrap();

    let css = send(&app, TestRequest::get().uri(&format!("/{href}"))).await;
    assert_eq!(css.status, 200);
    assert_eq!(
        css.header("content-type").as_deref(),
        Some("text/css; charset=utf-8")
    );
    assert!(css.header("cache-control").unwrap().contains("immutable"));
    assert!(css.text().contains(".topbar"));
    let missing = send(&app, TestRequest::get().uri("/static/css/nope.css")).await;
    assert_eq!(missing.status, 404);
}

/// The text of the textarea `id` in a page.
fn textarea_of(page: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let start = page.find(&marker).expect("the field");
    let open = page[start..].find('>').expect("the tag's end") + start + 1;
    let close = page[open..]
        .find("</textarea>")
        .expect("the textarea's end")
        + open;
    page[open..close].to_owned()
}

#[actix_web::test]
async fn a_packager_creates_and_edits_an_update_with_the_form() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;

    let mut anonymous = Browser::default();
    let away = anonymous.get(&app, "/updates/new").await;
    assert_eq!(away.status, 303);
    assert!(
        away.header("location")
            .unwrap()
            .contains("login?came_from=%2Fupdates%2Fnew")
    );

    let mut alice = Browser::default();
    alice.log_in(&app, "alice").await;
    let form = alice.get(&app, "/updates/new").await.text();
    let csrf = csrf_of(&form);
    let fields = |notes: &str, kind: &str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("edited", String::new()),
            ("builds", "nano-8.2-1.fc44\n".to_owned()),
            ("from_tag", String::new()),
            ("bugs", String::new()),
            ("display_name", String::new()),
            ("notes", notes.to_owned()),
            ("type", kind.to_owned()),
            ("severity", "unspecified".to_owned()),
            ("suggest", "unspecified".to_owned()),
            ("autokarma", "false".to_owned()),
            ("stable_karma", "2".to_owned()),
            ("unstable_karma", "-3".to_owned()),
            ("autotime", "false".to_owned()),
            ("autotime", "true".to_owned()),
            ("stable_days", "7".to_owned()),
            ("close_bugs", "false".to_owned()),
            ("close_bugs", "true".to_owned()),
            ("require_bugs", "false".to_owned()),
            ("require_testcases", "false".to_owned()),
        ]
    };

    // A security update without a severity is refused, and the form keeps what was typed.
    let refused = alice
        .post(
            &app,
            "/updates/new",
            &as_refs(&fields("Fixes **CVE-2026-0002**.", "security")),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    let page = refused.text();
    assert!(page.contains("The update was not saved"), "{page}");
    assert!(page.contains("severity"), "{page}");
    assert_eq!(textarea_of(&page, "notes"), "Fixes **CVE-2026-0002**.");
    assert_eq!(textarea_of(&page, "builds"), "nano-8.2-1.fc44\n");
    assert_eq!(
        get(&app, "/updates/").await.json()["total"],
        0,
        "nothing saved"
    );

    let created = alice
        .post(
            &app,
            "/updates/new",
            &as_refs(&fields("Fixes a crash.", "bugfix")),
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.text());
    let location = created.header("location").unwrap();
    let alias = location.rsplit('/').next().unwrap().to_owned();
    let update = show(&app, &alias).await;
    assert_eq!(update["notes"], "Fixes a crash.");
    assert_eq!(update["autokarma"], false, "an unticked box is false");
    assert_eq!(update["autotime"], true, "a ticked box is true");
    assert_eq!(update["close_bugs"], true);
    assert_eq!(update["require_bugs"], false);
    assert_eq!(update["stable_karma"], 2);

    // The edit form starts from the update; saving it changes the update in place.
    let edit = alice.get(&app, &format!("/updates/{alias}/edit")).await;
    assert_eq!(edit.status, 200, "{}", edit.text());
    let page = edit.text();
    assert_eq!(textarea_of(&page, "notes"), "Fixes a crash.");
    assert!(page.contains(&format!("name=\"edited\" value=\"{alias}\"")));
    let mut changed = fields("Fixes a crash on save.", "bugfix");
    changed[1].1 = alias.clone();
    let saved = alice.post(&app, "/updates/new", &as_refs(&changed)).await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    assert_eq!(show(&app, &alias).await["notes"], "Fixes a crash on save.");

    // Someone who may not edit it gets a page saying so.
    let mut tess = Browser::default();
    tess.log_in(&app, "tess").await;
    let refused = tess.get(&app, &format!("/updates/{alias}/edit")).await;
    assert_eq!(refused.status, 400, "Bodhi's status for an ACL refusal");
    assert!(refused.text().contains("<html"));
    assert!(refused.text().contains("tess"), "{}", refused.text());
}

fn as_refs<'a>(fields: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[actix_web::test]
async fn a_release_engineer_previews_and_starts_a_push_then_watches_it() {
    let w = World::with_state(|s| s.buildsys.local.autosign_delay_secs = 0);
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let worker = pipal::worker::Worker::with_all_handlers(w.state.clone());
    worker.make_periodic_due("local_signer").unwrap();
    while worker.run_one().unwrap().is_some() {}

    let mut alice = Browser::default();
    alice.log_in(&app, "alice").await;
    let refused = alice.get(&app, "/admin/push").await;
    assert_eq!(refused.status, 403);
    assert!(refused.text().contains("may not push"));

    let mut carol = Browser::default();
    carol.log_in(&app, "carol").await;
    let form = carol.get(&app, "/admin/push").await;
    assert_eq!(form.status, 200, "{}", form.text());
    assert!(form.text().contains("value=\"F44\""));

    let preview = carol
        .get(&app, "/admin/push?preview=1&releases=F44&request=testing")
        .await
        .text();
    assert!(preview.contains("F44 testing"), "{preview}");
    assert!(preview.contains(&alias));
    assert!(preview.contains("Start 1 compose<"), "{preview}");
    assert_eq!(
        show(&app, &alias).await["locked"],
        false,
        "a preview starts nothing"
    );

    let csrf = csrf_of(&preview[preview.find("id=\"start-push\"").unwrap()..]);
    let started = carol
        .post(
            &app,
            "/composes/",
            &[
                ("csrf_token", &csrf),
                ("releases", "F44"),
                ("request", "testing"),
            ],
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.text());
    assert!(started.header("location").unwrap().ends_with("/composes/"));
    assert_eq!(show(&app, &alias).await["locked"], true);

    let composes = carol.get(&app, "/composes/").await.text();
    assert!(composes.contains("F44 testing</a>"), "{composes}");
    assert!(
        composes.contains("data-refresh=\"3\""),
        "in flight: the page refreshes"
    );
    let compose = carol.get(&app, "/composes/F44/testing").await.text();
    assert!(compose.contains("data-state=\"requested\""), "{compose}");
    assert!(compose.contains(&alias));

    let masher = pipal::masher::Masher::new(w.state.clone());
    while masher.run_one().unwrap().is_some() {}
    let compose = carol.get(&app, "/composes/F44/testing").await.text();
    assert!(compose.contains("data-state=\"success\""), "{compose}");
    assert!(!compose.contains("data-refresh"), "nothing left to watch");
    let composes = carol.get(&app, "/composes/").await.text();
    assert!(composes.contains("No compose is running."));
    assert!(composes.contains("badge-stable\">success"));
    assert_eq!(show(&app, &alias).await["status"], "testing");

    let missing = carol.get(&app, "/composes/F44/stable").await;
    assert_eq!(missing.status, 404);
}

#[actix_web::test]
async fn releases_users_and_feeds_show_what_the_api_has() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    post_ok(
        &app,
        w.token("bob"),
        "/comments/",
        json!({"update": alias, "text": "Works & *fine*.", "karma": 1}),
    )
    .await;
    let mut browser = Browser::default();

    let releases = browser.get(&app, "/releases/").await.text();
    assert!(releases.contains("Fedora 44"), "{releases}");
    assert!(
        releases.contains("releases=F44&amp;status=pending\">1</a>"),
        "{releases}"
    );
    let release = browser.get(&app, "/releases/F44").await;
    assert_eq!(release.status, 200, "{}", release.text());
    let html = release.text();
    assert!(html.contains("<svg class=\"chart\""));
    assert!(html.contains("(1 in twelve months)"), "{html}");
    assert!(html.contains(&alias));
    assert_eq!(browser.get(&app, "/releases/F99").await.status, 404);
    assert_eq!(get(&app, "/releases/F44").await.json()["name"], "F44");

    let bob = browser.get(&app, "/users/bob").await.text();
    assert!(bob.contains(&format!("{alias}#comment-")), "{bob}");
    assert!(
        !bob.contains("bob@example.org"),
        "only the user sees their address"
    );
    let alice = browser.get(&app, "/users/alice").await.text();
    assert!(alice.contains(&format!("updates/{alias}\">")), "{alice}");
    assert_eq!(browser.get(&app, "/users/nobody").await.status, 404);

    let feed = send(&app, TestRequest::get().uri("/rss/updates/?user=alice")).await;
    assert_eq!(feed.status, 200);
    assert_eq!(
        feed.header("content-type").as_deref(),
        Some("application/rss+xml; charset=utf-8")
    );
    let xml = feed.text();
    assert!(xml.contains("<title>nano-8.2-1.fc44</title>"), "{xml}");
    assert!(xml.contains(&format!("/updates/{alias}</link>")));
    let comments = send(&app, TestRequest::get().uri("/rss/comments/?user=bob"))
        .await
        .text();
    assert!(
        comments.contains("Works &#38; *fine*."),
        "escaped: {comments}"
    );
    assert!(comments.contains(&format!("<title>bob on {alias}</title>")));
    let bad = send(&app, TestRequest::get().uri("/rss/updates/?status=bogus")).await;
    assert_eq!(bad.status, 400);
}

#[actix_web::test]
async fn a_packager_requests_changes_and_expires_an_override() {
    let w = World::new();
    w.build_in("nano-8.2-1.fc44", "f44-updates-candidate");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let mut alice = Browser::default();
    alice.log_in(&app, "alice").await;
    let soon = (chrono::Utc::now() + chrono::Duration::days(10))
        .format("%Y-%m-%d")
        .to_string();

    let form = alice
        .get(&app, "/overrides/new?nvr=nano-8.2-1.fc44")
        .await
        .text();
    assert!(form.contains("value=\"nano-8.2-1.fc44\""));
    let csrf = csrf_of(&form);
    let refused = alice
        .post(
            &app,
            "/overrides/new",
            &[
                ("csrf_token", &csrf),
                ("edited", ""),
                ("nvr", "nano-8.2-1.fc44"),
                ("notes", "x"),
                ("expiration_date", &soon),
            ],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.text().contains("Shorter than minimum length 2"));
    assert!(
        refused.text().contains(&format!("value=\"{soon}\"")),
        "kept as typed"
    );

    let created = alice
        .post(
            &app,
            "/overrides/new",
            &[
                ("csrf_token", &csrf),
                ("edited", ""),
                ("nvr", "nano-8.2-1.fc44"),
                ("notes", "Needed to build vim."),
                ("expiration_date", &soon),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.text());
    let page = alice.get(&app, "/overrides/nano-8.2-1.fc44").await.text();
    assert!(page.contains("Needed to build vim."));
    assert!(
        page.contains("id=\"override-form\""),
        "its submitter may change it"
    );
    let list = alice.get(&app, "/overrides/?expired=False").await.text();
    assert!(
        list.contains("overrides/nano-8.2-1.fc44\">nano-8.2-1.fc44"),
        "{list}"
    );

    let expired = alice
        .post(
            &app,
            "/overrides/new",
            &[
                ("csrf_token", &csrf),
                ("edited", "nano-8.2-1.fc44"),
                ("nvr", "nano-8.2-1.fc44"),
                ("notes", "Needed to build vim."),
                ("expiration_date", &soon),
                ("expired", "false"),
                ("expired", "true"),
            ],
        )
        .await;
    assert_eq!(expired.status, 303, "{}", expired.text());
    let json = get(&app, "/overrides/nano-8.2-1.fc44").await.json();
    assert!(json["override"]["expired_date"].is_string(), "{json}");

    let mut bob = Browser::default();
    bob.log_in(&app, "bob").await;
    let page = bob.get(&app, "/overrides/nano-8.2-1.fc44").await.text();
    assert!(
        !page.contains("id=\"override-form\""),
        "others only read it"
    );
}

#[actix_web::test]
async fn the_latest_comments_leave_the_system_out_and_filter_like_the_api() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    w.candidate("vim-9.1-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let nano = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let vim = submit(&app, &w, "alice", &["vim-9.1-1.fc44"]).await;
    for (alias, user, text) in [
        (&nano, "bob", "Nano **works**."),
        (&vim, "pete", "Vim too."),
    ] {
        post_ok(
            &app,
            w.token(user),
            "/comments/",
            json!({"update": alias, "text": text, "karma": 1}),
        )
        .await;
    }
    let mut browser = Browser::default();
    let all = browser.get(&app, "/comments/").await.text();
    assert!(all.contains("Nano <strong>works</strong>."), "{all}");
    assert!(all.contains("Vim too."));
    assert!(
        all.contains("2 comments."),
        "the system's own are left out: {all}"
    );
    let bobs = browser
        .get(&app, "/comments/?user=bob&update_owner=")
        .await
        .text();
    assert!(bobs.contains("Nano <strong>works</strong>.") && !bobs.contains("Vim too."));
    assert!(bobs.contains(&format!("updates/{nano}#comment-")));
    let unknown = browser.get(&app, "/comments/?user=nobody").await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.text().contains("Invalid users specified: nobody"));
}

#[actix_web::test]
async fn a_user_changes_their_mail_choices_and_mutes_an_update_from_the_pages() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let mut bob = Browser::default();
    bob.log_in(&app, "bob").await;

    let page = bob.get(&app, "/users/bob/mail").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let csrf = csrf_of(&page.text());
    let saved = bob
        .post(
            &app,
            "/users/bob/mail",
            &[
                ("csrf_token", &csrf),
                ("notifications", "false"),
                ("notifications", "true"),
                ("own_comments", "false"),
                ("own_comments", "true"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    let choices = get_as(&app, &w, "bob", "/users/bob/mail").await;
    assert_eq!(choices["notifications"], true);
    assert_eq!(choices["own_comments"], true, "{choices}");

    let update = bob.get(&app, &format!("/updates/{alias}")).await.text();
    assert!(update.contains("Stop mail about this update"));
    let muted = bob
        .post(
            &app,
            &format!("/updates/{alias}/mail"),
            &[("csrf_token", &csrf), ("muted", "true")],
        )
        .await;
    assert_eq!(muted.status, 303);
    assert!(
        muted
            .header("location")
            .unwrap()
            .ends_with(&format!("/updates/{alias}"))
    );
    let update = bob.get(&app, &format!("/updates/{alias}")).await.text();
    assert!(update.contains("Resume mail about this update"));
    let page = bob.get(&app, "/users/bob/mail").await.text();
    assert!(
        page.contains(&format!("updates/{alias}/mail")),
        "an unmute button: {page}"
    );

    let others = bob.get(&app, "/users/alice/mail").await;
    assert_eq!(others.status, 403);
}

/// GET as `user` with their API token, asserting 200.
async fn get_as<S, B>(app: &S, w: &World, user: &str, path: &str) -> serde_json::Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let reply = send(
        app,
        TestRequest::get()
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {}", w.token(user)))),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}
