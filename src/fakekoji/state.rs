//! The fake hub's data: Koji's tables reduced to what the API exposes, kept in memory and
//! serialisable to a JSON snapshot.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::xmlrpc::Fault;

pub const GENERIC_ERROR: i64 = 1000;
pub const AUTH_ERROR: i64 = 1002;
pub const TAG_ERROR: i64 = 1003;
pub const ACTION_NOT_ALLOWED: i64 = 1004;
pub const AUTH_EXPIRED: i64 = 1007;
pub const PARAMETER_ERROR: i64 = 1019;

pub const BUILD_COMPLETE: i64 = 1;

pub const TASK_FREE: i64 = 0;
pub const TASK_OPEN: i64 = 1;
pub const TASK_CLOSED: i64 = 2;
pub const TASK_CANCELED: i64 = 3;
pub const TASK_FAILED: i64 = 5;

/// The permissions of a default Koji install, by id.
pub const PERMISSIONS: &[&str] = &[
    "admin",
    "appliance",
    "autosign",
    "build",
    "dist-repo",
    "draft-promoter",
    "host",
    "image",
    "image-import",
    "livecd",
    "maven-import",
    "repo",
    "sign",
    "tag",
    "target",
    "vm",
    "win-admin",
    "win-import",
];

pub fn generic(message: impl Into<String>) -> Fault {
    Fault::new(GENERIC_ERROR, message)
}

/// Python's `repr()` of a tag or build reference, as Koji puts it in its messages.
pub fn py_repr(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// Koji's time strings: `isoformat(' ')` of an aware datetime, the fraction only when non-zero.
pub fn koji_time(t: &DateTime<Utc>) -> String {
    if t.timestamp_subsec_micros() == 0 {
        t.format("%Y-%m-%d %H:%M:%S+00:00").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string()
    }
}

pub fn koji_ts(t: &DateTime<Utc>) -> f64 {
    t.timestamp_micros() as f64 / 1_000_000.0
}

fn time_pair(t: Option<&DateTime<Utc>>) -> (Value, Value) {
    match t {
        Some(t) => (json!(koji_time(t)), json!(koji_ts(t))),
        None => (Value::Null, Value::Null),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub password: Option<String>,
    pub perms: BTreeSet<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inheritance {
    pub parent_id: i64,
    pub priority: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackageEntry {
    pub owner_id: i64,
    pub blocked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tag {
    pub id: i64,
    pub name: String,
    pub arches: String,
    pub locked: bool,
    pub perm_id: Option<i64>,
    pub maven_support: bool,
    pub maven_include_all: bool,
    pub extra: Map<String, Value>,
    pub parents: Vec<Inheritance>,
    pub packages: BTreeMap<i64, PackageEntry>,
    /// The last event that changed anything about the tag (for `tagChangedSinceEvent`).
    pub changed_event: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Build {
    pub id: i64,
    pub package_id: i64,
    pub version: String,
    pub release: String,
    pub epoch: Option<i64>,
    pub state: i64,
    pub draft: bool,
    pub owner_id: i64,
    pub task_id: Option<i64>,
    pub creation_event: i64,
    pub creation_time: DateTime<Utc>,
    pub completion_time: Option<DateTime<Utc>>,
    pub source: Option<String>,
    pub extra: Option<Value>,
    /// `listBuildRPMs` entries, set through the fake-only `fake.addBuildRPM`.
    #[serde(default)]
    pub rpms: Vec<Value>,
}

/// A bus message the hub sends after a change: its topic (without the prefix) and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Announcement {
    pub topic: &'static str,
    pub body: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Listing {
    pub tag_id: i64,
    pub build_id: i64,
    pub create_event: i64,
    pub revoke_event: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    pub id: i64,
    pub method: String,
    pub request: Vec<Value>,
    pub state: i64,
    pub owner: i64,
    pub create_time: DateTime<Utc>,
    pub start_time: Option<DateTime<Utc>>,
    pub completion_time: Option<DateTime<Utc>>,
    /// When the task may run (now plus the configured delay).
    pub run_after: DateTime<Utc>,
    pub result: Option<Value>,
    pub fault: Option<(i64, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub id: i64,
    pub key: String,
    pub user_id: i64,
    pub expired: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepoRequest {
    pub id: i64,
    pub tag_id: i64,
    pub min_event: i64,
    pub repo_id: i64,
}

/// A build target: where builds of `name` get their buildroot and where they land.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    pub id: i64,
    pub name: String,
    pub build_tag: i64,
    pub dest_tag: i64,
}

/// Everything the hub knows. Ids come from one counter per table, as in Koji's sequences.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HubState {
    pub last_event: i64,
    pub events: BTreeMap<i64, f64>,
    pub users: BTreeMap<i64, User>,
    pub packages: BTreeMap<i64, String>,
    pub tags: BTreeMap<i64, Tag>,
    pub builds: BTreeMap<i64, Build>,
    pub listings: Vec<Listing>,
    pub tasks: BTreeMap<i64, Task>,
    pub sessions: BTreeMap<i64, Session>,
    #[serde(default)]
    pub repo_requests: BTreeMap<i64, RepoRequest>,
    #[serde(default)]
    pub targets: BTreeMap<i64, Target>,
    /// `getRPMHeaders` answers by rpmID (`name-version-release.arch`), set through the
    /// fake-only `fake.setRPMHeaders`: the fake has no RPM files to read.
    #[serde(default)]
    pub rpm_headers: BTreeMap<String, Value>,
    /// The user whose call (or task) is changing the state, for the bus messages.
    #[serde(skip)]
    pub actor: Option<i64>,
    /// `buildsys.tag` / `buildsys.untag` messages of the changes made by the current call,
    /// sent once it is done (and dropped with it when it is rolled back).
    #[serde(skip)]
    pub announcements: Vec<Announcement>,
    pub next_id: BTreeMap<String, i64>,
    /// Builds whose tag tasks fail (fault injection), by NVR, with the fault to report.
    #[serde(skip)]
    pub failing_builds: BTreeMap<String, Fault>,
}

impl HubState {
    /// A hub with one admin account.
    pub fn new(admin: &str, password: &str) -> Self {
        let mut state = HubState::default();
        state.add_user(admin, Some(password), &["admin"]);
        state
    }

    pub fn next(&mut self, table: &str) -> i64 {
        let counter = self.next_id.entry(table.to_owned()).or_insert(0);
        *counter += 1;
        *counter
    }

    /// Opens a new event, as every write in Koji does.
    pub fn new_event(&mut self) -> i64 {
        self.last_event += 1;
        self.events
            .insert(self.last_event, koji_ts(&Utc::now()).max(self.last_ts()));
        self.last_event
    }

    fn last_ts(&self) -> f64 {
        self.events.values().next_back().copied().unwrap_or(0.0)
    }

    pub fn last_event_info(&self) -> Value {
        json!({"id": self.last_event, "ts": self.last_ts()})
    }

    pub fn add_user(&mut self, name: &str, password: Option<&str>, perms: &[&str]) -> i64 {
        let id = self.next("users");
        self.users.insert(
            id,
            User {
                id,
                name: name.to_owned(),
                password: password.map(str::to_owned),
                perms: perms.iter().map(|p| (*p).to_owned()).collect(),
            },
        );
        id
    }

    pub fn user_by_name(&self, name: &str) -> Option<&User> {
        self.users.values().find(|u| u.name == name)
    }

    pub fn user_name(&self, id: i64) -> String {
        self.users
            .get(&id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }

    pub fn has_perm(&self, user_id: i64, perm: &str) -> bool {
        self.users
            .get(&user_id)
            .is_some_and(|u| u.perms.contains(perm) || u.perms.contains("admin"))
    }

    pub fn user_json(&self, user: &User) -> Value {
        json!({"id": user.id, "name": user.name, "status": 0, "usertype": 0,
               "krb_principals": [], "krb_principal": null})
    }

    // --- packages ---

    pub fn package_id(&self, name: &str) -> Option<i64> {
        self.packages
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(id, _)| *id)
    }

    pub fn ensure_package(&mut self, name: &str) -> i64 {
        match self.package_id(name) {
            Some(id) => id,
            None => {
                let id = self.next("package");
                self.packages.insert(id, name.to_owned());
                id
            }
        }
    }

    // --- tags ---

    /// A tag by id, name, or `{id}`/`{name}` struct.
    pub fn find_tag(&self, info: &Value) -> Option<&Tag> {
        match info {
            Value::Number(n) => n.as_i64().and_then(|id| self.tags.get(&id)),
            Value::String(name) => self.tags.values().find(|t| &t.name == name),
            Value::Object(map) => map
                .get("id")
                .or_else(|| map.get("name"))
                .and_then(|v| self.find_tag(v)),
            _ => None,
        }
    }

    /// A tag or Koji's `No such tagInfo` fault.
    pub fn tag(&self, info: &Value) -> Result<&Tag, Fault> {
        self.find_tag(info)
            .ok_or_else(|| generic(format!("No such tagInfo: {}", py_repr(info))))
    }

    pub fn tag_id(&self, info: &Value) -> Result<i64, Fault> {
        self.tag(info).map(|t| t.id)
    }

    pub fn perm_name(id: Option<i64>) -> Value {
        id.and_then(|id| PERMISSIONS.get(usize::try_from(id - 1).ok()?))
            .map_or(Value::Null, |name| json!(name))
    }

    pub fn perm_id(name: &str) -> Option<i64> {
        PERMISSIONS
            .iter()
            .position(|p| *p == name)
            .map(|index| index as i64 + 1)
    }

    /// The `listTags` shape (no `extra`).
    pub fn tag_summary(&self, tag: &Tag) -> Value {
        json!({
            "id": tag.id,
            "name": tag.name,
            "arches": tag.arches,
            "locked": tag.locked,
            "maven_support": tag.maven_support,
            "maven_include_all": tag.maven_include_all,
            "perm_id": tag.perm_id,
            "perm": Self::perm_name(tag.perm_id),
        })
    }

    /// The `getTag` shape.
    pub fn tag_json(&self, tag: &Tag) -> Value {
        let mut value = self.tag_summary(tag);
        value["extra"] = Value::Object(tag.extra.clone());
        value
    }

    /// The tag and its ancestors, depth first by priority, each with its depth and the link
    /// that reached it.
    pub fn inheritance_order(&self, tag_id: i64) -> Vec<(i64, i64, i64, i64)> {
        // (tag id, child id, depth, priority)
        let mut order = vec![(tag_id, 0, 0, 0)];
        let mut seen = BTreeSet::from([tag_id]);
        self.walk_parents(tag_id, 1, &mut seen, &mut order);
        order
    }

    fn walk_parents(
        &self,
        tag_id: i64,
        depth: i64,
        seen: &mut BTreeSet<i64>,
        out: &mut Vec<(i64, i64, i64, i64)>,
    ) {
        let Some(tag) = self.tags.get(&tag_id) else {
            return;
        };
        let mut parents = tag.parents.clone();
        parents.sort_by_key(|link| link.priority);
        for link in parents {
            if self.tags.contains_key(&link.parent_id) && seen.insert(link.parent_id) {
                out.push((link.parent_id, tag_id, depth, link.priority));
                self.walk_parents(link.parent_id, depth + 1, seen, out);
            }
        }
    }

    pub fn inheritance_entry(&self, parent_id: i64, child_id: i64, priority: i64) -> Value {
        json!({
            "child_id": child_id,
            "intransitive": false,
            "maxdepth": null,
            "name": self.tags.get(&parent_id).map(|t| t.name.clone()),
            "noconfig": false,
            "parent_id": parent_id,
            "pkg_filter": "",
            "priority": priority,
        })
    }

    /// Packages allowed in a tag: its own package list entries first, then its ancestors';
    /// the nearest entry decides whether the package is blocked.
    pub fn allowed_packages(&self, tag_id: i64) -> BTreeSet<i64> {
        let mut decided = BTreeMap::new();
        for (id, ..) in self.inheritance_order(tag_id) {
            if let Some(tag) = self.tags.get(&id) {
                for (package, entry) in &tag.packages {
                    decided.entry(*package).or_insert(!entry.blocked);
                }
            }
        }
        decided
            .into_iter()
            .filter(|(_, allowed)| *allowed)
            .map(|(package, _)| package)
            .collect()
    }

    pub fn touch_tag(&mut self, tag_id: i64, event: i64) {
        if let Some(tag) = self.tags.get_mut(&tag_id) {
            tag.changed_event = event;
        }
    }

    // --- builds ---

    pub fn nvr(&self, build: &Build) -> String {
        format!(
            "{}-{}-{}",
            self.package_name(build.package_id),
            build.version,
            build.release
        )
    }

    pub fn package_name(&self, id: i64) -> &str {
        self.packages.get(&id).map(String::as_str).unwrap_or("")
    }

    /// A build by id, `N-V-R` or `{name, version, release}`.
    pub fn find_build(&self, info: &Value) -> Option<&Build> {
        match info {
            Value::Number(n) => n.as_i64().and_then(|id| self.builds.get(&id)),
            Value::String(nvr) => self.builds.values().find(|b| &self.nvr(b) == nvr),
            Value::Object(map) => {
                if let Some(id) = map.get("id").or_else(|| map.get("build_id")) {
                    return self.find_build(id);
                }
                let field = |k: &str| map.get(k).and_then(Value::as_str);
                let (name, version, release) =
                    (field("name")?, field("version")?, field("release")?);
                self.builds.values().find(|b| {
                    self.package_name(b.package_id) == name
                        && b.version == version
                        && b.release == release
                })
            }
            _ => None,
        }
    }

    /// A build or Koji's `No such build: 'x'` fault.
    pub fn build(&self, info: &Value) -> Result<&Build, Fault> {
        self.find_build(info)
            .ok_or_else(|| generic(format!("No such build: {}", py_repr(info))))
    }

    /// The `getBuild` shape.
    pub fn build_json(&self, build: &Build) -> Value {
        let (creation_time, creation_ts) = time_pair(Some(&build.creation_time));
        let (completion_time, completion_ts) = time_pair(build.completion_time.as_ref());
        let name = self.package_name(build.package_id);
        json!({
            "build_id": build.id,
            "id": build.id,
            "name": name,
            "package_name": name,
            "package_id": build.package_id,
            "version": build.version,
            "release": build.release,
            "epoch": build.epoch,
            "nvr": self.nvr(build),
            "state": build.state,
            "draft": build.draft,
            "task_id": build.task_id,
            "owner_id": build.owner_id,
            "owner_name": self.user_name(build.owner_id),
            "creation_event_id": build.creation_event,
            "creation_time": creation_time,
            "creation_ts": creation_ts,
            "start_time": null,
            "start_ts": null,
            "completion_time": completion_time,
            "completion_ts": completion_ts,
            "promotion_time": null,
            "promotion_ts": null,
            "promoter_id": null,
            "promoter_name": null,
            "volume_id": 0,
            "volume_name": "DEFAULT",
            "source": build.source,
            "extra": build.extra,
            "cg_id": null,
            "cg_name": null,
        })
    }

    /// The `listTagged` shape: the build without `source`, `extra`, `cg_*` and `*_ts`, plus
    /// the tag and the listing's event.
    pub fn tagged_json(&self, build: &Build, tag: &Tag, listing: &Listing, extra: bool) -> Value {
        let mut value = self.build_json(build);
        if let Value::Object(map) = &mut value {
            for key in [
                "source",
                "cg_id",
                "cg_name",
                "creation_ts",
                "start_ts",
                "completion_ts",
                "promotion_ts",
            ] {
                map.remove(key);
            }
            if !extra {
                map.remove("extra");
            }
            map.insert("tag_id".into(), json!(tag.id));
            map.insert("tag_name".into(), json!(tag.name));
            map.insert("create_event".into(), json!(listing.create_event));
        }
        value
    }

    /// Active listings of a tag, most recently tagged first.
    pub fn active_listings(&self, tag_id: i64) -> Vec<&Listing> {
        let mut rows: Vec<&Listing> = self
            .listings
            .iter()
            .filter(|l| l.tag_id == tag_id && l.revoke_event.is_none())
            .collect();
        rows.sort_by(|a, b| {
            b.create_event
                .cmp(&a.create_event)
                .then(b.build_id.cmp(&a.build_id))
        });
        rows
    }

    pub fn is_tagged(&self, tag_id: i64, build_id: i64) -> bool {
        self.listings
            .iter()
            .any(|l| l.tag_id == tag_id && l.build_id == build_id && l.revoke_event.is_none())
    }

    /// Adds a listing in a new event (revoking an existing one first when retagging).
    pub fn insert_listing(&mut self, tag_id: i64, build_id: i64) {
        let event = self.new_event();
        self.revoke_quietly(tag_id, build_id, event);
        self.listings.push(Listing {
            tag_id,
            build_id,
            create_event: event,
            revoke_event: None,
        });
        self.touch_tag(tag_id, event);
        self.announce("buildsys.tag", tag_id, build_id);
    }

    /// Revokes the active listing, if any, in the given event; true if there was one.
    pub fn revoke_listing(&mut self, tag_id: i64, build_id: i64, event: i64) -> bool {
        let revoked = self.revoke_quietly(tag_id, build_id, event);
        if revoked {
            self.announce("buildsys.untag", tag_id, build_id);
        }
        revoked
    }

    /// The body Fedora's Koji message plugin sends for a tagging or an untagging.
    fn announce(&mut self, topic: &'static str, tag_id: i64, build_id: i64) {
        let (Some(tag), Some(build)) = (self.tags.get(&tag_id), self.builds.get(&build_id)) else {
            return;
        };
        let body = serde_json::json!({
            "build_id": build_id,
            "name": self.packages.get(&build.package_id).cloned().unwrap_or_default(),
            "version": build.version,
            "release": build.release,
            "tag": tag.name,
            "tag_id": tag_id,
            "owner": self.user_name(build.owner_id),
            "user": self.actor.map(|id| self.user_name(id)),
            "instance": "primary",
        });
        self.announcements.push(Announcement { topic, body });
    }

    fn revoke_quietly(&mut self, tag_id: i64, build_id: i64, event: i64) -> bool {
        let mut revoked = false;
        for listing in &mut self.listings {
            if listing.tag_id == tag_id
                && listing.build_id == build_id
                && listing.revoke_event.is_none()
            {
                listing.revoke_event = Some(event);
                revoked = true;
            }
        }
        if revoked {
            self.touch_tag(tag_id, event);
        }
        revoked
    }

    pub fn injected_build_failure(&self, build_id: i64) -> Option<Fault> {
        let build = self.builds.get(&build_id)?;
        self.failing_builds.get(&self.nvr(build)).cloned()
    }

    // --- tasks ---

    pub fn task_json(&self, task: &Task, with_request: bool) -> Value {
        let (create_time, create_ts) = time_pair(Some(&task.create_time));
        let (start_time, start_ts) = time_pair(task.start_time.as_ref());
        let (completion_time, completion_ts) = time_pair(task.completion_time.as_ref());
        let mut value = json!({
            "id": task.id,
            "method": task.method,
            "state": task.state,
            "arch": "noarch",
            "channel_id": 1,
            "host_id": if task.state == TASK_FREE { Value::Null } else { json!(1) },
            "owner": task.owner,
            "parent": null,
            "label": null,
            "priority": 10,
            "weight": 0.2,
            "waiting": null,
            "awaited": null,
            "create_time": create_time,
            "create_ts": create_ts,
            "start_time": start_time,
            "start_ts": start_ts,
            "completion_time": completion_time,
            "completion_ts": completion_ts,
        });
        if with_request {
            value["request"] = Value::Array(task.request.clone());
        }
        value
    }
}
