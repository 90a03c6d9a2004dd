//! On-demand composes (issue 8): ODCS's API over the demo's build system. A tag compose
//! reaches done with a repository dnf reads and is reused while its tag stays the same; build
//! and update composes hold exactly their builds; renew, cancel, expiry and permissions behave
//! as ODCS's do; every state change is a message; `pipal odcs` drives a running server.

use std::path::{Path, PathBuf};

use actix_web::test::{self, TestRequest};
use pipal::db::types::OutboxState;
use pipal::models::now;
use pipal::models::odcs::OdcsCompose;
use pipal::models::outbox::OutboxEntry;
use pipal::services::accounts;
use pipal::state::AppState;
use pipal::worker::Worker;
use serde_json::{Value, json};

use crate::repos::{demo_with, validate_with_dnf};
use crate::support::http::{Reply, send};
use crate::support::{TestDb, ok, stderr};

const TAG: &str = "f43-updates";

struct Odcs {
    _db: TestDb,
    state: AppState,
}

impl Odcs {
    fn new() -> Odcs {
        Self::with(|_| {})
    }

    fn with(adjust: impl FnOnce(&mut pipal::config::Settings)) -> Odcs {
        let (db, state) = demo_with(adjust);
        Odcs { _db: db, state }
    }

    fn token(&self, user: &str) -> String {
        let mut conn = self.state.db.conn().unwrap();
        accounts::issue_token(&mut conn, user, "odcs tests", None, now()).unwrap()
    }

    /// Runs every due job (generations included) until none is left.
    fn run_jobs(&self) {
        let worker = Worker::with_all_handlers(self.state.clone());
        while worker.run_one().unwrap().is_some() {}
    }

    fn cleanup(&self) {
        pipal::odcs::generate::cleanup(&self.state).unwrap();
    }

    fn compose(&self, id: i64) -> OdcsCompose {
        let mut conn = self.state.db.conn().unwrap();
        OdcsCompose::by_id(&mut conn, id as i32).unwrap().unwrap()
    }

    fn directory(&self, id: i64) -> PathBuf {
        self.state
            .settings
            .odcs
            .target_dir
            .join(format!("odcs-{id}"))
    }

    /// The message bodies of `odcs.compose.state-changed` for compose `id`, in order.
    fn messages(&self, id: i64) -> Vec<Value> {
        let mut conn = self.state.db.conn().unwrap();
        OutboxEntry::list(&mut conn, &[OutboxState::Pending], 10_000)
            .unwrap()
            .into_iter()
            .map(|e| serde_json::from_str::<Value>(&e.payload).unwrap())
            .filter(|p| p["topic"] == "odcs.compose.state-changed")
            .map(|p| p["body"].clone())
            .filter(|b| b["compose"]["id"] == id)
            .collect()
    }

    fn age(&self, id: i64) {
        let mut conn = self.state.db.conn().unwrap();
        let mut compose = OdcsCompose::by_id(&mut conn, id as i32).unwrap().unwrap();
        compose.time_to_expire = now() - chrono::Duration::seconds(1);
        compose.save(&mut conn).unwrap();
    }
}

async fn call<S, B>(
    app: &S,
    method: &str,
    token: Option<&str>,
    path: &str,
    body: Option<Value>,
) -> Reply
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut request = match method {
        "POST" => TestRequest::post(),
        "PATCH" => TestRequest::patch(),
        "DELETE" => TestRequest::delete(),
        _ => TestRequest::get(),
    }
    .uri(path);
    if let Some(token) = token {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    if let Some(body) = body {
        request = request.set_json(body);
    }
    send(app, request).await
}

fn tag_request() -> Value {
    json!({"source": {"type": "tag", "source": TAG}})
}

/// Package names in a repository's primary metadata.
fn package_names(repo: &Path) -> Vec<String> {
    let primary = std::fs::read_dir(repo.join("repodata"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().contains("-primary.xml"))
        .expect("primary");
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(primary.path()).unwrap()),
        &mut text,
    )
    .unwrap();
    let mut names: Vec<String> = text
        .split("<name>")
        .skip(1)
        .filter_map(|rest| rest.split("</name>").next())
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

fn rpm_count(dir: &Path) -> usize {
    walk(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rpm"))
        .count()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[actix_web::test]
async fn a_tag_compose_is_done_dnf_reads_it_and_an_identical_one_reuses_it() {
    let odcs = Odcs::new();
    let app = test::init_service(pipal::web::app(odcs.state.clone())).await;
    let alice = odcs.token("alice");

    let reply = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(tag_request()),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let created = reply.json();
    assert_eq!(created["state_name"], "wait");
    assert_eq!(created["owner"], "alice");
    assert_eq!(created["source_type"], 1);
    assert_eq!(created["arches"], "x86_64");
    let id = created["id"].as_i64().unwrap();

    odcs.run_jobs();
    let done = call(&app, "GET", None, &format!("/api/1/composes/{id}"), None)
        .await
        .json();
    assert_eq!(done["state_name"], "done", "{done}");
    assert_eq!(done["state_reason"], "Compose is generated successfully");
    assert!(done["time_done"].is_string() && done["time_started"].is_string());
    assert!(done["koji_event"].is_number());
    let result_repo = done["result_repo"].as_str().unwrap();
    assert!(
        result_repo.ends_with(&format!("/odcs/odcs-{id}/compose/Temporary")),
        "{result_repo}"
    );

    let results = odcs.directory(id).join("compose/Temporary");
    let repo = results.join("x86_64/os");
    assert!(package_names(&repo).contains(&"hello".to_owned()));
    validate_with_dnf(&repo, rpm_count(&repo.join("Packages")));
    let repofile = std::fs::read_to_string(results.join(format!("odcs-{id}.repo"))).unwrap();
    assert!(
        repofile.starts_with(&format!("[odcs-{id}]\n")),
        "{repofile}"
    );
    assert!(repofile.contains(&format!("baseurl={result_repo}/$basearch/os\n")));
    assert!(repofile.contains(&format!("[odcs-{id}-source]")));

    // Pipal serves the repository at the compose's URL.
    let path = format!("/odcs/odcs-{id}/compose/Temporary/x86_64/os/repodata/repomd.xml");
    let served = call(&app, "GET", None, &path, None).await;
    assert_eq!(served.status, 200);
    assert!(served.text().contains("<repomd"));

    let states: Vec<Value> = odcs
        .messages(id)
        .iter()
        .map(|m| m["compose"]["state_name"].clone())
        .collect();
    assert_eq!(states, [json!("wait"), json!("generating"), json!("done")]);
    assert!(
        odcs.messages(id)
            .iter()
            .all(|m| m["event"] == "state-changed")
    );

    // The same request while the tag is unchanged shares the repository.
    let again = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(tag_request()),
    )
    .await
    .json();
    let second = again["id"].as_i64().unwrap();
    odcs.run_jobs();
    let reused = odcs.compose(second);
    assert_eq!(reused.reused_id, Some(id as i32));
    let shown = call(
        &app,
        "GET",
        None,
        &format!("/api/1/composes/{second}"),
        None,
    )
    .await
    .json();
    assert_eq!(shown["state_name"], "done");
    assert_eq!(shown["result_repo"], done["result_repo"]);
    assert!(!odcs.directory(second).exists());

    // no_reuse asks for a repository of its own.
    let mut own = tag_request();
    own["flags"] = json!(["no_reuse"]);
    let own = call(&app, "POST", Some(&alice), "/api/1/composes/", Some(own))
        .await
        .json();
    let third = own["id"].as_i64().unwrap();
    odcs.run_jobs();
    assert_eq!(odcs.compose(third).reused_id, None);
    assert!(
        odcs.directory(third)
            .join("compose/Temporary/x86_64/os/repodata")
            .is_dir()
    );

    // A change of the tag's content: the next compose is generated again, without the build
    // that left the tag.
    let local = pipal::buildsys::LocalBuildSystem::new(
        odcs.state.db.clone(),
        odcs.state.settings.buildsys.local.root.clone(),
    );
    let nvr = "hello-2.12.1-1.fc43";
    let file_of = |dir: &Path| {
        walk(dir).into_iter().any(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{nvr}."))
        })
    };
    assert!(file_of(&repo), "{nvr} is in the first compose");
    pipal::buildsys::BuildSystem::untag_build(&local, TAG, nvr, "carol").unwrap();
    let fresh = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(tag_request()),
    )
    .await
    .json();
    let fourth = fresh["id"].as_i64().unwrap();
    odcs.run_jobs();
    let fourth_row = odcs.compose(fourth);
    assert_eq!(
        fourth_row.state,
        pipal::models::odcs::DONE,
        "{:?}",
        fourth_row.state_reason
    );
    assert_eq!(fourth_row.reused_id, None);
    assert!(!file_of(&odcs.directory(fourth)));
}

#[actix_web::test]
async fn build_and_update_composes_hold_exactly_their_builds() {
    let odcs = Odcs::new();
    let app = test::init_service(pipal::web::app(odcs.state.clone())).await;
    let alice = odcs.token("alice");
    let update = call(
        &app,
        "GET",
        None,
        "/updates/?releases=F43&status=testing",
        None,
    )
    .await
    .json();
    let alias = update["updates"][0]["alias"]
        .as_str()
        .expect("a testing update")
        .to_owned();
    let nvr = update["updates"][0]["builds"][0]["nvr"]
        .as_str()
        .unwrap()
        .to_owned();
    let name = nvr.rsplitn(3, '-').last().unwrap().to_owned();

    let by_build = json!({"source": {"type": "build", "builds": [nvr]}});
    let built = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(by_build),
    )
    .await
    .json();
    let by_update = json!({"source": {"type": "update", "source": alias}});
    let from_update = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(by_update),
    )
    .await
    .json();
    odcs.run_jobs();

    let build_id = built["id"].as_i64().unwrap();
    let build_compose = odcs.compose(build_id);
    assert_eq!(
        build_compose.state,
        pipal::models::odcs::DONE,
        "{:?}",
        build_compose.state_reason
    );
    let repo = odcs.directory(build_id).join("compose/Temporary/x86_64/os");
    let names = package_names(&repo);
    assert!(names.contains(&name), "{names:?}");
    assert!(
        names.iter().all(|n| n.starts_with(&name)),
        "only {nvr}'s packages: {names:?}"
    );
    validate_with_dnf(&repo, rpm_count(&repo.join("Packages")));
    let sources = odcs
        .directory(build_id)
        .join("compose/Temporary/source/tree");
    assert_eq!(rpm_count(&sources.join("Packages")), 1);

    // The update's compose resolves the alias to the same build: it reuses the build compose.
    let update_id = from_update["id"].as_i64().unwrap();
    let shown = call(
        &app,
        "GET",
        None,
        &format!("/api/1/composes/{update_id}"),
        None,
    )
    .await
    .json();
    assert_eq!(shown["state_name"], "done", "{shown}");
    assert_eq!(shown["source_type"], 8);
    assert_eq!(shown["builds"], nvr.as_str());

    // Unknown builds and updates fail with the reason.
    let missing = json!({"source": {"type": "build", "builds": ["nope-1-1.fc43"]}});
    let missing = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(missing),
    )
    .await
    .json();
    let no_update = json!({"source": {"type": "update", "source": "FEDORA-2000-0000000000"}});
    let no_update = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(no_update),
    )
    .await
    .json();
    let no_tag = json!({"source": {"type": "tag", "source": "f99-nothing"}});
    let no_tag = call(&app, "POST", Some(&alice), "/api/1/composes/", Some(no_tag))
        .await
        .json();
    odcs.run_jobs();
    for (compose, reason) in [
        (missing, "Build nope-1-1.fc43 does not exist."),
        (no_update, "Update FEDORA-2000-0000000000 does not exist."),
        (no_tag, "Koji tag f99-nothing does not exist."),
    ] {
        let row = odcs.compose(compose["id"].as_i64().unwrap());
        assert_eq!(row.state, pipal::models::odcs::FAILED);
        assert_eq!(row.state_reason.as_deref(), Some(reason));
    }
}

#[actix_web::test]
async fn renew_extends_a_live_compose_and_regenerates_a_removed_one() {
    let odcs = Odcs::new();
    let app = test::init_service(pipal::web::app(odcs.state.clone())).await;
    let alice = odcs.token("alice");
    let created = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(tag_request()),
    )
    .await
    .json();
    let id = created["id"].as_i64().unwrap();
    odcs.run_jobs();
    let before = odcs.compose(id).time_to_expire;

    let body = json!({"seconds_to_live": 200_000});
    let renewed = call(
        &app,
        "PATCH",
        Some(&alice),
        &format!("/api/1/composes/{id}"),
        Some(body),
    )
    .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text());
    assert_eq!(renewed.json()["id"], id);
    let after = odcs.compose(id).time_to_expire;
    assert!(
        after > before + chrono::Duration::seconds(100_000),
        "{before} → {after}"
    );

    // Expired and removed: a renew makes a new compose, a respin of the old one.
    odcs.age(id);
    odcs.cleanup();
    assert_eq!(odcs.compose(id).state, pipal::models::odcs::REMOVED);
    assert!(!odcs.directory(id).exists());
    let respin = call(
        &app,
        "PATCH",
        Some(&alice),
        &format!("/api/1/composes/{id}"),
        None,
    )
    .await
    .json();
    let new_id = respin["id"].as_i64().unwrap();
    assert_ne!(new_id, id);
    assert_eq!(respin["state_name"], "wait");
    assert_eq!(respin["respin_of"], format!("odcs-{id}"));
    odcs.run_jobs();
    assert_eq!(odcs.compose(new_id).state, pipal::models::odcs::DONE);
    assert!(odcs.directory(new_id).is_dir());

    // A compose still being generated cannot be renewed.
    let waiting = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(tag_request()),
    )
    .await
    .json();
    let waiting_id = waiting["id"].as_i64().unwrap();
    let refused = call(
        &app,
        "PATCH",
        Some(&alice),
        &format!("/api/1/composes/{waiting_id}"),
        None,
    )
    .await;
    assert_eq!(refused.status, 404);
    assert_eq!(refused.json()["error"], "Not Found");
}

#[actix_web::test]
async fn cancel_delete_and_expiry() {
    let odcs = Odcs::new();
    let app = test::init_service(pipal::web::app(odcs.state.clone())).await;
    let alice = odcs.token("alice");
    let carol = odcs.token("carol");

    // The owner cancels a waiting compose; its job then does nothing.
    let waiting = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(tag_request()),
    )
    .await
    .json();
    let cancelled = waiting["id"].as_i64().unwrap();
    let reply = call(
        &app,
        "DELETE",
        Some(&alice),
        &format!("/api/1/composes/{cancelled}"),
        None,
    )
    .await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    assert_eq!(reply.json()["status"], 202);
    odcs.run_jobs();
    let row = odcs.compose(cancelled);
    assert_eq!(row.state, pipal::models::odcs::FAILED);
    assert_eq!(row.state_reason.as_deref(), Some("Canceled by alice"));
    assert!(!odcs.directory(cancelled).exists());

    // A done compose: only admins remove it, and the cleanup job does.
    let mut own = tag_request();
    own["flags"] = json!(["no_reuse"]);
    let done = call(&app, "POST", Some(&alice), "/api/1/composes/", Some(own))
        .await
        .json();
    let id = done["id"].as_i64().unwrap();
    odcs.run_jobs();
    let refused = call(
        &app,
        "DELETE",
        Some(&alice),
        &format!("/api/1/composes/{id}"),
        None,
    )
    .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json()["error"], "Forbidden");
    let accepted = call(
        &app,
        "DELETE",
        Some(&carol),
        &format!("/api/1/composes/{id}"),
        None,
    )
    .await;
    assert_eq!(accepted.status, 202, "{}", accepted.text());
    assert!(
        odcs.directory(id).is_dir(),
        "removed by the cleanup job, not at once"
    );
    odcs.cleanup();
    let row = odcs.compose(id);
    assert_eq!(row.state, pipal::models::odcs::REMOVED);
    assert_eq!(row.removed_by.as_deref(), Some("carol"));
    assert_eq!(
        row.state_reason.as_deref(),
        Some("Compose is generated successfully Removed by carol.")
    );
    assert!(row.time_removed.is_some());
    assert!(!odcs.directory(id).exists());
    let states: Vec<Value> = odcs
        .messages(id)
        .iter()
        .map(|m| m["compose"]["state_name"].clone())
        .collect();
    assert_eq!(states.last(), Some(&json!("removed")));

    // A removed compose cannot be deleted again.
    let again = call(
        &app,
        "DELETE",
        Some(&carol),
        &format!("/api/1/composes/{id}"),
        None,
    )
    .await;
    assert_eq!(again.status, 400);

    // Expiry: a compose past its time goes at the next cleanup, with its reuser; the shared
    // directory stays until both are removed.
    let first = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(tag_request()),
    )
    .await
    .json();
    odcs.run_jobs();
    let second = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(tag_request()),
    )
    .await
    .json();
    odcs.run_jobs();
    let (first, second) = (
        first["id"].as_i64().unwrap(),
        second["id"].as_i64().unwrap(),
    );
    assert_eq!(odcs.compose(second).reused_id, Some(first as i32));
    odcs.age(first);
    odcs.cleanup();
    assert_eq!(odcs.compose(first).state, pipal::models::odcs::REMOVED);
    assert_eq!(
        odcs.compose(first).state_reason.as_deref(),
        Some("Compose is generated successfully Compose is expired.")
    );
    assert!(
        odcs.directory(first).is_dir(),
        "compose {second} still uses it"
    );
    odcs.age(second);
    odcs.cleanup();
    assert_eq!(odcs.compose(second).state, pipal::models::odcs::REMOVED);
    assert!(!odcs.directory(first).exists());

    // A directory no compose owns is swept.
    let stray = odcs.state.settings.odcs.target_dir.join("odcs-999");
    std::fs::create_dir_all(&stray).unwrap();
    odcs.cleanup();
    assert!(!stray.exists());
}

#[actix_web::test]
async fn permissions_follow_admins_and_allowed_clients() {
    let odcs = Odcs::with(|settings| {
        let limits = pipal::odcs::settings::ClientLimits {
            source_types: Some(vec!["build".into()]),
            ..Default::default()
        };
        settings
            .odcs
            .allowed_clients
            .users
            .insert("bob".into(), limits);
    });
    let app = test::init_service(pipal::web::app(odcs.state.clone())).await;
    let (alice, bob, carol) = (odcs.token("alice"), odcs.token("bob"), odcs.token("carol"));

    let anonymous = call(&app, "POST", None, "/api/1/composes/", Some(tag_request())).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json()["error"], "Unauthorized");

    let refused = call(
        &app,
        "POST",
        Some(&bob),
        "/api/1/composes/",
        Some(tag_request()),
    )
    .await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.json()["message"],
        "User bob not allowed to operate with compose with source_types=tag."
    );
    let builds = json!({"source": {"type": "build", "builds": ["hello-2.12.1-1.fc43"]}});
    let allowed = call(&app, "POST", Some(&bob), "/api/1/composes/", Some(builds)).await;
    assert_eq!(allowed.status, 200, "{}", allowed.text());

    let mut other_arch = tag_request();
    other_arch["arches"] = json!(["aarch64"]);
    let refused = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(other_arch.clone()),
    )
    .await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.json()["message"]
            .as_str()
            .unwrap()
            .contains("arches=aarch64")
    );
    // Admins skip the limits.
    let admin = call(
        &app,
        "POST",
        Some(&carol),
        "/api/1/composes/",
        Some(other_arch),
    )
    .await;
    assert_eq!(admin.status, 200, "{}", admin.text());

    // The owner may cancel, someone else may not.
    let id = allowed.json()["id"].as_i64().unwrap();
    let other = call(
        &app,
        "DELETE",
        Some(&alice),
        &format!("/api/1/composes/{id}"),
        None,
    )
    .await;
    assert_eq!(other.status, 403);

    // Bad requests get ODCS's envelope.
    let bad = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(json!({"source": {"type": "pulp", "source": "x"}})),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"], "Bad Request");
    assert_eq!(bad.json()["status"], 400);
    let missing = call(&app, "GET", None, "/api/1/composes/12345", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"], "Not Found");
}

#[actix_web::test]
async fn the_list_filters_orders_and_pages() {
    let odcs = Odcs::new();
    let app = test::init_service(pipal::web::app(odcs.state.clone())).await;
    let (alice, carol) = (odcs.token("alice"), odcs.token("carol"));
    for token in [&alice, &alice, &carol] {
        call(
            &app,
            "POST",
            Some(token),
            "/api/1/composes/",
            Some(tag_request()),
        )
        .await;
    }
    let page = call(
        &app,
        "GET",
        None,
        "/api/1/composes/?owner=alice&per_page=1",
        None,
    )
    .await
    .json();
    assert_eq!(page["meta"]["total"], 2);
    assert_eq!(page["meta"]["pages"], 2);
    assert_eq!(page["items"][0]["id"], 2, "newest first");
    let next = page["meta"]["next"].as_str().unwrap();
    assert!(
        next.contains("owner=alice") && next.contains("page=2"),
        "{next}"
    );
    assert!(page["meta"]["prev"].is_null());
    let ascending = call(&app, "GET", None, "/api/1/composes/?order_by=id", None)
        .await
        .json();
    assert_eq!(ascending["items"][0]["id"], 1);
    let waiting = call(
        &app,
        "GET",
        None,
        "/api/1/composes/?state=0&source_type=1",
        None,
    )
    .await
    .json();
    assert_eq!(waiting["meta"]["total"], 3);
    let bad = call(&app, "GET", None, "/api/1/composes/?order_by=nope", None).await;
    assert_eq!(bad.status, 400);

    let about = call(&app, "GET", None, "/api/1/about/", None).await.json();
    assert_eq!(about["auth_backend"], "openidc");
    assert!(about["allowed_clients"]["groups"]["packager"].is_object());
}

#[test]
fn pipal_odcs_creates_lists_renews_and_deletes_through_a_running_server() {
    let listener = crate::support::browser::listener();
    let port = listener.local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}/");
    let (db, state) = demo_with(|settings| {
        settings.server.base_address = base.clone();
        settings.worker.poll_interval_ms = 50;
    });
    let mut conn = state.db.conn().unwrap();
    let token = accounts::issue_token(&mut conn, "carol", "cli", None, now()).unwrap();
    drop(conn);
    let server = crate::support::browser::RunningPipal::start(state.clone(), listener);
    let pipal = |args: &[&str]| {
        let mut full = vec![
            "odcs",
            "--server",
            server.base.as_str(),
            "--token",
            token.as_str(),
        ];
        full.extend_from_slice(args);
        db.pipal(&full)
    };

    let created = ok(pipal(&["create", "tag", TAG, "--timeout", "120"]));
    let compose: Value = serde_json::from_str(&created).unwrap();
    assert_eq!(compose["state_name"], "done", "{created}");
    let id = compose["id"].to_string();
    let listed = ok(pipal(&["list", "--state", "done"]));
    assert!(listed.contains(TAG) && listed.contains("carol"), "{listed}");
    let shown: Value = serde_json::from_str(&ok(pipal(&["show", &id]))).unwrap();
    assert_eq!(shown["id"], compose["id"]);
    let renewed: Value =
        serde_json::from_str(&ok(pipal(&["renew", &id, "--seconds-to-live", "3600"]))).unwrap();
    assert_eq!(renewed["id"], compose["id"]);
    let deleted = ok(pipal(&["delete", &id]));
    assert!(deleted.contains("accepted"), "{deleted}");

    // Mistakes: one line and a non-zero exit.
    let failed = pipal(&["create", "tag", "f99-nothing", "--timeout", "120"]);
    assert!(!failed.status.success());
    assert!(
        stderr(&failed).contains("Koji tag f99-nothing does not exist."),
        "{}",
        stderr(&failed)
    );
    let refused = pipal(&["create", "pulp", "x"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("400 Bad Request"),
        "{}",
        stderr(&refused)
    );
    drop(server);
}

#[actix_web::test]
async fn a_generation_resumed_after_a_crash_finishes_its_followers_too() {
    let odcs = Odcs::new();
    let app = test::init_service(pipal::web::app(odcs.state.clone())).await;
    let alice = odcs.token("alice");
    let first = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(tag_request()),
    )
    .await
    .json();
    let first = first["id"].as_i64().unwrap();
    // A worker took the compose, read the build system and died while writing: its row says
    // generating and its private directory is half written.
    let mut conn = odcs.state.db.conn().unwrap();
    let mut row = odcs.compose(first);
    row.state = pipal::models::odcs::GENERATING;
    row.koji_event =
        Some(pipal::buildsys::BuildSystem::last_event(odcs.state.buildsys.as_ref()).unwrap());
    row.save(&mut conn).unwrap();
    let partial = odcs
        .state
        .settings
        .odcs
        .target_dir
        .join(format!(".odcs-{first}.1-1"));
    std::fs::create_dir_all(partial.join("compose")).unwrap();

    // An identical request meanwhile follows the compose being generated.
    let second = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(tag_request()),
    )
    .await
    .json();
    let second = second["id"].as_i64().unwrap();
    pipal::odcs::generate::generate(&odcs.state, second as i32).unwrap();
    let follower = odcs.compose(second);
    assert_eq!(follower.state, pipal::models::odcs::GENERATING);
    assert_eq!(follower.reused_id, Some(first as i32));

    // The first compose's job runs again (its lease ran out): it generates the compose, and
    // the follower is done with it.
    odcs.run_jobs();
    assert_eq!(odcs.compose(first).state, pipal::models::odcs::DONE);
    let follower = odcs.compose(second);
    assert_eq!(
        follower.state,
        pipal::models::odcs::DONE,
        "{:?}",
        follower.state_reason
    );
    assert!(
        odcs.directory(first)
            .join("compose/Temporary/x86_64/os/repodata")
            .is_dir()
    );
    let states: Vec<Value> = odcs
        .messages(second)
        .iter()
        .map(|m| m["compose"]["state_name"].clone())
        .collect();
    assert_eq!(states, [json!("wait"), json!("generating"), json!("done")]);

    // The dead worker's directory goes at the next cleanup.
    assert!(partial.exists());
    odcs.cleanup();
    assert!(!partial.exists());
    assert!(odcs.directory(first).is_dir());
}

#[actix_web::test]
async fn a_compose_whose_generation_gave_up_fails_at_the_next_cleanup() {
    use diesel::prelude::*;
    use pipal::db::schema::jobs;
    use pipal::models::odcs::{FAILED, GENERATING, WAIT};

    let odcs = Odcs::new();
    let app = test::init_service(pipal::web::app(odcs.state.clone())).await;
    let alice = odcs.token("alice");
    let first = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(tag_request()),
    )
    .await
    .json();
    let first = first["id"].as_i64().unwrap();
    // Its worker started it, then the database failed it five times: the job gave up.
    let mut conn = odcs.state.db.conn().unwrap();
    let mut row = odcs.compose(first);
    row.state = GENERATING;
    row.koji_event =
        Some(pipal::buildsys::BuildSystem::last_event(odcs.state.buildsys.as_ref()).unwrap());
    row.save(&mut conn).unwrap();
    diesel::update(jobs::table.filter(jobs::dedup_key.eq(format!("odcs-{first}"))))
        .set((
            jobs::state.eq("failed"),
            jobs::attempts.eq(5),
            jobs::last_error.eq("could not serialize access due to concurrent update"),
        ))
        .execute(&mut conn)
        .unwrap();
    // An identical request follows it; another compose's job is still queued.
    let follower = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(tag_request()),
    )
    .await
    .json();
    let follower = follower["id"].as_i64().unwrap();
    pipal::odcs::generate::generate(&odcs.state, follower as i32).unwrap();
    assert_eq!(odcs.compose(follower).reused_id, Some(first as i32));
    let mut other_request = tag_request();
    other_request["flags"] = json!(["no_reuse"]);
    let queued = call(
        &app,
        "POST",
        Some(&alice),
        "/api/1/composes/",
        Some(other_request),
    )
    .await
    .json();
    let queued = queued["id"].as_i64().unwrap();

    odcs.cleanup();
    let failed = odcs.compose(first);
    assert_eq!(failed.state, FAILED);
    assert_eq!(
        failed.state_reason.as_deref(),
        Some(
            "Compose generation gave up after 5 attempts: could not serialize access due to \
             concurrent update"
        )
    );
    assert_eq!(odcs.compose(follower).state, FAILED);
    assert_eq!(odcs.compose(queued).state, WAIT);
    let states: Vec<Value> = odcs
        .messages(first)
        .iter()
        .map(|m| m["compose"]["state_name"].clone())
        .collect();
    assert_eq!(states.last(), Some(&json!("failed")), "{states:?}");
}
