//! A small Bodhi world for API tests: release F44 (current) with its tags in the local build
//! system, users with API tokens, packages with owners, and candidate builds on demand.
//!
//! | user  | groups                 | owns        |
//! |-------|------------------------|-------------|
//! | alice | packager               | nano, vim   |
//! | bob   | packager               | —           |
//! | tess  | —                      | —           |
//! | carol | packager, bodhiadmin   | —           |
//! | pete  | packager, provenpackager | —         |

use std::collections::HashMap;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::TestRequest;
use pipal::buildsys::LocalBuildSystem;
use pipal::db::types::{
    AclRole, ContentType, ReleaseState, UpdateRequest, UpdateStatus, UpdateType,
};
use pipal::models::build::{Build, NewBuild};
use pipal::models::buildsys::{BuildsysBuild, Event, NewBuildsysBuild};
use pipal::models::now;
use pipal::models::package::{Grantee, Package, PackageAcl};
use pipal::models::release::{NewRelease, Release};
use pipal::models::update::{NewUpdate, Update, new_alias};
use pipal::services::accounts::{self, UserSpec};
use pipal::services::releases;
use pipal::state::AppState;
use serde_json::Value;

use super::TestDb;
use super::http::{Reply, send};

pub const USERS: &[(&str, &[&str])] = &[
    ("alice", &["packager"]),
    ("bob", &["packager"]),
    ("tess", &[]),
    ("carol", &["packager", "bodhiadmin"]),
    ("pete", &["packager", "provenpackager"]),
];

pub struct World {
    pub db: TestDb,
    pub state: AppState,
    tokens: HashMap<String, String>,
}

impl World {
    pub fn new() -> World {
        Self::with_state(|_| {})
    }

    /// A world whose settings `adjust` changes first.
    pub fn with_state(adjust: impl FnOnce(&mut pipal::config::Settings)) -> World {
        let db = TestDb::new();
        let mut settings = db.settings();
        adjust(&mut settings);
        let state = AppState::new(db.db.clone(), settings).expect("state");
        let mut world = World {
            db,
            state,
            tokens: HashMap::new(),
        };
        world.add_release(&f44());
        let mut conn = world.db.conn();
        for (name, groups) in USERS {
            let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
            let email = format!("{name}@example.org");
            accounts::create_user(
                &mut conn,
                &UserSpec {
                    name,
                    email: Some(&email),
                    groups: &groups,
                    password: Some("secret-password"),
                },
                now(),
            )
            .expect("create user");
            let token =
                accounts::issue_token(&mut conn, name, "tests", None, now()).expect("token");
            world.tokens.insert(name.to_string(), token);
        }
        for package in ["nano", "vim"] {
            world.grant(package, "alice");
        }
        world
    }

    /// Creates a release and its tags (Fedora's layout).
    pub fn add_release(&self, release: &NewRelease) {
        let buildsys = self.local();
        for tag in releases::tags_of(release) {
            let parents: Vec<String> = releases::fedora_tag_parent(release, &tag)
                .map(str::to_owned)
                .into_iter()
                .collect();
            buildsys
                .create_tag(&tag, &parents, Some("x86_64"), &serde_json::json!({}))
                .expect("create tag");
        }
        releases::create(&mut self.db.conn(), release).expect("create release");
    }

    pub fn grant(&self, package: &str, user: &str) {
        let mut conn = self.db.conn();
        let (package, _) = Package::ensure(&mut conn, package, ContentType::Rpm).expect("package");
        let user = accounts::existing_user(&mut conn, user).expect("user");
        PackageAcl::grant(
            &mut conn,
            package.id,
            Grantee::User(user.id),
            AclRole::Owner,
            now(),
        )
        .expect("grant");
    }

    pub fn local(&self) -> LocalBuildSystem {
        LocalBuildSystem::new(self.db.db.clone(), self.db.dir.path().join("koji"))
    }

    pub fn token(&self, user: &str) -> &str {
        &self.tokens[user]
    }

    /// Registers a build of alice's (no RPM files) and tags it into `tag`.
    pub fn build_in(&self, nvr: &str, tag: &str) {
        self.build_by(nvr, tag, "alice");
    }

    /// Registers a build owned by `owner` and tags it into `tag`.
    pub fn build_by(&self, nvr: &str, tag: &str, owner: &str) {
        self.build_with_extra(nvr, tag, owner, &Value::Object(Default::default()));
    }

    /// Registers a build with Koji's `extra` (a module's or an image's typeinfo) and tags it
    /// into `tag`.
    pub fn build_with_extra(&self, nvr: &str, tag: &str, owner: &str, extra: &Value) {
        let (rest, release) = nvr.rsplit_once('-').expect("an NVR");
        let (name, version) = rest.rsplit_once('-').expect("an NVR");
        let mut conn = self.db.conn();
        let time = now();
        let event = Event::create(&mut conn, time).expect("event");
        BuildsysBuild::create(
            &mut conn,
            &NewBuildsysBuild {
                package_name: name,
                version,
                release,
                epoch: None,
                nvr,
                owner_name: owner,
                state: 1,
                task_id: None,
                creation_event: event.id,
                creation_time: time,
                completion_time: Some(time),
                source: None,
                extra: &extra.to_string(),
            },
        )
        .expect("register build");
        self.tag(nvr, tag);
    }

    /// A signed update of alice's in `release` with the one build `nvr` of `content_type`,
    /// requested for testing (as a push finds it); its alias.
    pub fn requested_update(&self, release: &str, nvr: &str, content_type: ContentType) -> String {
        let mut conn = self.db.conn();
        let release = Release::by_name(&mut conn, release)
            .expect("read release")
            .expect("the release");
        let owner = accounts::existing_user(&mut conn, "alice").expect("alice");
        let time = now();
        let mut new = NewUpdate::with_defaults(
            new_alias(&release.id_prefix, time),
            release.id,
            Some(owner.id),
            UpdateType::Enhancement,
            format!("{nvr} for testing."),
            time,
        );
        new.status = UpdateStatus::Pending;
        new.request = Some(UpdateRequest::Testing);
        let update = Update::create(&mut conn, &new).expect("create update");
        let package_name = nvr.rsplitn(3, '-').nth(2).expect("an NVR");
        let (package, _) = Package::ensure(&mut conn, package_name, content_type).expect("package");
        Build::create(
            &mut conn,
            &NewBuild {
                nvr,
                signed: true,
                package_id: package.id,
                release_id: Some(release.id),
                update_id: Some(update.id),
                content_type,
                epoch: Some(0),
            },
        )
        .expect("create build");
        update.alias
    }

    /// A build tagged as an F44 candidate.
    pub fn candidate(&self, nvr: &str) {
        self.build_in(nvr, "f44-updates-candidate");
    }

    pub fn tag(&self, nvr: &str, tag: &str) {
        self.state
            .buildsys
            .tag_build(tag, nvr, "tests")
            .expect("tag build");
    }

    /// The build system tags of a build, sorted.
    pub fn tags(&self, nvr: &str) -> Vec<String> {
        let mut tags: Vec<String> = self
            .state
            .buildsys
            .list_tags(nvr)
            .expect("list tags")
            .into_iter()
            .map(|t| t.name)
            .collect();
        tags.sort();
        tags
    }

    /// Moves a submitted update to `testing` as a testing push would (status testing, request
    /// none, builds in the testing tag).
    pub fn push_to_testing(&self, alias: &str) {
        use pipal::db::types::UpdateStatus;
        use pipal::models::build::Build;
        use pipal::models::update::Update;
        let mut conn = self.db.conn();
        let mut update = Update::by_alias(&mut conn, alias)
            .expect("query")
            .expect("update");
        update.status = UpdateStatus::Testing;
        update.request = None;
        update.pushed = true;
        update.date_testing = Some(now());
        update.save(&mut conn).expect("save");
        for build in Build::for_updates(&mut conn, &[update.id]).expect("builds") {
            for tag in self.tags(&build.nvr) {
                if tag != "f44-updates-candidate" {
                    self.state
                        .buildsys
                        .untag_build(&tag, &build.nvr, "tests")
                        .expect("untag");
                }
            }
            self.tag(&build.nvr, "f44-updates-testing");
        }
    }
}

/// F44 as Fedora has it: current, composed by Pipal.
pub fn f44() -> NewRelease {
    let mut release = releases::fedora_release("F44", "Fedora 44", "f44");
    release.state = ReleaseState::Current;
    release
}

/// GET with no user.
pub async fn get<S, B>(app: &S, path: &str) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(app, TestRequest::get().uri(path)).await
}

/// GET returning JSON, asserting 200.
pub async fn get_json<S, B>(app: &S, path: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let reply = get(app, path).await;
    assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
    reply.json()
}

/// Whether `GET /builds/{nvr}` says the build is signed.
pub async fn build_signed<S, B>(app: &S, nvr: &str) -> bool
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    get_json(app, &format!("/builds/{nvr}")).await["signed"] == true
}

/// POST a JSON body with a bearer token (no CSRF needed).
pub async fn post<S, B>(app: &S, token: &str, path: &str, body: Value) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(
        app,
        TestRequest::post()
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {token}")))
            .set_json(body),
    )
    .await
}

/// POST, asserting 200, returning the JSON.
pub async fn post_ok<S, B>(app: &S, token: &str, path: &str, body: Value) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let reply = post(app, token, path, body).await;
    assert_eq!(reply.status, 200, "POST {path}: {}", reply.text());
    reply.json()
}

/// The descriptions of an error envelope.
pub fn errors(body: &Value) -> Vec<String> {
    assert_eq!(body["status"], "error", "not an error envelope: {body}");
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["description"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The descriptions of a response's caveats.
pub fn caveats(body: &Value) -> Vec<String> {
    body["caveats"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| c["description"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The body of a new update for `builds`, with Bodhi's required fields.
pub fn new_update(builds: &[&str]) -> Value {
    serde_json::json!({
        "builds": builds,
        "type": "bugfix",
        "notes": "Fixes a crash when saving.",
    })
}

/// Creates an update of `builds` as `user` through the API and returns its alias.
pub async fn submit<S, B>(app: &S, world: &World, user: &str, builds: &[&str]) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let body = post_ok(app, world.token(user), "/updates/", new_update(builds)).await;
    body["alias"].as_str().expect("an alias").to_owned()
}

/// The update as `GET /updates/{alias}` shows it.
pub async fn show<S, B>(app: &S, alias: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    get_json(app, &format!("/updates/{alias}")).await["update"].clone()
}

/// The texts of an update's comments, oldest first.
pub fn comment_texts(update: &Value) -> Vec<String> {
    update["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(|c| c["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

impl World {
    /// Changes a stored update directly (for states only a push reaches).
    pub fn alter_update(
        &self,
        alias: &str,
        change: impl FnOnce(&mut pipal::models::update::Update),
    ) {
        let mut conn = self.db.conn();
        let mut update = pipal::models::update::Update::by_alias(&mut conn, alias)
            .expect("query")
            .expect("update");
        change(&mut update);
        update.save(&mut conn).expect("save update");
    }

    /// Sets a release's state directly (no freeze or archive side effects).
    pub fn set_release_state(&self, name: &str, state: ReleaseState) {
        use diesel::prelude::*;
        use pipal::db::schema::releases;
        diesel::update(releases::table.filter(releases::name.eq(name)))
            .set(releases::state.eq(state))
            .execute(&mut self.db.conn())
            .expect("set release state");
    }
}
