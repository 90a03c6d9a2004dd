//! The read side of the JSON API (spec §3, §4): Bodhi's shapes and key order, filters,
//! pagination, JSONP, content negotiation, redirects and the 404s.

use actix_web::test::{TestRequest, init_service};
use serde_json::{Value, json};

use crate::support::http::send;
use crate::support::world::{World, errors, get, get_json, post_ok, submit};

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

const UPDATE_KEYS: &[&str] = &[
    "autokarma",
    "autotime",
    "stable_karma",
    "stable_days",
    "unstable_karma",
    "require_bugs",
    "require_testcases",
    "display_name",
    "notes",
    "type",
    "status",
    "request",
    "severity",
    "suggest",
    "locked",
    "pushed",
    "critpath",
    "critpath_groups",
    "close_bugs",
    "date_submitted",
    "date_modified",
    "date_approved",
    "date_testing",
    "date_stable",
    "alias",
    "test_gating_status",
    "from_tag",
    "date_pushed",
    "meets_testing_requirements",
    "url",
    "title",
    "version_hash",
    "release",
    "user",
    "comments",
    "builds",
    "bugs",
    "updateid",
    "karma",
    "content_type",
    "test_cases",
];

const RELEASE_KEYS: &[&str] = &[
    "name",
    "long_name",
    "version",
    "id_prefix",
    "branch",
    "dist_tag",
    "stable_tag",
    "testing_tag",
    "candidate_tag",
    "pending_signing_tag",
    "pending_testing_tag",
    "pending_stable_tag",
    "override_tag",
    "mail_template",
    "state",
    "composed_by_bodhi",
    "create_automatic_updates",
    "package_manager",
    "testing_repository",
    "released_on",
    "eol",
    "critpath_mandatory_days_in_testing",
    "mandatory_days_in_testing",
    "critpath_min_karma",
    "min_karma",
    "setting_status",
];

/// Three updates: nano (alice, bug 123456, a comment by bob), vim (pete), and tool (alice).
async fn seeded() -> World {
    let w = World::new();
    w.grant("tool", "alice");
    for nvr in ["nano-8.2-1.fc44", "vim-9.2-1.fc44", "tool-1.0-1.fc44"] {
        w.candidate(nvr);
    }
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let mut nano = crate::support::world::new_update(&["nano-8.2-1.fc44"]);
    nano["bugs"] = json!([123456]);
    let nano = post_ok(&app, w.token("alice"), "/updates/", nano).await;
    post_ok(
        &app,
        w.token("bob"),
        "/comments/",
        json!({"update": nano["alias"], "text": "Works.", "karma": 1}),
    )
    .await;
    submit(&app, &w, "pete", &["vim-9.2-1.fc44"]).await;
    submit(&app, &w, "alice", &["tool-1.0-1.fc44"]).await;
    w
}

#[actix_web::test]
async fn an_update_has_bodhis_keys_in_bodhis_order() {
    let w = seeded().await;
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let list = get_json(&app, "/updates/?packages=nano").await;
    let alias = list["updates"][0]["alias"].as_str().unwrap().to_owned();

    let body = get_json(&app, &format!("/updates/{alias}")).await;
    assert_eq!(keys(&body), ["update", "can_edit", "ci_allowed"]);
    let update = &body["update"];
    assert_eq!(keys(update), UPDATE_KEYS);
    assert_eq!(keys(&update["release"]), RELEASE_KEYS);
    assert_eq!(
        keys(&update["user"]),
        ["name", "email", "id", "avatar", "openid", "groups"]
    );
    assert_eq!(
        keys(&update["builds"][0]),
        ["nvr", "signed", "release_id", "type", "epoch"]
    );
    assert_eq!(
        keys(&update["bugs"][0]),
        ["bug_id", "title", "security", "parent", "feedback"]
    );
    assert_eq!(
        keys(&update["comments"][1]),
        [
            "karma",
            "karma_critpath",
            "text",
            "timestamp",
            "update_id",
            "user_id",
            "id",
            "bug_feedback",
            "testcase_feedback",
            "user"
        ]
    );
    assert_eq!(update["updateid"], alias.as_str());
    assert_eq!(update["karma"], 1);
    assert_eq!(
        update["url"],
        format!("{}updates/{alias}", w.state.settings.base_address())
    );
    let submitted = update["date_submitted"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(submitted, "%Y-%m-%d %H:%M:%S").is_ok(),
        "Bodhi's date format: {submitted}"
    );
}

#[actix_web::test]
async fn the_update_list_filters_and_pages() {
    let w = seeded().await;
    let app = init_service(pipal::web::app(w.state.clone())).await;

    let all = get_json(&app, "/updates/").await;
    assert_eq!(
        keys(&all),
        [
            "updates",
            "page",
            "pages",
            "rows_per_page",
            "total",
            "chrome",
            "display_user",
            "display_request",
            "package"
        ]
    );
    assert_eq!(all["total"], 3);
    let titles: Vec<&str> = all["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["tool-1.0-1.fc44", "vim-9.2-1.fc44", "nano-8.2-1.fc44"],
        "newest first"
    );

    let count = |path: &'static str| {
        let app = &app;
        async move { get_json(app, path).await["total"].as_i64().unwrap() }
    };
    assert_eq!(count("/updates/?user=alice").await, 2);
    assert_eq!(count("/updates/?user=alice,pete").await, 3);
    assert_eq!(count("/updates/?user=alice&user=pete").await, 3);
    assert_eq!(count("/updates/?packages=vim").await, 1);
    assert_eq!(count("/updates/?bugs=123456").await, 1);
    assert_eq!(count("/updates/?like=ool").await, 1);
    assert_eq!(count("/updates/?search=NANO").await, 1);
    assert_eq!(count("/updates/?status=pending&request=testing").await, 3);
    assert_eq!(count("/updates/?status=testing").await, 0);
    assert_eq!(count("/updates/?releases=F44").await, 3);
    assert_eq!(count("/updates/?releases=__current__").await, 3);
    assert_eq!(count("/updates/?releases=__pending__").await, 0);
    assert_eq!(count("/updates/?content_type=rpm").await, 3);

    let paged = get_json(&app, "/updates/?rows_per_page=2&page=2").await;
    assert_eq!(paged["pages"], 2);
    assert_eq!(paged["page"], 2);
    assert_eq!(paged["updates"].as_array().unwrap().len(), 1);
    assert_eq!(
        get_json(&app, "/updates/?packages=nano").await["package"],
        "nano"
    );

    for (path, message) in [
        ("/updates/?releases=F99", "Invalid releases specified: F99"),
        ("/updates/?user=nobody", "Invalid users specified: nobody"),
        ("/updates/?bugs=abc", "Invalid bug ID specified: ['abc']"),
        (
            "/updates/?rows_per_page=1001",
            "1001 is greater than maximum value 1000",
        ),
        ("/updates/?page=0", "0 is less than minimum value 1"),
        (
            "/updates/?locked=maybe",
            "\"maybe\" is neither in (false, 0) nor in (true, 1)",
        ),
    ] {
        let reply = get(&app, path).await;
        assert_eq!(reply.status, 400, "{path}: {}", reply.text());
        assert_eq!(errors(&reply.json()), [message], "{path}");
        assert_eq!(reply.json()["errors"][0]["location"], "querystring");
    }
}

#[actix_web::test]
async fn jsonp_redirects_and_not_found() {
    let w = seeded().await;
    let app = init_service(pipal::web::app(w.state.clone())).await;

    let jsonp = get(&app, "/releases/F44?callback=show").await;
    assert_eq!(jsonp.status, 200);
    assert!(
        jsonp
            .header("content-type")
            .unwrap()
            .starts_with("application/javascript")
    );
    let text = jsonp.text();
    assert!(
        text.starts_with("/**/show(") && text.ends_with(");"),
        "{text}"
    );

    let redirect = get(&app, "/updates?packages=nano").await;
    assert_eq!(redirect.status, 302);
    assert!(
        redirect
            .header("location")
            .unwrap()
            .ends_with("/updates/?packages=nano"),
        "{:?}",
        redirect.header("location")
    );

    let package = get(&app, "/updates/nano").await;
    assert_eq!(package.status, 302);
    assert!(
        package
            .header("location")
            .unwrap()
            .ends_with("/updates/?packages=nano")
    );

    for (path, message) in [
        ("/updates/FEDORA-2026-0000000000", "Invalid update id"),
        ("/releases/F99", "No such release"),
        ("/builds/nope-1-1.fc44", "No such build"),
        ("/users/nobody", "No such user"),
        ("/comments/99999", "Invalid comment id"),
    ] {
        let reply = get(&app, path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(errors(&reply.json()), [message], "{path}");
    }
    let reply = get(&app, "/comments/abc").await;
    assert_eq!(reply.status, 400);
    assert_eq!(errors(&reply.json()), ["Comment id must be an int"]);

    let html = send(
        &app,
        TestRequest::get()
            .uri("/releases/F44")
            .insert_header(("Accept", "text/json")),
    )
    .await;
    assert_eq!(html.json()["name"], "F44", "text/json is JSON");
}

#[actix_web::test]
async fn releases_builds_users_packages_and_comments_list() {
    let w = seeded().await;
    let app = init_service(pipal::web::app(w.state.clone())).await;

    let releases = get_json(&app, "/releases/").await;
    assert_eq!(
        keys(&releases),
        ["releases", "page", "pages", "rows_per_page", "total"]
    );
    assert_eq!(keys(&releases["releases"][0]), RELEASE_KEYS);
    assert_eq!(get_json(&app, "/list_releases/").await, releases);

    let builds = get_json(&app, "/builds/?packages=nano").await;
    assert_eq!(builds["builds"][0]["nvr"], "nano-8.2-1.fc44");
    let build = get_json(&app, "/builds/vim-9.2-1.fc44").await;
    assert_eq!(
        keys(&build),
        ["nvr", "signed", "release_id", "type", "epoch"]
    );

    let user = get_json(&app, "/users/alice").await;
    assert_eq!(keys(&user), ["user", "urls"]);
    assert_eq!(user["user"]["groups"], json!([{"name": "packager"}]));
    let users = get_json(&app, "/users/?groups=bodhiadmin").await;
    let names: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["carol"]);

    let packages = get_json(&app, "/packages/?like=na").await;
    assert_eq!(
        packages["packages"],
        json!([{"name": "nano", "type": "rpm"}])
    );

    let comments = get_json(&app, "/comments/?user=bob").await;
    assert_eq!(comments["total"], 1);
    let comment = &comments["comments"][0];
    assert_eq!(comment["text"], "Works.");
    assert_eq!(comment["author"], "bob");
    let chrome = get_json(&app, "/comments/").await;
    assert_eq!(
        chrome["total"], 1,
        "the system's comments are hidden by default"
    );
    let all = get_json(&app, "/comments/?chrome=false").await;
    assert_eq!(all["total"], 4);
}

#[actix_web::test]
async fn markdown_renders_mentions_bugs_and_strips_scripts() {
    let w = World::new();
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let text = "Thanks @bob, fixes rhbz#123456 <script>alert(1)</script> \
                [x](javascript:alert(1)) <img src=x onerror=alert(1)>";
    let path = format!(
        "/markdown?{}",
        serde_urlencoded::to_string([("text", text)]).unwrap()
    );
    let html = get_json(&app, &path).await["html"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(html.starts_with("<div class='markdown'>"), "{html}");
    assert!(html.contains("/users/bob"), "{html}");
    assert!(
        html.contains("https://bugzilla.redhat.com/show_bug.cgi?id=123456"),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(!html.contains("onerror"), "{html}");
}

#[actix_web::test]
async fn a_page_of_updates_loads_in_the_same_number_of_queries_whatever_its_size() {
    use diesel::connection::{Connection, InstrumentationEvent};
    use pipal::json::graph::UpdateGraph;
    use pipal::models::update::Update;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let w = World::new();
    for i in 0..12 {
        let package = format!("pkg{i}");
        w.grant(&package, "alice");
        w.candidate(&format!("{package}-1.0-1.fc44"));
    }
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let mut aliases = Vec::new();
    for i in 0..12 {
        let mut form = crate::support::world::new_update(&[&format!("pkg{i}-1.0-1.fc44")]);
        form["bugs"] = json!([100000 + i]);
        let alias = post_ok(&app, w.token("alice"), "/updates/", form).await["alias"]
            .as_str()
            .unwrap()
            .to_owned();
        post_ok(
            &app,
            w.token("bob"),
            "/comments/",
            json!({"update": alias, "text": "Works.", "karma": 1}),
        )
        .await;
        aliases.push(alias);
    }

    let queries = Arc::new(AtomicUsize::new(0));
    let mut conn = w.db.conn();
    let counter = queries.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let mut count_for = |n: usize| {
        let updates: Vec<Update> = aliases[..n]
            .iter()
            .map(|a| Update::by_alias(&mut conn, a).unwrap().unwrap())
            .collect();
        let before = queries.load(Ordering::SeqCst);
        let graph = UpdateGraph::load(&mut conn, updates).unwrap();
        assert_eq!(graph.updates.len(), n);
        queries.load(Ordering::SeqCst) - before
    };
    let for_two = count_for(2);
    let for_twelve = count_for(12);
    assert_eq!(for_two, for_twelve, "no query per update");
    assert!(for_two <= 20, "{for_two} queries for a page");
}

#[actix_web::test]
async fn list_totals_follow_every_status_change() {
    let w = seeded().await;
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let total = |path: String| {
        let app = &app;
        async move {
            let body = get_json(app, &path).await;
            (
                body["total"].as_i64().unwrap(),
                body["updates"].as_array().unwrap().len() as i64,
            )
        }
    };
    let list = get_json(&app, "/updates/?packages=vim").await;
    let vim = list["updates"][0]["alias"].as_str().unwrap().to_owned();
    w.push_to_testing(&vim);
    post_ok(
        &app,
        w.token("alice"),
        &format!(
            "/updates/{}/request",
            get_json(&app, "/updates/?packages=tool").await["updates"][0]["alias"]
                .as_str()
                .unwrap()
        ),
        json!({"request": "obsolete"}),
    )
    .await;
    {
        use diesel::prelude::*;
        use pipal::db::schema::{builds, comments, update_bugs, updates};
        let mut conn = w.db.conn();
        let nano: i32 = updates::table
            .inner_join(builds::table)
            .filter(builds::nvr.eq("nano-8.2-1.fc44"))
            .select(updates::id)
            .first(&mut conn)
            .unwrap();
        diesel::delete(comments::table.filter(comments::update_id.eq(nano)))
            .execute(&mut conn)
            .unwrap();
        diesel::delete(update_bugs::table.filter(update_bugs::update_id.eq(nano)))
            .execute(&mut conn)
            .unwrap();
        diesel::delete(builds::table.filter(builds::update_id.eq(nano)))
            .execute(&mut conn)
            .unwrap();
        diesel::delete(updates::table.find(nano))
            .execute(&mut conn)
            .unwrap();
    }
    for (path, expected) in [
        ("/updates/", 2),
        ("/updates/?status=testing", 1),
        ("/updates/?status=obsolete", 1),
        ("/updates/?status=pending", 0),
        ("/updates/?status=testing,obsolete&releases=F44", 2),
        ("/updates/?release=F44&status=stable", 0),
    ] {
        assert_eq!(total(path.to_owned()).await, (expected, expected), "{path}");
    }
}
