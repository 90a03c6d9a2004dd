//! A Koji hub session over XML-RPC, with the wire rules of the real `koji` client
//! (spec/koji.md §1.4): keyword arguments as a trailing `__starstar` struct, session headers
//! with a call number, re-login on AuthExpired, retries with backoff on connection errors and
//! ServerOffline, and the legacy `multiCall` in batches.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::xmlrpc::{self, Fault};

/// Koji's fault codes (`koji.convertFault`).
pub mod codes {
    pub const GENERIC_ERROR: i64 = 1000;
    pub const AUTH_ERROR: i64 = 1002;
    pub const TAG_ERROR: i64 = 1003;
    pub const ACTION_NOT_ALLOWED: i64 = 1004;
    pub const AUTH_EXPIRED: i64 = 1007;
    pub const SERVER_OFFLINE: i64 = 1014;
    pub const PARAMETER_ERROR: i64 = 1019;
}

/// The exception class the Python client raises for a fault code.
pub fn fault_name(code: i64) -> &'static str {
    match code {
        1000 => "GenericError",
        1001 => "LockError",
        1002 => "AuthError",
        1003 => "TagError",
        1004 => "ActionNotAllowed",
        1005 => "BuildError",
        1006 => "AuthLockError",
        1007 => "AuthExpired",
        1008 => "SequenceError",
        1009 => "RetryError",
        1010 => "PreBuildError",
        1011 => "PostBuildError",
        1012 => "BuildrootError",
        1013 => "FunctionDeprecated",
        1014 => "ServerOffline",
        1015 => "LiveCDError",
        1016 => "PluginError",
        1017 => "CallbackError",
        1018 => "ApplianceError",
        1019 => "ParameterError",
        1020 => "ImportError",
        1021 => "ConfigurationError",
        1022 => "LiveMediaError",
        1023 => "GSSAPIAuthError",
        1024 => "NameValidationError",
        _ => "Fault",
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KojiError {
    #[error("Koji {name} ({code}) in {method}: {message}", name = fault_name(*code))]
    Fault {
        method: String,
        code: i64,
        message: String,
    },
    #[error("cannot reach Koji at {url} ({method}): {message}")]
    Transport {
        url: String,
        method: String,
        message: String,
    },
    #[error("Koji's reply to {method} is not valid XML-RPC: {message}")]
    Protocol { method: String, message: String },
    #[error("Koji task {task} ({what}) failed: {name}: {message}", name = fault_name(*code))]
    TaskFailed {
        task: i64,
        what: String,
        code: i64,
        message: String,
    },
    #[error("Koji task {task} ({what}) did not finish within {seconds} s")]
    TaskTimeout {
        task: i64,
        what: String,
        seconds: u64,
    },
    #[error("Koji configuration: {0}")]
    Config(String),
}

impl KojiError {
    pub fn fault_code(&self) -> Option<i64> {
        match self {
            KojiError::Fault { code, .. } | KojiError::TaskFailed { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            KojiError::Fault { message, .. }
            | KojiError::TaskFailed { message, .. }
            | KojiError::Transport { message, .. }
            | KojiError::Protocol { message, .. } => message,
            KojiError::TaskTimeout { .. } => "timed out",
            KojiError::Config(message) => message,
        }
    }

    fn from_fault(method: &str, fault: Fault) -> Self {
        KojiError::Fault {
            method: method.to_owned(),
            code: fault.code,
            message: fault.message,
        }
    }
}

/// How the client proves who it is.
#[derive(Debug, Clone, PartialEq)]
pub enum KojiAuth {
    /// Read-only calls without a session.
    Anonymous,
    /// Koji's `login` with a password (hubs with `password` auth enabled, and test hubs).
    Password { user: String, password: String },
    /// `sslLogin` with the TLS client certificate the HTTP agent presents.
    Certificate,
}

/// Retries of connection errors and ServerOffline faults, with exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub first_interval: Duration,
    pub max_interval: Duration,
}

/// One call of a multicall: method, positional arguments, keyword arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct KojiCall {
    pub method: String,
    pub args: Vec<Value>,
    pub kwargs: Map<String, Value>,
}

impl KojiCall {
    pub fn new(method: &str, args: Vec<Value>) -> Self {
        KojiCall {
            method: method.to_owned(),
            args,
            kwargs: Map::new(),
        }
    }

    pub fn kwarg(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.kwargs.insert(name.to_owned(), value.into());
        self
    }

    /// `koji.encode_args`: keyword arguments travel as a trailing struct marked `__starstar`.
    fn encoded_params(&self) -> Vec<Value> {
        let mut params = self.args.clone();
        if !self.kwargs.is_empty() {
            let mut kwargs = self.kwargs.clone();
            kwargs.insert("__starstar".into(), Value::Bool(true));
            params.push(Value::Object(kwargs));
        }
        params
    }
}

#[derive(Debug, Clone)]
struct Session {
    id: i64,
    key: String,
    callnum: u64,
}

pub struct KojiClient {
    url: String,
    agent: ureq::Agent,
    auth: KojiAuth,
    retry: RetryPolicy,
    multicall_batch: usize,
    session: Mutex<Option<Session>>,
    hub_version: Mutex<Option<String>>,
}

enum Attempt {
    Done(Result<Value, Fault>),
    Retry(KojiError),
}

impl KojiClient {
    pub fn new(
        url: &str,
        agent: ureq::Agent,
        auth: KojiAuth,
        retry: RetryPolicy,
        multicall_batch: usize,
    ) -> Self {
        KojiClient {
            url: url.trim_end_matches('/').to_owned(),
            agent,
            auth,
            retry,
            multicall_batch: multicall_batch.max(1),
            session: Mutex::new(None),
            hub_version: Mutex::new(None),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The hub's version, from the `Koji-Version` header of the last reply.
    pub fn hub_version(&self) -> Option<String> {
        self.hub_version
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Calls a method; logs in first when the client has credentials and no session yet.
    pub fn call(&self, call: &KojiCall) -> Result<Value, KojiError> {
        self.ensure_session()?;
        match self.call_once(&call.method, &call.encoded_params()) {
            Err(KojiError::Fault { code, .. }) if self.should_relogin(code) => {
                self.login()?;
                self.call_once(&call.method, &call.encoded_params())
            }
            other => other,
        }
    }

    /// Runs the calls through `multiCall` in batches; each entry is the call's value or its
    /// fault, in order. A transport failure of a batch fails the whole call.
    pub fn multicall(
        &self,
        calls: &[KojiCall],
    ) -> Result<Vec<Result<Value, KojiError>>, KojiError> {
        let mut results = Vec::with_capacity(calls.len());
        for batch in calls.chunks(self.multicall_batch) {
            let encoded: Vec<Value> = batch
                .iter()
                .map(|call| {
                    serde_json::json!({"methodName": call.method, "params": call.encoded_params()})
                })
                .collect();
            let reply = self.call(&KojiCall::new("multiCall", vec![Value::Array(encoded)]))?;
            let Value::Array(entries) = reply else {
                return Err(KojiError::Protocol {
                    method: "multiCall".into(),
                    message: "the result is not a list".into(),
                });
            };
            if entries.len() != batch.len() {
                return Err(KojiError::Protocol {
                    method: "multiCall".into(),
                    message: format!("{} results for {} calls", entries.len(), batch.len()),
                });
            }
            for (call, entry) in batch.iter().zip(entries) {
                results.push(multicall_entry(&call.method, entry));
            }
        }
        Ok(results)
    }

    /// Logs in with the configured credentials, replacing any session.
    pub fn login(&self) -> Result<(), KojiError> {
        let (method, params) = match &self.auth {
            KojiAuth::Anonymous => return Ok(()),
            KojiAuth::Password { user, password } => (
                "login",
                vec![Value::String(user.clone()), Value::String(password.clone())],
            ),
            KojiAuth::Certificate => ("sslLogin", Vec::new()),
        };
        *self.lock_session() = None;
        let info = self.call_once(method, &params)?;
        let id = info.get("session-id").and_then(Value::as_i64);
        let key = info.get("session-key").and_then(Value::as_str);
        let (Some(id), Some(key)) = (id, key) else {
            return Err(KojiError::Protocol {
                method: method.into(),
                message: format!("no session in {info}"),
            });
        };
        *self.lock_session() = Some(Session {
            id,
            key: key.to_owned(),
            callnum: 0,
        });
        Ok(())
    }

    pub fn logout(&self) -> Result<(), KojiError> {
        if self.lock_session().is_some() {
            self.call_once("logout", &[])?;
            *self.lock_session() = None;
        }
        Ok(())
    }

    fn ensure_session(&self) -> Result<(), KojiError> {
        if self.auth != KojiAuth::Anonymous && self.lock_session().is_none() {
            self.login()?;
        }
        Ok(())
    }

    /// AuthExpired always means "log in again"; AuthError on a call made with a session means
    /// the hub forgot it (a restarted hub), which a new login repairs too.
    fn should_relogin(&self, code: i64) -> bool {
        self.auth != KojiAuth::Anonymous
            && (code == codes::AUTH_EXPIRED || code == codes::AUTH_ERROR)
    }

    fn lock_session(&self) -> std::sync::MutexGuard<'_, Option<Session>> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One call with retries: connection errors and ServerOffline wait and try again.
    fn call_once(&self, method: &str, params: &[Value]) -> Result<Value, KojiError> {
        let body = xmlrpc::encode_call(method, params);
        let mut attempt = 0;
        loop {
            let outcome = self.post(method, &body);
            let error = match outcome {
                Attempt::Done(Ok(value)) => return Ok(value),
                Attempt::Done(Err(fault)) if fault.code == codes::SERVER_OFFLINE => {
                    KojiError::from_fault(method, fault)
                }
                Attempt::Done(Err(fault)) => return Err(KojiError::from_fault(method, fault)),
                Attempt::Retry(error) => error,
            };
            if attempt >= self.retry.max_retries {
                return Err(error);
            }
            let wait = self.backoff(attempt);
            tracing::warn!(method, attempt = attempt + 1, wait_ms = wait.as_millis() as u64, error = %error, "Koji call failed, retrying");
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(16));
        self.retry
            .first_interval
            .saturating_mul(factor)
            .min(self.retry.max_interval)
    }

    fn post(&self, method: &str, body: &str) -> Attempt {
        let handler = if method == "sslLogin" {
            format!("{}/ssllogin", self.url)
        } else {
            self.url.clone()
        };
        let mut request = self
            .agent
            .post(&handler)
            .header("Content-Type", "text/xml")
            .header("User-Agent", "koji/1");
        if method != "login" && method != "sslLogin" {
            let mut session = self.lock_session();
            if let Some(session) = session.as_mut() {
                request = request
                    .header("Koji-Session-Id", session.id.to_string())
                    .header("Koji-Session-Key", session.key.clone())
                    .header("Koji-Session-Callnum", session.callnum.to_string());
                session.callnum += 1;
            }
        }
        let transport = |message: String| {
            Attempt::Retry(KojiError::Transport {
                url: self.url.clone(),
                method: method.to_owned(),
                message,
            })
        };
        let mut response = match request.send(body) {
            Ok(response) => response,
            Err(e) => return transport(e.to_string()),
        };
        let status = response.status();
        if let Some(version) = response
            .headers()
            .get("Koji-Version")
            .and_then(|v| v.to_str().ok())
        {
            *self.hub_version.lock().unwrap_or_else(|e| e.into_inner()) = Some(version.to_owned());
        }
        let text = match response
            .body_mut()
            .with_config()
            .limit(512 * 1024 * 1024)
            .read_to_vec()
        {
            Ok(text) => text,
            Err(e) => return transport(format!("reading the reply: {e}")),
        };
        if !status.is_success() {
            let snippet = String::from_utf8_lossy(&text[..text.len().min(200)]).into_owned();
            let message = format!("HTTP {status}: {snippet}");
            return if status.is_server_error() {
                transport(message)
            } else {
                Attempt::Done(Err(Fault::new(codes::GENERIC_ERROR, message)))
            };
        }
        match xmlrpc::parse_response(&text) {
            Ok(result) => Attempt::Done(result),
            Err(e) => Attempt::Done(Err(Fault::new(
                codes::GENERIC_ERROR,
                format!("unreadable reply: {e}"),
            ))),
        }
    }
}

/// A multicall entry: `[value]` on success, a fault struct on failure.
fn multicall_entry(method: &str, entry: Value) -> Result<Value, KojiError> {
    match entry {
        Value::Array(mut items) if items.len() == 1 => Ok(items.remove(0)),
        Value::Object(map) if map.contains_key("faultCode") => Err(KojiError::Fault {
            method: method.to_owned(),
            code: map.get("faultCode").and_then(Value::as_i64).unwrap_or(1),
            message: map
                .get("faultString")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        }),
        other => Err(KojiError::Protocol {
            method: method.to_owned(),
            message: format!("unexpected multicall entry {other}"),
        }),
    }
}
