//! `fake-bugzilla`: a small Bugzilla for tests and demos (spec/bugzilla.md, "What a fake must
//! implement"). It speaks XML-RPC on `/xmlrpc.cgi` like Red Hat's Bugzilla: `Bugzilla.version`,
//! `Bug.get` (with faults 101 and 102 for missing and private bugs), `Bug.update` (comment,
//! status, resolution, `cf_fixed_in`; a login is required) and `User.login`. Every change is
//! recorded, in memory and optionally as JSON lines in a log file, for assertions.
//! Pipal never needs it at run time.

pub mod server;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::xmlrpc::Fault;

pub use server::RunningBugzilla;

/// The version `Bugzilla.version` reports (Red Hat's Bugzilla reports its own suffix).
pub const VERSION: &str = "5.0.4.rh100";

/// A bug as the fake keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FakeBug {
    pub id: i32,
    pub summary: String,
    pub status: String,
    pub resolution: String,
    pub product: String,
    pub component: String,
    pub keywords: Vec<String>,
    pub cf_fixed_in: String,
    pub private: bool,
    pub comments: Vec<String>,
}

impl Default for FakeBug {
    fn default() -> Self {
        FakeBug {
            id: 0,
            summary: String::new(),
            status: "NEW".into(),
            resolution: String::new(),
            product: "Fedora".into(),
            component: String::new(),
            keywords: Vec::new(),
            cf_fixed_in: String::new(),
            private: false,
            comments: Vec::new(),
        }
    }
}

impl FakeBug {
    /// Red Hat's Bugzilla sends component and version as lists.
    fn to_value(&self) -> Value {
        json!({
            "id": self.id,
            "summary": self.summary,
            "status": self.status,
            "resolution": self.resolution,
            "product": self.product,
            "component": [self.component],
            "version": ["rawhide"],
            "keywords": self.keywords,
            "cf_fixed_in": self.cf_fixed_in,
            "is_private": self.private,
        })
    }
}

/// One `Bug.update` as the fake received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedUpdate {
    pub bug: i32,
    pub user: String,
    pub status: Option<String>,
    pub resolution: Option<String>,
    pub comment: Option<String>,
    pub cf_fixed_in: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct BugzillaConfig {
    /// The API key a caller must present to change bugs; None: any caller may.
    pub api_key: Option<String>,
    /// The login `User.login` accepts, as (user, password).
    pub login: Option<(String, String)>,
    /// Bugs asked for but not known are made up (product Fedora, status NEW).
    pub auto_create: bool,
    pub bugs: Vec<FakeBug>,
    /// Each change is appended here as a JSON line.
    pub log: Option<PathBuf>,
}

/// How a request authenticated itself.
#[derive(Debug, Clone, Default)]
pub struct RequestAuth {
    /// From `Authorization: Bearer KEY`.
    pub bearer: Option<String>,
}

struct State {
    bugs: BTreeMap<i32, FakeBug>,
    updates: Vec<RecordedUpdate>,
    tokens: BTreeMap<String, String>,
    unavailable: bool,
}

pub struct FakeBugzilla {
    config: BugzillaConfig,
    state: Mutex<State>,
}

fn fault(code: i64, message: impl Into<String>) -> Fault {
    Fault::new(code, message)
}

impl FakeBugzilla {
    pub fn new(config: BugzillaConfig) -> FakeBugzilla {
        let bugs = config.bugs.iter().map(|b| (b.id, b.clone())).collect();
        FakeBugzilla {
            config,
            state: Mutex::new(State {
                bugs,
                updates: Vec::new(),
                tokens: BTreeMap::new(),
                unavailable: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds or replaces a bug.
    pub fn put_bug(&self, bug: FakeBug) {
        self.lock().bugs.insert(bug.id, bug);
    }

    pub fn bug(&self, id: i32) -> Option<FakeBug> {
        self.lock().bugs.get(&id).cloned()
    }

    /// Every `Bug.update` received, in order.
    pub fn updates(&self) -> Vec<RecordedUpdate> {
        self.lock().updates.clone()
    }

    /// Drops every login token, as a restarted Bugzilla would.
    pub fn forget_logins(&self) {
        self.lock().tokens.clear();
    }

    /// While unavailable, every request is answered with HTTP 503 (a server down for
    /// maintenance, as far as clients can tell).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.lock().unavailable = unavailable;
    }

    pub fn unavailable(&self) -> bool {
        self.lock().unavailable
    }

    /// Handles one call.
    pub fn handle(
        &self,
        auth: &RequestAuth,
        method: &str,
        params: &[Value],
    ) -> Result<Value, Fault> {
        let args = match params.first() {
            Some(Value::Object(args)) => args.clone(),
            None => Map::new(),
            Some(_) => return Err(fault(32000, "The parameters must be a struct.")),
        };
        match method {
            "Bugzilla.version" => Ok(json!({ "version": VERSION })),
            "User.login" => self.login(&args),
            "User.logout" => Ok(json!({})),
            "Bug.get" => self.get(&args),
            "Bug.update" => {
                let user = self.authenticate(auth, &args)?;
                self.update(&user, &args)
            }
            _ => Err(fault(
                32601,
                format!("The method '{method}' was not found."),
            )),
        }
    }

    /// The user a call acts as; changes need one.
    fn authenticate(&self, auth: &RequestAuth, args: &Map<String, Value>) -> Result<String, Fault> {
        let key = auth
            .bearer
            .clone()
            .or_else(|| string(args, "Bugzilla_api_key"));
        if let Some(token) = string(args, "Bugzilla_token") {
            return self
                .lock()
                .tokens
                .get(&token)
                .cloned()
                .ok_or_else(|| fault(32000, "The token is invalid or has expired."));
        }
        match (&self.config.api_key, key) {
            (Some(expected), Some(key)) if *expected == key => Ok("api-key".into()),
            (Some(_), Some(_)) => Err(fault(
                306,
                "The API key you specified is invalid. Please check that you typed it correctly.",
            )),
            (None, _) => Ok("anonymous".into()),
            (Some(_), None) => Err(fault(
                410,
                "You must log in before using this part of Bugzilla.",
            )),
        }
    }

    fn login(&self, args: &Map<String, Value>) -> Result<Value, Fault> {
        let user = string(args, "login").unwrap_or_default();
        let password = string(args, "password").unwrap_or_default();
        match &self.config.login {
            Some((u, p)) if *u == user && *p == password => {
                let token = format!("1-{}", rand::random::<u64>());
                self.lock().tokens.insert(token.clone(), user);
                Ok(json!({"id": 1, "token": token}))
            }
            _ => Err(fault(
                300,
                "The username or password you entered is not valid.",
            )),
        }
    }

    fn ids(args: &Map<String, Value>) -> Result<Vec<i32>, Fault> {
        let ids = match args.get("ids") {
            Some(Value::Array(items)) => items.clone(),
            Some(one) => vec![one.clone()],
            None => return Err(fault(50, "You must specify a value for ids.")),
        };
        ids.iter()
            .map(|id| {
                id.as_i64()
                    .or_else(|| id.as_str().and_then(|s| s.parse().ok()))
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(|| fault(100, format!("'{id}' is not a valid bug number.")))
            })
            .collect()
    }

    /// The bug, made up if `auto_create` allows; faults 101 and 102 otherwise.
    fn visible_bug(&self, state: &mut State, id: i32) -> Result<FakeBug, Fault> {
        if self.config.auto_create && !state.bugs.contains_key(&id) {
            state.bugs.insert(
                id,
                FakeBug {
                    id,
                    summary: format!("Bug {id}"),
                    ..FakeBug::default()
                },
            );
        }
        match state.bugs.get(&id) {
            Some(bug) if bug.private => Err(fault(
                102,
                format!(
                    "You are not authorized to access bug #{id}. To see this bug, you must first \
                     log in to an account with the appropriate permissions."
                ),
            )),
            Some(bug) => Ok(bug.clone()),
            None => Err(fault(101, format!("Bug #{id} does not exist."))),
        }
    }

    fn get(&self, args: &Map<String, Value>) -> Result<Value, Fault> {
        let permissive = args.get("permissive").is_some_and(truthy);
        let mut state = self.lock();
        let (mut bugs, mut faults) = (Vec::new(), Vec::new());
        for id in Self::ids(args)? {
            match self.visible_bug(&mut state, id) {
                Ok(bug) => bugs.push(bug.to_value()),
                Err(f) if permissive => {
                    faults.push(json!({"id": id, "faultCode": f.code, "faultString": f.message}))
                }
                Err(f) => return Err(f),
            }
        }
        Ok(json!({"bugs": bugs, "faults": faults}))
    }

    fn update(&self, user: &str, args: &Map<String, Value>) -> Result<Value, Fault> {
        let comment = args
            .get("comment")
            .and_then(|c| c.get("body").or_else(|| c.get("comment")))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let status = string(args, "status");
        let resolution = string(args, "resolution");
        let fixed_in = string(args, "cf_fixed_in");
        if status.as_deref() == Some("CLOSED") && resolution.as_deref().unwrap_or("").is_empty() {
            return Err(fault(
                32000,
                "A valid resolution is required to mark bugs as CLOSED.",
            ));
        }
        let mut state = self.lock();
        let mut results = Vec::new();
        let mut recorded = Vec::new();
        for id in Self::ids(args)? {
            let mut bug = self.visible_bug(&mut state, id)?;
            let mut changes = Map::new();
            let mut set = |field: &str, old: &mut String, new: &Option<String>| {
                if let Some(new) = new
                    && old != new
                {
                    changes.insert(field.into(), json!({"removed": old.clone(), "added": new}));
                    *old = new.clone();
                }
            };
            set("status", &mut bug.status, &status);
            set("resolution", &mut bug.resolution, &resolution);
            set("cf_fixed_in", &mut bug.cf_fixed_in, &fixed_in);
            bug.comments.extend(comment.clone());
            state.bugs.insert(id, bug);
            results.push(json!({"id": id, "alias": [], "changes": changes}));
            recorded.push(RecordedUpdate {
                bug: id,
                user: user.to_owned(),
                status: status.clone(),
                resolution: resolution.clone(),
                comment: comment.clone(),
                cf_fixed_in: fixed_in.clone(),
            });
        }
        if let Some(path) = &self.config.log {
            append_log(path, &recorded).map_err(|e| fault(32000, e.to_string()))?;
        }
        state.updates.extend(recorded);
        Ok(json!({ "bugs": results }))
    }
}

fn string(args: &Map<String, Value>, key: &str) -> Option<String> {
    args.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_i64() != Some(0),
        Value::String(s) => !s.is_empty() && s != "0",
        _ => false,
    }
}

fn append_log(path: &std::path::Path, updates: &[RecordedUpdate]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    for update in updates {
        let line = serde_json::to_string(update).map_err(std::io::Error::other)?;
        writeln!(file, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bugzilla() -> FakeBugzilla {
        FakeBugzilla::new(BugzillaConfig {
            api_key: Some("key".into()),
            bugs: vec![
                FakeBug {
                    id: 10,
                    component: "bash".into(),
                    ..FakeBug::default()
                },
                FakeBug {
                    id: 11,
                    private: true,
                    ..FakeBug::default()
                },
            ],
            ..BugzillaConfig::default()
        })
    }

    #[test]
    fn private_and_missing_bugs_fault_like_bugzilla() {
        let bz = bugzilla();
        let auth = RequestAuth::default();
        let get = |id: i32| bz.handle(&auth, "Bug.get", &[json!({"ids": [id]})]);
        assert_eq!(get(11).map_err(|f| f.code), Err(102));
        assert_eq!(get(12).map_err(|f| f.code), Err(101));
        let found = get(10).expect("bug 10");
        assert_eq!(found["bugs"][0]["component"], json!(["bash"]));
    }

    #[test]
    fn changes_need_the_api_key_and_are_recorded() {
        let bz = bugzilla();
        let params = [json!({"ids": [10], "status": "MODIFIED", "comment": {"comment": "hi"}})];
        let anonymous = bz.handle(&RequestAuth::default(), "Bug.update", &params);
        assert_eq!(anonymous.map_err(|f| f.code), Err(410));
        let bearer = RequestAuth {
            bearer: Some("key".into()),
        };
        bz.handle(&bearer, "Bug.update", &params).expect("updated");
        assert_eq!(bz.bug(10).map(|b| b.status), Some("MODIFIED".to_owned()));
        assert_eq!(bz.updates().len(), 1);
        assert_eq!(bz.updates()[0].comment.as_deref(), Some("hi"));
    }
}
