//! A Bugzilla XML-RPC client with the calls an update manager makes (spec/bugzilla.md):
//! `Bugzilla.version`, `Bug.get`, `Bug.update` and `User.login`, authenticated as
//! python-bugzilla does: an API key as a Bearer token for Red Hat's Bugzilla and as
//! `Bugzilla_api_key` elsewhere, or a login whose token goes into every call.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::config::BugzillaSettings;
use crate::xmlrpc::{self, Fault};

/// Bugzilla's fault for a bug number that does not exist.
pub const FAULT_NO_SUCH_BUG: i64 = 101;
/// Bugzilla's fault for a bug the caller may not see.
pub const FAULT_PRIVATE_BUG: i64 = 102;
/// Bugzilla's fault for an invalid or expired login token.
pub const FAULT_INVALID_TOKEN: i64 = 32000;
/// Bugzilla's fault for a call that needs a login.
pub const FAULT_LOGIN_REQUIRED: i64 = 410;

#[derive(Debug, thiserror::Error)]
pub enum BugzillaError {
    #[error("Bugzilla at {url} is unreachable on {method}: {message}")]
    Transport {
        url: String,
        method: String,
        message: String,
    },
    #[error("Bugzilla refused {method}: fault {code}: {message}")]
    Fault {
        method: String,
        code: i64,
        message: String,
    },
    #[error("Bugzilla's reply to {method} is unreadable: {message}")]
    Protocol { method: String, message: String },
}

impl BugzillaError {
    pub fn fault_code(&self) -> Option<i64> {
        match self {
            BugzillaError::Fault { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// What Bodhi reads of a bug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BugInfo {
    pub id: i32,
    pub summary: String,
    pub status: String,
    pub product: String,
    pub component: String,
    pub keywords: Vec<String>,
    /// `cf_fixed_in`: NVRs separated by spaces (Red Hat's Bugzilla only; empty elsewhere).
    pub fixed_in: String,
}

impl BugInfo {
    /// Any `security` keyword, whatever its case, makes a security bug.
    pub fn security(&self) -> bool {
        self.keywords
            .iter()
            .any(|k| k.eq_ignore_ascii_case("security"))
    }

    /// A tracker of the Security Response product is the parent of release-specific bugs.
    pub fn parent(&self) -> bool {
        self.product == "Security Response"
    }

    fn from_value(value: &Value) -> Option<BugInfo> {
        let text = |key: &str| match value.get(key) {
            Some(Value::String(s)) => s.clone(),
            // Red Hat's Bugzilla sends single-valued fields such as component as lists.
            Some(Value::Array(items)) => items
                .first()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            _ => String::new(),
        };
        let keywords = match value.get("keywords") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        Some(BugInfo {
            id: i32::try_from(value.get("id")?.as_i64()?).ok()?,
            summary: text("summary"),
            status: text("status"),
            product: text("product"),
            component: text("component"),
            keywords,
            fixed_in: text("cf_fixed_in"),
        })
    }
}

/// The fields of one `Bug.update`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BugChanges {
    pub status: Option<String>,
    pub resolution: Option<String>,
    pub comment: Option<String>,
    pub fixed_in: Option<String>,
}

enum Auth {
    Anonymous,
    BearerKey(String),
    ParameterKey(String),
    Login { user: String, password: String },
}

pub struct BugzillaClient {
    url: String,
    agent: ureq::Agent,
    auth: Auth,
    token: Mutex<Option<String>>,
}

impl BugzillaClient {
    pub fn from_settings(settings: &BugzillaSettings) -> anyhow::Result<BugzillaClient> {
        let url = url::Url::parse(&settings.url)
            .map_err(|e| anyhow::anyhow!("bugzilla.url: `{}`: {e}", settings.url))?;
        let red_hat = url
            .host_str()
            .is_some_and(|host| host == "redhat.com" || host.ends_with(".redhat.com"));
        let auth = if !settings.api_key.is_empty() {
            if red_hat {
                Auth::BearerKey(settings.api_key.clone())
            } else {
                Auth::ParameterKey(settings.api_key.clone())
            }
        } else if !settings.user.is_empty() {
            Auth::Login {
                user: settings.user.clone(),
                password: settings.password.clone(),
            }
        } else {
            Auth::Anonymous
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(settings.timeout_secs.max(1))))
            .build()
            .into();
        Ok(BugzillaClient {
            url: settings.url.clone(),
            agent,
            auth,
            token: Mutex::new(None),
        })
    }

    /// `Bugzilla.version`: the server's version.
    pub fn version(&self) -> Result<String, BugzillaError> {
        let reply = self.call("Bugzilla.version", Map::new())?;
        reply
            .get("version")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| protocol("Bugzilla.version", "no version"))
    }

    /// `Bug.get` of one bug; a private or missing bug is a fault (102 or 101).
    pub fn get_bug(&self, id: i32) -> Result<BugInfo, BugzillaError> {
        let mut params = Map::new();
        params.insert("ids".into(), json!([id]));
        params.insert(
            "extra_fields".into(),
            json!([
                "comments",
                "description",
                "external_bugs",
                "flags",
                "sub_components",
                "tags"
            ]),
        );
        let reply = self.call("Bug.get", params)?;
        let bugs = reply.get("bugs").and_then(Value::as_array);
        bugs.and_then(|bugs| bugs.iter().find_map(BugInfo::from_value))
            .ok_or_else(|| protocol("Bug.get", &format!("no bug {id} in the reply")))
    }

    /// `Bug.update` of one bug.
    pub fn update_bug(&self, id: i32, changes: &BugChanges) -> Result<(), BugzillaError> {
        let mut params = Map::new();
        params.insert("ids".into(), json!([id]));
        if let Some(comment) = &changes.comment {
            params.insert("comment".into(), json!({ "comment": comment }));
        }
        if let Some(status) = &changes.status {
            params.insert("status".into(), json!(status));
        }
        if let Some(resolution) = &changes.resolution {
            params.insert("resolution".into(), json!(resolution));
        }
        if let Some(fixed_in) = &changes.fixed_in {
            params.insert("cf_fixed_in".into(), json!(fixed_in));
        }
        self.call("Bug.update", params).map(drop)
    }

    /// Calls `method` with the credentials; a login is made first, and again once when the
    /// server forgot the token.
    fn call(&self, method: &str, params: Map<String, Value>) -> Result<Value, BugzillaError> {
        if let Auth::Login { .. } = self.auth {
            if self.current_token().is_none() {
                self.login()?;
            }
            match self.call_with_auth(method, params.clone()) {
                Err(e)
                    if matches!(
                        e.fault_code(),
                        Some(FAULT_INVALID_TOKEN | FAULT_LOGIN_REQUIRED)
                    ) =>
                {
                    self.login()?;
                }
                other => return other,
            }
        }
        self.call_with_auth(method, params)
    }

    fn call_with_auth(
        &self,
        method: &str,
        mut params: Map<String, Value>,
    ) -> Result<Value, BugzillaError> {
        match &self.auth {
            Auth::ParameterKey(key) => {
                params.insert("Bugzilla_api_key".into(), json!(key));
            }
            Auth::Login { .. } => {
                if let Some(token) = self.current_token() {
                    params.insert("Bugzilla_token".into(), json!(token));
                }
            }
            Auth::Anonymous | Auth::BearerKey(_) => {}
        }
        self.post(method, &[Value::Object(params)])
    }

    fn login(&self) -> Result<(), BugzillaError> {
        let Auth::Login { user, password } = &self.auth else {
            return Ok(());
        };
        let reply = self.post(
            "User.login",
            &[json!({"login": user, "password": password})],
        )?;
        let token = reply
            .get("token")
            .and_then(Value::as_str)
            .ok_or_else(|| protocol("User.login", "no token"))?;
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.to_owned());
        Ok(())
    }

    fn current_token(&self) -> Option<String> {
        self.token.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn post(&self, method: &str, params: &[Value]) -> Result<Value, BugzillaError> {
        let transport = |message: String| BugzillaError::Transport {
            url: self.url.clone(),
            method: method.to_owned(),
            message,
        };
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "text/xml")
            .header("User-Agent", concat!("pipal/", env!("CARGO_PKG_VERSION")));
        if let Auth::BearerKey(key) = &self.auth {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        let mut response = request
            .send(xmlrpc::encode_call(method, params))
            .map_err(|e| transport(e.to_string()))?;
        let status = response.status();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| transport(format!("reading the reply: {e}")))?;
        if !status.is_success() {
            let snippet = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            return Err(transport(format!("HTTP {status}: {snippet}")));
        }
        match xmlrpc::parse_response(&body) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(Fault { code, message })) => Err(BugzillaError::Fault {
                method: method.to_owned(),
                code,
                message,
            }),
            Err(e) => Err(protocol(method, &e.to_string())),
        }
    }
}

fn protocol(method: &str, message: &str) -> BugzillaError {
    BugzillaError::Protocol {
        method: method.to_owned(),
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_red_hat_bug_is_read_with_its_list_valued_fields() {
        let bug = BugInfo::from_value(&json!({
            "id": 2_100_001,
            "summary": "CVE-2026-0001 libfoo: overflow",
            "status": "NEW",
            "product": "Security Response",
            "component": ["vulnerability"],
            "keywords": ["Security", "Triaged"],
            "cf_fixed_in": "libfoo-1.2",
        }))
        .expect("a bug");
        assert_eq!(bug.component, "vulnerability");
        assert!(bug.security());
        assert!(bug.parent());
        assert_eq!(bug.fixed_in, "libfoo-1.2");
    }

    #[test]
    fn keywords_given_as_one_string_are_split() {
        let bug = BugInfo::from_value(&json!({
            "id": 7, "summary": "s", "status": "NEW", "product": "Fedora",
            "component": "bash", "keywords": "FutureFeature security",
        }))
        .expect("a bug");
        assert!(bug.security());
        assert!(!bug.parent());
    }
}
