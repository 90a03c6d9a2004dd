//! `pipal import bodhi` on the Bodhi 26.4.0 fixture: every row arrives with Bodhi's ids,
//! aliases, dates and karma, the API serves each update as Bodhi did, a second import
//! changes nothing, a third brings only what changed, and bad rows are reported with their
//! reason while the rest is imported.

use actix_web::test::init_service;
use diesel::prelude::*;
use serde_json::{Value, json};

use pipal::db::schema::{comments, updates, users};
use pipal::import::bodhi::{ImportOptions, Summary, import};

use crate::support::bodhi::BodhiDb;
use crate::support::world::get_json;
use crate::support::{TestDb, stderr, stdout};

fn options(bodhi: &BodhiDb) -> ImportOptions {
    ImportOptions {
        from: bodhi.url.clone(),
        batch: 64,
        dry_run: false,
        system_user: "bodhi".into(),
        progress: false,
    }
}

fn run(db: &TestDb, options: &ImportOptions) -> Summary {
    let mut conn = db.conn();
    import(&mut conn, options).expect("the import runs")
}

fn counts(summary: &Summary, table: &str) -> (u64, u64, u64, u64, u64) {
    let c = summary
        .counts(table)
        .unwrap_or_else(|| panic!("no counts for {table}: {summary}"));
    (c.read, c.inserted, c.updated, c.unchanged, c.skipped)
}

/// Bodhi's view of every update: the fields the API shows, computed in Bodhi's database.
fn bodhi_updates(bodhi: &BodhiDb) -> Vec<Value> {
    let value = bodhi.json(
        "SELECT json_agg(json_build_object(
            'alias', u.alias,
            'status', u.status::text,
            'request', u.request::text,
            'type', u.type::text,
            'locked', u.locked,
            'date_submitted', to_char(u.date_submitted, 'YYYY-MM-DD HH24:MI:SS'),
            'date_testing', to_char(u.date_testing, 'YYYY-MM-DD HH24:MI:SS'),
            'date_stable', to_char(u.date_stable, 'YYYY-MM-DD HH24:MI:SS'),
            'user', (SELECT name FROM users WHERE id = u.user_id),
            'karma', (SELECT COALESCE(sum(karma), 0) FROM comments WHERE update_id = u.id),
            'builds', (SELECT json_agg(nvr ORDER BY nvr) FROM builds WHERE update_id = u.id),
            'bugs', (SELECT COALESCE(json_agg(b.bug_id ORDER BY b.bug_id), '[]'::json)
                     FROM update_bug_table ub JOIN bugs b ON b.id = ub.bug_id
                     WHERE ub.update_id = u.id),
            'comments', (SELECT json_agg(c.id ORDER BY c.timestamp) FROM comments c
                         WHERE c.update_id = u.id)
         ) ORDER BY u.id) FROM updates u",
    );
    value.as_array().cloned().expect("a list of updates")
}

#[actix_web::test]
async fn the_fixture_arrives_whole_and_the_api_serves_every_update_as_bodhi_did() {
    let Some(bodhi) = BodhiDb::fixture() else {
        return;
    };
    let db = TestDb::new();
    let summary = run(&db, &options(&bodhi));

    assert!(summary.skips.is_empty(), "{summary}");
    assert_eq!(counts(&summary, "groups"), (7, 7, 0, 0, 0));
    // Bodhi's `bodhi` is Pipal's system user, already there: it only gains Bodhi's email.
    assert_eq!(counts(&summary, "users"), (300, 299, 1, 0, 0));
    assert_eq!(counts(&summary, "user_group_table"), (248, 248, 0, 0, 0));
    assert_eq!(counts(&summary, "releases"), (5, 5, 0, 0, 0));
    assert_eq!(counts(&summary, "packages"), (900, 900, 0, 0, 0));
    assert_eq!(counts(&summary, "bugs"), (257, 257, 0, 0, 0));
    assert_eq!(counts(&summary, "testcases"), (33, 33, 0, 0, 0));
    assert_eq!(counts(&summary, "updates"), (300, 300, 0, 0, 0));
    assert_eq!(counts(&summary, "update_bug_table"), (257, 257, 0, 0, 0));
    assert_eq!(counts(&summary, "builds"), (553, 553, 0, 0, 0));
    assert_eq!(counts(&summary, "build_testcase_table"), (34, 34, 0, 0, 0));
    assert_eq!(counts(&summary, "comments"), (1386, 1386, 0, 0, 0));
    assert_eq!(counts(&summary, "buildroot_overrides"), (150, 150, 0, 0, 0));
    assert_eq!(counts(&summary, "composes"), (3, 3, 0, 0, 0));

    let mut conn = db.conn();
    let system: (i32, Option<String>) = users::table
        .filter(users::name.eq("bodhi"))
        .select((users::id, users::email))
        .first(&mut conn)
        .expect("the system user");
    assert_eq!(system, (1, Some("updates@fedoraproject.org".into())));
    // The "submitted for testing" comments end with a space (empty notes): byte-exact.
    let text: String = comments::table
        .find(889)
        .select(comments::text)
        .first(&mut conn)
        .expect("comment 889");
    assert!(text.starts_with("This update has been submitted for testing by linarossi"));
    assert!(text.ends_with(". "), "{text:?}");
    let submitted: chrono::NaiveDateTime = updates::table
        .filter(updates::alias.eq("FEDORA-EPEL-2023-8fe8d6c432"))
        .select(updates::date_submitted)
        .first(&mut conn)
        .expect("the update");
    assert_eq!(submitted.to_string(), "2023-07-16 18:31:50.027136");
    drop(conn);

    let app = init_service(pipal::web::app(db.state())).await;
    let one = get_json(&app, "/updates/FEDORA-EPEL-2023-8fe8d6c432").await;
    let update = &one["update"];
    assert_eq!(update["status"], "stable");
    assert_eq!(update["severity"], "high");
    assert_eq!(update["date_submitted"], "2023-07-16 18:31:50");
    assert_eq!(update["date_pushed"], "2023-07-24 20:48:48");
    assert_eq!(update["karma"], 1);
    assert_eq!(update["user"]["name"], "linarossi");
    assert_eq!(update["user"]["id"], 18);
    assert_eq!(
        update["version_hash"],
        "0778edb027cf9a6b9d735b4930e277e77b1b3690"
    );
    let ids: Vec<&Value> = update["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(ids, [&json!(889), &json!(890), &json!(891), &json!(892)]);
    assert_eq!(update["comments"][2]["user"]["name"], "omarsmith");
    assert_eq!(update["comments"][2]["karma"], 1);
    assert_eq!(update["builds"][0]["epoch"], 0);

    // Every update, under its old alias, with Bodhi's values.
    for expected in bodhi_updates(&bodhi) {
        let alias = expected["alias"].as_str().expect("alias");
        let got = &get_json(&app, &format!("/updates/{alias}")).await["update"];
        for field in [
            "status",
            "request",
            "type",
            "locked",
            "date_submitted",
            "date_testing",
            "date_stable",
            "karma",
        ] {
            assert_eq!(got[field], expected[field], "{alias} {field}");
        }
        assert_eq!(got["user"]["name"], expected["user"], "{alias} user");
        let builds: Vec<&Value> = got["builds"]
            .as_array()
            .expect("builds")
            .iter()
            .map(|b| &b["nvr"])
            .collect();
        let expected_builds: Vec<&Value> = expected["builds"]
            .as_array()
            .expect("builds")
            .iter()
            .collect();
        assert_eq!(builds, expected_builds, "{alias} builds");
        let bugs: Vec<&Value> = got["bugs"]
            .as_array()
            .expect("bugs")
            .iter()
            .map(|b| &b["bug_id"])
            .collect();
        let expected_bugs: Vec<&Value> =
            expected["bugs"].as_array().expect("bugs").iter().collect();
        assert_eq!(bugs, expected_bugs, "{alias} bugs");
        let comments: Vec<&Value> = got["comments"]
            .as_array()
            .expect("comments")
            .iter()
            .map(|c| &c["id"])
            .collect();
        let expected_comments: Vec<&Value> = expected["comments"]
            .as_array()
            .expect("comments")
            .iter()
            .collect();
        assert_eq!(comments, expected_comments, "{alias} comments");
    }

    let overrides = get_json(&app, "/overrides/python3.13-5.0.3-1.fc42").await;
    assert_eq!(overrides["override"]["submitter"]["name"], "rajivanova64");
    assert_eq!(overrides["override"]["expired_date"], "2025-04-28 16:27:35");
}

/// What the API shows of the whole database: every update (with builds, bugs, comments),
/// user, override and compose.
async fn everything<S, B>(app: &S) -> Vec<Value>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut pages = Vec::new();
    for (list, pages_of_100) in [("updates", 3), ("users", 3), ("overrides", 2)] {
        for page in 1..=pages_of_100 {
            pages.push(get_json(app, &format!("/{list}/?rows_per_page=100&page={page}")).await);
        }
    }
    pages.push(get_json(app, "/composes/").await);
    pages
}

#[actix_web::test]
async fn a_second_import_changes_nothing_and_a_third_brings_only_what_changed() {
    let Some(bodhi) = BodhiDb::fixture() else {
        return;
    };
    let db = TestDb::new();
    let app = init_service(pipal::web::app(db.state())).await;
    let first = run(&db, &options(&bodhi));
    assert!(first.written() > 3000, "{first}");
    let once = everything(&app).await;
    assert_eq!(once[0]["total"], 300);

    let second = run(&db, &options(&bodhi));
    assert_eq!(everything(&app).await, once);
    assert_eq!(second.written(), 0, "{second}");
    assert!(second.skips.is_empty(), "{second}");
    assert_eq!(counts(&second, "comments"), (1386, 0, 0, 1386, 0));
    assert_eq!(counts(&second, "updates"), (300, 0, 0, 300, 0));

    // Bodhi moves on: an update goes stable, someone comments, a bug is unlinked, a user
    // joins a group, a compose finishes (Bodhi deletes it).
    bodhi.execute(
        "UPDATE updates SET status = 'stable', request = NULL, locked = false,
                date_stable = '2025-06-01 12:30:00.123456'
          WHERE alias = 'FEDORA-2025-a077f19ce0';
         INSERT INTO comments (id, karma, karma_critpath, text, timestamp, update_id, user_id)
              VALUES (5000, -1, 0, 'Breaks my desktop.', '2025-06-01 12:31:00', 196, 170);
         DELETE FROM update_bug_table
          WHERE update_id = 196 AND bug_id = (SELECT id FROM bugs WHERE bug_id = 2234349);
         INSERT INTO user_group_table (user_id, group_id)
              SELECT 170, id FROM groups WHERE name = 'packager'
               AND NOT EXISTS (SELECT 1 FROM user_group_table ug JOIN groups g
                               ON g.id = ug.group_id WHERE ug.user_id = 170
                               AND g.name = 'packager');
         DELETE FROM composes WHERE request = 'testing';
         DELETE FROM builds WHERE nvr = 'nodejs-prism-sys-0.15.1-3.el9';",
    );
    let third = run(&db, &options(&bodhi));
    assert!(third.skips.is_empty(), "{third}");
    assert_eq!(counts(&third, "updates"), (300, 0, 1, 299, 0));
    assert_eq!(counts(&third, "comments"), (1387, 1, 0, 1386, 0));
    let links = third.counts("update_bug_table").expect("links");
    assert_eq!((links.inserted, links.removed), (0, 1), "{third}");
    let memberships = third.counts("user_group_table").expect("memberships");
    assert_eq!(memberships.inserted, 1, "{third}");
    let composes = third.counts("composes").expect("composes");
    assert_eq!((composes.removed, composes.unchanged), (1, 2), "{third}");
    assert_eq!(counts(&third, "builds").2, 1, "{third}");
    assert!(
        third
            .notes
            .iter()
            .any(|n| n.starts_with("Bodhi no longer has build nodejs-prism-sys-0.15.1-3.el9")),
        "{third}"
    );
    assert_eq!(third.written(), 6, "{third}");
    let update = &get_json(&app, "/updates/FEDORA-EPEL-2023-8fe8d6c432").await["update"];
    let nvrs: Vec<&Value> = update["builds"]
        .as_array()
        .expect("builds")
        .iter()
        .map(|b| &b["nvr"])
        .collect();
    assert_eq!(
        nvrs,
        [
            &json!("ghc-marble-cli-1.8.1-3.el9"),
            &json!("nodejs-beacon-core-0.17.1-1.el9")
        ]
    );

    let mut conn = db.conn();
    let status: String = updates::table
        .filter(updates::alias.eq("FEDORA-2025-a077f19ce0"))
        .select(updates::status)
        .first(&mut conn)
        .expect("the update");
    assert_eq!(status, "stable");
    let karma: i32 = comments::table
        .find(5000)
        .select(comments::karma)
        .first(&mut conn)
        .expect("the new comment keeps Bodhi's id");
    assert_eq!(karma, -1);
}

#[test]
fn bad_rows_are_skipped_with_their_reason_and_the_rest_arrives() {
    let Some(bodhi) = BodhiDb::fixture() else {
        return;
    };
    // What Bodhi's constraints allow but Pipal refuses, and what an older Bodhi may hold.
    bodhi.execute(
        "ALTER TABLE updates ALTER COLUMN status TYPE text;
         UPDATE updates SET status = 'side_tag_active' WHERE alias = 'FEDORA-EPEL-2023-8fe8d6c432';
         UPDATE comments SET karma = 2 WHERE id = 640;
         INSERT INTO buildroot_overrides (id, notes, submission_date, expiration_date, build_id,
                                          submitter_id)
              SELECT 151, 'again', submission_date, expiration_date, build_id, submitter_id
                FROM buildroot_overrides WHERE id = 150;
         INSERT INTO packages (id, name, type) VALUES (901, 'flatpak-runtime', 'flatpak');
         INSERT INTO builds (id, nvr, signed, package_id, release_id, update_id, type, epoch)
              VALUES (554, 'flatpak-runtime-1.0-1', true, 901, 1, NULL, 'flatpak', NULL);
         INSERT INTO comment_bug_assoc (id, karma, comment_id, bug_id)
              SELECT 1, 1, 641, bug_id FROM bugs ORDER BY id LIMIT 1;
         ALTER TABLE comments DROP CONSTRAINT comments_user_id_fkey;
         INSERT INTO comments (id, karma, karma_critpath, text, timestamp, update_id, user_id)
              VALUES (5001, 0, 0, 'By nobody.', '2025-06-01 11:00:00', 142, 99999);",
    );
    let db = TestDb::new();
    let summary = run(&db, &options(&bodhi));

    let reasons: Vec<String> = summary
        .skips
        .iter()
        .map(|s| format!("{} {}: {}", s.table, s.row, s.reason))
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("updates 196: status: \"side_tag_active\" is not one of")),
        "{summary}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("builds 271: its update 196 was skipped")),
        "{summary}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("comments 889: its update 196 was skipped")),
        "{summary}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r == "comments 640: karma 2 is outside -1..1"),
        "{summary}"
    );
    assert!(
        reasons.iter().any(|r| r
            .starts_with("buildroot_overrides 151: duplicate of Bodhi buildroot_overrides 150")),
        "{summary}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r == "comments 5001: its user 99999 is not in Bodhi's database"),
        "{summary}"
    );
    // Nothing else is missing: 300 updates less one, 1386 comments less the 4 of that update
    // and the bad one (the orphan is the 1387th).
    assert_eq!(counts(&summary, "updates").1, 299);
    assert_eq!(counts(&summary, "comments").1, 1386 - 4 - 1);

    // With other batch sizes the same rows are refused and nothing changes: the duplicate
    // override now comes in a later batch than the first.
    let again = run(
        &db,
        &ImportOptions {
            batch: 150,
            ..options(&bodhi)
        },
    );
    assert_eq!(again.written(), 0, "{again}");
    assert_eq!(again.skips.len(), summary.skips.len(), "{again}");
    assert!(
        again.skips.iter().any(|s| s.table == "buildroot_overrides"
            && s.row == "151"
            && s.reason
                .starts_with("duplicate of an earlier Bodhi buildroot_overrides row")),
        "{again}"
    );
    assert_eq!(counts(&summary, "comment_bug_assoc"), (1, 1, 0, 0, 0));
    let text = summary.to_string();
    assert!(text.contains("karma 2 is outside -1..1"), "{text}");

    let mut conn = db.conn();
    let flatpak: (String, Option<i32>) = pipal::db::schema::builds::table
        .find(554)
        .select((
            pipal::db::schema::builds::type_,
            pipal::db::schema::builds::epoch,
        ))
        .first(&mut conn)
        .expect("the flatpak build");
    assert_eq!(flatpak, ("flatpak".into(), None));
}

#[test]
fn the_development_schema_with_ratings_imports_too() {
    let Some(bodhi) = BodhiDb::fixture() else {
        return;
    };
    // Bodhi's 2024 development branch ("8.1.1") renamed karma to feedback and rating.
    bodhi.execute(
        "ALTER TABLE comments RENAME COLUMN karma TO feedback;
         ALTER TABLE comments RENAME COLUMN karma_critpath TO feedback_critpath;
         ALTER TABLE comment_bug_assoc RENAME COLUMN karma TO feedback;
         ALTER TABLE updates RENAME COLUMN autokarma TO autorating;
         ALTER TABLE updates RENAME COLUMN stable_karma TO stable_rating;
         ALTER TABLE updates RENAME COLUMN unstable_karma TO unstable_rating;
         ALTER TABLE releases DROP COLUMN released_on;",
    );
    let db = TestDb::new();
    let summary = run(&db, &options(&bodhi));
    assert!(summary.skips.is_empty(), "{summary}");
    assert_eq!(counts(&summary, "comments").1, 1386);
    let mut conn = db.conn();
    let karma: i64 = comments::table
        .filter(comments::update_id.eq(142))
        .select(diesel::dsl::sum(comments::karma))
        .first::<Option<i64>>(&mut conn)
        .expect("karma")
        .unwrap_or(0);
    assert_eq!(karma, 2);
    let stable_karma: i32 = updates::table
        .find(142)
        .select(updates::stable_karma)
        .first(&mut conn)
        .expect("the update");
    assert_eq!(stable_karma, 3);
}

#[test]
fn a_dry_run_reports_everything_and_writes_nothing() {
    let Some(bodhi) = BodhiDb::fixture() else {
        return;
    };
    let db = TestDb::new();
    let summary = run(
        &db,
        &ImportOptions {
            dry_run: true,
            ..options(&bodhi)
        },
    );
    assert_eq!(counts(&summary, "updates"), (300, 300, 0, 0, 0));
    assert!(summary.to_string().starts_with("Dry run"), "{summary}");
    let mut conn = db.conn();
    let updates: i64 = updates::table.count().get_result(&mut conn).expect("count");
    assert_eq!(updates, 0);
}

#[test]
fn the_command_prints_the_summary_and_refuses_what_is_not_bodhi() {
    let Some(bodhi) = BodhiDb::fixture() else {
        return;
    };
    let db = TestDb::new();
    let output = db.pipal(&[
        "import", "bodhi", "--from", &bodhi.url, "--batch", "500", "--quiet",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("Imported from"), "{out}");
    assert!(out.contains("Nothing was skipped."), "{out}");

    // Pipal's own database is not a Bodhi database (no table `comments`… it has one, but
    // a missing one is named): an empty database says what is missing.
    let empty = BodhiDb::fixture().expect("a server");
    empty.execute("DROP TABLE comment_bug_assoc, comment_testcase_assoc, comments CASCADE");
    let output = db.pipal(&["import", "bodhi", "--from", &empty.url, "--quiet"]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("is not a Bodhi database: it has no table comments"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[actix_web::test]
async fn rows_already_in_pipal_keep_their_ids_and_bodhis_rows_move_aside() {
    let Some(bodhi) = BodhiDb::fixture() else {
        return;
    };
    let db = TestDb::new();
    let now = chrono::Utc::now().naive_utc();
    {
        // A site that created its admin and one packager in Pipal before importing: the
        // admin takes Bodhi's user id 2, the packager exists under another id than Bodhi's.
        let mut conn = db.conn();
        for name in ["pipal-admin", "linarossi"] {
            diesel::insert_into(users::table)
                .values((users::name.eq(name), users::created_at.eq(now)))
                .execute(&mut conn)
                .expect("a Pipal user");
        }
    }
    let local: Vec<(i32, String)> = users::table
        .select((users::id, users::name))
        .order(users::id)
        .load(&mut db.conn())
        .expect("users");
    assert_eq!(
        local[1..],
        [(2, "pipal-admin".into()), (3, "linarossi".into())]
    );

    let first = run(&db, &options(&bodhi));
    assert!(first.skips.is_empty(), "{first}");
    assert_eq!(counts(&first, "users"), (300, 298, 2, 0, 0), "{first}");
    let notes = first.notes.join("\n");
    assert!(
        notes.contains("Bodhi users 18 (user linarossi) is Pipal's users 3"),
        "{notes}"
    );
    assert!(notes.contains("Bodhi users 2 ("), "{notes}");

    let app = init_service(pipal::web::app(db.state())).await;
    let update = &get_json(&app, "/updates/FEDORA-EPEL-2023-8fe8d6c432").await["update"];
    assert_eq!(update["user"]["name"], "linarossi");
    assert_eq!(update["user"]["id"], 3);
    let pipal_admin: i64 = users::table
        .filter(users::name.eq("pipal-admin"))
        .count()
        .get_result(&mut db.conn())
        .expect("count");
    assert_eq!(pipal_admin, 1);

    // Pipal's own inserts do not collide with the imported ids (PostgreSQL's sequences were
    // moved past them).
    diesel::insert_into(users::table)
        .values((users::name.eq("newcomer"), users::created_at.eq(now)))
        .execute(&mut db.conn())
        .expect("a new Pipal user after the import");

    let second = run(&db, &options(&bodhi));
    assert_eq!(second.written(), 0, "{second}");
    let users_total: i64 = users::table
        .count()
        .get_result(&mut db.conn())
        .expect("count");
    assert_eq!(users_total, 302);
}

#[test]
fn an_interrupted_import_is_finished_by_running_it_again() {
    let Some(bodhi) = BodhiDb::fixture() else {
        return;
    };
    // Bodhi's database fails half-way through the comments (a bad disk block, say): the run
    // stops there with an error, after users, updates, builds and the first pages of
    // comments are in. (STABLE and costly: the planner then computes the text only for the
    // rows a page returns, so the pages before id 700 read fine.)
    bodhi.execute(
        r#"ALTER TABLE comments RENAME TO comments_data;
         CREATE FUNCTION failing_text(id integer, body text) RETURNS text LANGUAGE plpgsql
             STABLE COST 10000 AS $$
         BEGIN
             IF id > 700 THEN RAISE EXCEPTION 'could not read block 7 of relation comments'; END IF;
             RETURN body;
         END $$;
         CREATE VIEW comments AS SELECT id, karma, karma_critpath, failing_text(id, text) AS text,
             "timestamp", update_id, user_id FROM comments_data;"#,
    );
    let db = TestDb::new();
    let mut conn = db.conn();
    let error = import(&mut conn, &options(&bodhi)).expect_err("the import stops");
    let message = format!("{error:#}");
    assert!(
        message.starts_with("cannot import Bodhi's comments: ")
            && message.contains("could not read block 7"),
        "{message}"
    );
    let updates_in: i64 = updates::table.count().get_result(&mut conn).expect("count");
    assert_eq!(updates_in, 300);
    let comments_in: i64 = comments::table
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert!(comments_in > 0 && comments_in <= 700, "{comments_in}");
    // The batches that are in moved the id sequences: Pipal can go on inserting.
    diesel::insert_into(users::table)
        .values((
            users::name.eq("newcomer"),
            users::created_at.eq(chrono::Utc::now().naive_utc()),
        ))
        .execute(&mut conn)
        .expect("a new Pipal user after the interrupted import");
    drop(conn);

    // Repaired and started again, it finishes the job without doubling anything.
    bodhi.execute("DROP VIEW comments; ALTER TABLE comments_data RENAME TO comments;");
    let again = run(&db, &options(&bodhi));
    assert!(again.skips.is_empty(), "{again}");
    assert_eq!(counts(&again, "updates"), (300, 0, 0, 300, 0));
    let done = u64::try_from(comments_in).expect("a count");
    assert_eq!(counts(&again, "comments"), (1386, 1386 - done, 0, done, 0));
    let comments_in: i64 = comments::table
        .count()
        .get_result(&mut db.conn())
        .expect("count");
    assert_eq!(comments_in, 1386);
    let third = run(&db, &options(&bodhi));
    assert_eq!(third.written(), 0, "{third}");
}
