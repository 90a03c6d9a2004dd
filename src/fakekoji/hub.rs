//! The hub: sessions, multicall with per-call rollback, fault injection, the call log and
//! snapshots, around the methods of [`super::api`].

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use rand::Rng;
use rand::distributions::Alphanumeric;
use serde_json::{Value, json};

use super::api::{self, Caller, TaskTiming};
use super::args::decode_args;
use super::bus::{BusConfig, Publisher};
use super::state::*;
use crate::xmlrpc::Fault;

/// The Koji version the fake claims to be (the hub the conformance cases were proven on).
pub const KOJI_VERSION: &str = "1.35.3";

/// How the fake hub behaves.
#[derive(Debug, Clone)]
pub struct HubConfig {
    pub admin_user: String,
    pub admin_password: String,
    pub tasks: TaskTiming,
    /// Load the state from this JSON file at start and write it back after every change.
    pub snapshot: Option<PathBuf>,
    /// The user `sslLogin` authenticates when the request names none (a client certificate's
    /// CN, as the web server would pass it).
    pub ssl_user: Option<String>,
    /// Send `buildsys.tag`/`buildsys.untag` messages to this AMQP broker, as Fedora's Koji
    /// does through its message plugin.
    pub bus: Option<BusConfig>,
    /// How long each call takes before the hub answers it (a multicall's entries each),
    /// to play a loaded production hub in benchmarks.
    pub call_latency: std::time::Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            admin_user: "kojiadmin".into(),
            admin_password: "kojiadmin".into(),
            tasks: TaskTiming::default(),
            snapshot: None,
            ssl_user: None,
            bus: None,
            call_latency: std::time::Duration::ZERO,
        }
    }
}

/// A fault to inject: every matching call fails with it while `remaining` lasts.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// Only this method.
    pub method: Option<String>,
    /// Only the Nth call the hub receives (1-based, multicall entries included).
    pub nth: Option<u64>,
    /// Calls naming this build, and the tag tasks of this build.
    pub build: Option<String>,
    pub fault: Fault,
    /// How many times the rule fires; `None` means for ever.
    pub remaining: Option<u32>,
}

/// Session credentials a request carried.
#[derive(Debug, Clone, Default)]
pub struct SessionHeaders {
    pub id: Option<String>,
    pub key: Option<String>,
    pub callnum: Option<String>,
    /// The authenticated identity the web server vouches for (REMOTE_USER / client cert CN).
    pub remote_user: Option<String>,
}

pub struct Hub {
    config: HubConfig,
    state: Mutex<HubState>,
    faults: Mutex<Vec<FaultRule>>,
    log: Mutex<Vec<Value>>,
    calls: AtomicU64,
    bus: Option<Publisher>,
    latency_micros: AtomicU64,
}

impl Hub {
    pub fn new(config: HubConfig) -> anyhow::Result<Self> {
        let state = match &config.snapshot {
            Some(path) if path.exists() => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
                serde_json::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("parsing {}: {e}", path.display()))?
            }
            _ => HubState::new(&config.admin_user, &config.admin_password),
        };
        let bus = config.bus.clone().map(Publisher::start);
        Ok(Hub {
            latency_micros: AtomicU64::new(config.call_latency.as_micros() as u64),
            bus,
            config,
            state: Mutex::new(state),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            calls: AtomicU64::new(0),
        })
    }

    /// Runs `f` on the state (for tests and the CLI's setup).
    pub fn with_state<T>(&self, f: impl FnOnce(&mut HubState) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut state)
    }

    pub fn inject(&self, rule: FaultRule) {
        if let Some(build) = &rule.build {
            self.with_state(|s| s.failing_builds.insert(build.clone(), rule.fault.clone()));
        }
        self.lock_faults().push(rule);
    }

    pub fn clear_faults(&self) {
        self.lock_faults().clear();
        self.with_state(|s| s.failing_builds.clear());
    }

    /// Every call received so far: `{n, method, params, user, callnum}`.
    pub fn call_log(&self) -> Vec<Value> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The methods called so far, in order.
    pub fn methods_called(&self) -> Vec<String> {
        self.call_log()
            .iter()
            .filter_map(|c| c["method"].as_str().map(str::to_owned))
            .collect()
    }

    /// Changes the latency of each call from now on.
    pub fn set_call_latency(&self, latency: std::time::Duration) {
        self.latency_micros
            .store(latency.as_micros() as u64, Ordering::SeqCst);
    }

    fn lock_faults(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Handles one XML-RPC request: the method and its raw params.
    pub fn handle(
        &self,
        headers: &SessionHeaders,
        method: &str,
        params: Vec<Value>,
    ) -> Result<Value, Fault> {
        let caller = self.authenticate(headers)?;
        if method == "multiCall" || method == "system.multicall" {
            return self.multicall(&caller, headers, params);
        }
        let result = self.call(&caller, headers, method, params, None);
        self.save_snapshot(method);
        result
    }

    fn authenticate(&self, headers: &SessionHeaders) -> Result<Caller, Fault> {
        let Some(id) = &headers.id else {
            return Ok(Caller::default());
        };
        let invalid = || Fault::new(AUTH_ERROR, "Invalid session or bad credentials");
        let id: i64 = id.trim().parse().map_err(|_| invalid())?;
        self.with_state(|state| {
            let session = state.sessions.get(&id).ok_or_else(invalid)?;
            if headers.key.as_deref() != Some(session.key.as_str()) {
                return Err(invalid());
            }
            if session.expired {
                return Err(Fault::new(
                    AUTH_EXPIRED,
                    format!("session {id} has expired"),
                ));
            }
            Ok(Caller {
                user_id: Some(session.user_id),
                session_id: Some(id),
            })
        })
    }

    fn multicall(
        &self,
        caller: &Caller,
        headers: &SessionHeaders,
        params: Vec<Value>,
    ) -> Result<Value, Fault> {
        let calls = match params.as_slice() {
            [Value::Array(calls)] => calls.clone(),
            _ => {
                return Err(Fault::new(
                    PARAMETER_ERROR,
                    "multiCall() takes exactly one argument (a list of calls)",
                ));
            }
        };
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(json!({
                "n": n,
                "method": "multiCall",
                "params": [calls.len()],
                "user": caller.user_id,
                "callnum": headers.callnum,
            }));
        let mut results = Vec::with_capacity(calls.len());
        for call in calls {
            let method = call
                .get("methodName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let params = match call.get("params") {
                Some(Value::Array(params)) => params.clone(),
                _ => Vec::new(),
            };
            let outcome = if method == "multiCall" || method == "system.multicall" {
                Err(generic("multicall is not allowed inside a multicall"))
            } else {
                self.call(caller, headers, &method, params, Some(n))
            };
            results.push(match outcome {
                Ok(value) => json!([value]),
                Err(fault) => {
                    let mut entry = json!({"faultCode": fault.code, "faultString": fault.message});
                    if fault.code == GENERIC_ERROR || fault.code == PARAMETER_ERROR {
                        entry["traceback"] =
                            json!([format!("koji.GenericError: {}", fault.message)]);
                    }
                    entry
                }
            });
        }
        self.save_snapshot("multiCall");
        Ok(Value::Array(results))
    }

    /// One call, isolated: a failing write leaves the state as it was.
    fn call(
        &self,
        caller: &Caller,
        headers: &SessionHeaders,
        method: &str,
        params: Vec<Value>,
        multicall: Option<u64>,
    ) -> Result<Value, Fault> {
        let latency = self.latency_micros.load(Ordering::Relaxed);
        if latency > 0 {
            std::thread::sleep(std::time::Duration::from_micros(latency));
        }
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(json!({
                "n": n,
                "method": method,
                "params": params,
                "user": caller.user_id,
                "callnum": headers.callnum,
                "multicall": multicall,
            }));
        if let Some(fault) = self.injected_fault(n, method, &params) {
            return Err(fault);
        }
        let signature =
            api::signature(method).ok_or_else(|| generic(format!("Invalid method: {method}")))?;
        let (positional, kwargs) = decode_args(params);
        let args = signature.bind(method, positional, kwargs)?;
        match method {
            "getKojiVersion" => return Ok(json!(KOJI_VERSION)),
            "system.listMethods" => return Ok(json!(api::METHODS)),
            "login" => return self.login(args.str("user")?, Some(args.str("password")?)),
            "sslLogin" => {
                let user = headers
                    .remote_user
                    .clone()
                    .or_else(|| self.config.ssl_user.clone());
                return match user {
                    Some(user) => self.login(&user, None),
                    None => Err(Fault::new(
                        AUTH_ERROR,
                        "could not determine the client certificate's user",
                    )),
                };
            }
            "logout" => {
                if let Some(id) = caller.session_id {
                    self.with_state(|s| s.sessions.remove(&id));
                }
                return Ok(Value::Null);
            }
            "fake.callLog" => return Ok(Value::Array(self.call_log())),
            "fake.clearCallLog" => {
                self.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
                return Ok(Value::Null);
            }
            "fake.injectFault" => {
                let rule = FaultRule {
                    method: args.opt_str("method")?.map(str::to_owned),
                    nth: args.opt_int("nth")?.map(|n| n.max(0) as u64),
                    build: args.opt_str("build")?.map(str::to_owned),
                    fault: Fault::new(
                        args.opt_int("code")?.unwrap_or(GENERIC_ERROR),
                        args.opt_str("message")?.unwrap_or("injected fault"),
                    ),
                    remaining: args
                        .opt_int("times")?
                        .map(|t| t.clamp(0, u32::MAX as i64) as u32),
                };
                self.inject(rule);
                return Ok(Value::Null);
            }
            "fake.clearFaults" => {
                self.clear_faults();
                return Ok(Value::Null);
            }
            "fake.expireSessions" => {
                self.with_state(|s| {
                    s.sessions
                        .values_mut()
                        .for_each(|session| session.expired = true)
                });
                return Ok(Value::Null);
            }
            _ => {}
        }
        let timing = self.config.tasks;
        let (result, announcements) = self.with_state(|state| {
            state.actor = caller.user_id;
            if !timing.manual {
                api::run_tasks(state, Utc::now(), false);
            }
            let result = if api::is_read_only(method) {
                api::dispatch(state, caller, &timing, method, &args)
            } else {
                let before = state.clone();
                let result = api::dispatch(state, caller, &timing, method, &args);
                if result.is_err() {
                    *state = before;
                }
                result
            };
            (result, std::mem::take(&mut state.announcements))
        });
        if let Some(bus) = &self.bus {
            for announcement in announcements {
                bus.send(announcement);
            }
        }
        result
    }

    fn login(&self, user: &str, password: Option<&str>) -> Result<Value, Fault> {
        self.with_state(|state| {
            let user_id = match (state.user_by_name(user), password) {
                (Some(found), Some(password)) if found.password.as_deref() == Some(password) => {
                    found.id
                }
                (Some(_), Some(_)) | (None, Some(_)) => {
                    return Err(Fault::new(AUTH_ERROR, "invalid username or password"));
                }
                (Some(found), None) => found.id,
                // A certificate the web server accepted names a user Koji creates on first sight.
                (None, None) => state.add_user(user, None, &[]),
            };
            let id = state.next("session");
            let suffix: String = rand::thread_rng()
                .sample_iter(&Alphanumeric)
                .take(19)
                .map(char::from)
                .collect();
            let key = format!("{user_id}-{suffix}");
            state.sessions.insert(
                id,
                Session {
                    id,
                    key: key.clone(),
                    user_id,
                    expired: false,
                },
            );
            Ok(json!({"session-id": id, "session-key": key, "header-auth": true}))
        })
    }

    fn injected_fault(&self, n: u64, method: &str, params: &[Value]) -> Option<Fault> {
        let mut rules = self.lock_faults();
        let is_tag_task = matches!(method, "tagBuild" | "moveBuild");
        let index = rules.iter().position(|rule| {
            rule.remaining != Some(0)
                && rule.nth.is_none_or(|nth| nth == n)
                && rule.method.as_deref().is_none_or(|m| m == method)
                && rule
                    .build
                    .as_deref()
                    .is_none_or(|nvr| !is_tag_task && mentions(params, nvr))
                && (rule.nth.is_some() || rule.method.is_some() || rule.build.is_some())
        })?;
        let rule = &mut rules[index];
        if let Some(remaining) = &mut rule.remaining {
            *remaining -= 1;
        }
        Some(rule.fault.clone())
    }

    fn save_snapshot(&self, method: &str) {
        let Some(path) = &self.config.snapshot else {
            return;
        };
        if api::is_read_only(method) {
            return;
        }
        let text = self.with_state(|s| serde_json::to_string_pretty(s));
        match text {
            Ok(text) => {
                let tmp = path.with_extension("tmp");
                if let Err(e) =
                    std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path))
                {
                    tracing::warn!(path = %path.display(), error = %e, "could not write the snapshot");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not serialise the snapshot"),
        }
    }
}

fn mentions(params: &[Value], needle: &str) -> bool {
    params.iter().any(|value| match value {
        Value::String(s) => s == needle,
        Value::Array(items) => mentions(items, needle),
        Value::Object(map) => map
            .values()
            .any(|v| mentions(std::slice::from_ref(v), needle)),
        _ => false,
    })
}
