//! `buildsys.kind = "koji"`: the [`BuildSystem`] calls made to a real Koji hub, with Bodhi's
//! argument conventions (spec/koji.md §1.2) and the real struct shapes (§1.3).

pub mod client;
mod parse;
mod tasks;

use std::time::Duration;

use serde_json::{Value, json};

pub use client::{KojiAuth, KojiCall, KojiClient, KojiError, RetryPolicy};

use super::{
    BuildInfo, BuildSystem, BuildsysError, BuildsysResult, ChangelogEntry, ListTaggedOptions,
    RpmInfo, SourceHeader, TagInfo, TagOp, TaggedBuild,
};
use crate::config::{KojiAuthKind, KojiSettings};
use client::codes;
use tasks::TaskWaiter;

pub struct KojiBuildSystem {
    client: KojiClient,
    waiter: TaskWaiter,
}

impl KojiBuildSystem {
    pub fn new(client: KojiClient, poll_interval: Duration, task_timeout: Duration) -> Self {
        KojiBuildSystem {
            client,
            waiter: TaskWaiter {
                poll_interval,
                timeout: task_timeout,
            },
        }
    }

    /// A client for the configured hub: TLS settings, timeouts, credentials.
    pub fn from_settings(settings: &KojiSettings) -> Result<Self, KojiError> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(ca) = &settings.ca {
            let pem = std::fs::read(ca)
                .map_err(|e| KojiError::Config(format!("reading {}: {e}", ca.display())))?;
            let certs = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(cert)) => Some(Ok(cert)),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| KojiError::Config(format!("{}: {e}", ca.display())))?;
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        if settings.auth == KojiAuthKind::Certificate {
            let path = settings.cert.as_ref().ok_or_else(|| {
                KojiError::Config("auth = \"certificate\" needs buildsys.koji.cert".into())
            })?;
            tls = tls.client_cert(Some(client_cert(path)?));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(settings.timeout_secs.max(1))))
            .tls_config(tls.build())
            .build()
            .into();
        let auth = match settings.auth {
            KojiAuthKind::None => KojiAuth::Anonymous,
            KojiAuthKind::Password => KojiAuth::Password {
                user: settings.user.clone(),
                password: settings.password.clone(),
            },
            KojiAuthKind::Certificate => KojiAuth::Certificate,
        };
        let retry = RetryPolicy {
            max_retries: settings.max_retries,
            first_interval: Duration::from_millis(settings.retry_interval_ms),
            max_interval: Duration::from_secs(60),
        };
        let client = KojiClient::new(&settings.url, agent, auth, retry, settings.multicall_batch);
        Ok(KojiBuildSystem::new(
            client,
            Duration::from_millis(settings.task_poll_ms),
            Duration::from_secs(settings.task_timeout_secs),
        ))
    }

    pub fn client(&self) -> &KojiClient {
        &self.client
    }

    fn call(&self, call: KojiCall) -> BuildsysResult<Value> {
        self.client.call(&call).map_err(to_buildsys_error)
    }

    /// One read per build through multicalls: `method(nvr)` answering a list, each item
    /// parsed with `item`.
    fn read_many<T>(
        &self,
        method: &str,
        nvrs: &[&str],
        item: fn(&Value) -> BuildsysResult<T>,
    ) -> BuildsysResult<Vec<Vec<T>>> {
        let calls: Vec<KojiCall> = nvrs
            .iter()
            .map(|nvr| KojiCall::new(method, vec![json!(nvr)]))
            .collect();
        self.client
            .multicall(&calls)
            .map_err(to_buildsys_error)?
            .into_iter()
            .map(|reply| parse::list(&reply.map_err(to_buildsys_error)?, item))
            .collect()
    }

    /// Submits tagBuild/moveBuild calls in one multicall and waits for all their tasks.
    fn run_tag_tasks(&self, ops: &[(usize, &TagOp)], results: &mut [BuildsysResult<()>]) {
        let calls: Vec<KojiCall> = ops.iter().map(|(_, op)| tag_call(op)).collect();
        let submitted = match self.client.multicall(&calls) {
            Ok(submitted) => submitted,
            Err(e) => {
                for (index, _) in ops {
                    results[*index] = Err(to_buildsys_error(e.clone()));
                }
                return;
            }
        };
        let mut waiting = Vec::new();
        for ((index, op), outcome) in ops.iter().zip(submitted) {
            match outcome.and_then(|id| task_id(&id)) {
                Ok(task) => waiting.push((*index, task, op.describe())),
                Err(e) => results[*index] = Err(to_buildsys_error(e)),
            }
        }
        let tasks: Vec<(i64, String)> = waiting
            .iter()
            .map(|(_, task, what)| (*task, what.clone()))
            .collect();
        let finished = self.waiter.wait_all(&self.client, &tasks);
        for ((index, ..), outcome) in waiting.iter().zip(finished) {
            results[*index] = outcome.map_err(to_buildsys_error);
        }
    }
}

fn client_cert(path: &std::path::Path) -> Result<ureq::tls::ClientCert, KojiError> {
    let pem = std::fs::read(path)
        .map_err(|e| KojiError::Config(format!("reading {}: {e}", path.display())))?;
    let mut certs = Vec::new();
    let mut key = None;
    for item in ureq::tls::parse_pem(&pem) {
        match item.map_err(|e| KojiError::Config(format!("{}: {e}", path.display())))? {
            ureq::tls::PemItem::Certificate(cert) => certs.push(cert),
            ureq::tls::PemItem::PrivateKey(k) => key = Some(k),
            _ => {}
        }
    }
    let key = key.ok_or_else(|| {
        KojiError::Config(format!(
            "{}: no private key (Koji's cert file holds both)",
            path.display()
        ))
    })?;
    if certs.is_empty() {
        return Err(KojiError::Config(format!(
            "{}: no certificate",
            path.display()
        )));
    }
    Ok(ureq::tls::ClientCert::new_with_certs(&certs, key))
}

fn tag_call(op: &TagOp) -> KojiCall {
    match op {
        TagOp::Tag { tag, nvr } => KojiCall::new("tagBuild", vec![json!(tag), json!(nvr)]),
        TagOp::Move { from, to, nvr } => {
            KojiCall::new("moveBuild", vec![json!(from), json!(to), json!(nvr)])
        }
        TagOp::Untag { tag, nvr } => KojiCall::new("untagBuild", vec![json!(tag), json!(nvr)]),
        TagOp::CreateTag { name, parent, .. } => {
            KojiCall::new("createTag", vec![json!(name)]).kwarg("parent", json!(parent))
        }
        TagOp::DeleteTag { name } => KojiCall::new("deleteTag", vec![json!(name)]),
    }
}

fn task_id(value: &Value) -> Result<i64, KojiError> {
    value.as_i64().ok_or_else(|| KojiError::Protocol {
        method: "tagBuild".into(),
        message: format!("expected a task id, got {value}"),
    })
}

/// Koji's errors in the build system's terms: the tag/build conditions callers handle get
/// their own variants, connection trouble is "unavailable", the rest keeps Koji's words.
fn to_buildsys_error(error: KojiError) -> BuildsysError {
    let message = error.message().to_owned();
    match error.fault_code() {
        Some(codes::TAG_ERROR) => {
            if let Some((nvr, tag)) = parse::already_tagged(&message) {
                return BuildsysError::AlreadyTagged { nvr, tag };
            }
            if let Some((nvr, tag)) = parse::not_in_tag(&message) {
                return BuildsysError::NotTagged { nvr, tag };
            }
            BuildsysError::Invalid(error.to_string())
        }
        Some(codes::GENERIC_ERROR) if message.starts_with("No such build") => {
            BuildsysError::NoSuchBuild(parse::unquote(&message["No such build:".len()..]))
        }
        Some(codes::GENERIC_ERROR) if message.starts_with("A tag with the name") => {
            let name = message.split('\'').nth(1).unwrap_or_default();
            BuildsysError::TagExists(name.to_owned())
        }
        Some(codes::GENERIC_ERROR) if message.starts_with("No such tagInfo") => {
            BuildsysError::NoSuchTag(parse::unquote(&message["No such tagInfo:".len()..]))
        }
        Some(codes::ACTION_NOT_ALLOWED | codes::PARAMETER_ERROR) => {
            BuildsysError::Invalid(error.to_string())
        }
        _ => BuildsysError::Unavailable(error.to_string()),
    }
}

impl BuildSystem for KojiBuildSystem {
    fn get_build(&self, nvr: &str) -> BuildsysResult<Option<BuildInfo>> {
        let value = self.call(KojiCall::new("getBuild", vec![json!(nvr)]))?;
        if value.is_null() {
            return Ok(None);
        }
        parse::build(&value).map(Some)
    }

    fn get_tag(&self, name: &str) -> BuildsysResult<Option<TagInfo>> {
        let value = self.call(KojiCall::new("getTag", vec![json!(name)]))?;
        if value.is_null() {
            return Ok(None);
        }
        parse::tag(&value).map(Some)
    }

    fn full_inheritance(&self, tag: &str) -> BuildsysResult<Vec<String>> {
        let value = self.call(KojiCall::new("getFullInheritance", vec![json!(tag)]))?;
        parse::list(&value, |entry| parse::string(entry, "name"))
    }

    fn last_event(&self) -> BuildsysResult<i32> {
        let value = self.call(KojiCall::new("getLastEvent", vec![]))?;
        value
            .get("id")
            .and_then(Value::as_i64)
            .and_then(|id| i32::try_from(id).ok())
            .ok_or_else(|| BuildsysError::Unavailable(format!("getLastEvent returned {value}")))
    }

    fn tag_changed_since_event(&self, event: i32, tags: &[String]) -> BuildsysResult<bool> {
        let mut ids = Vec::with_capacity(tags.len());
        for name in tags {
            let tag = self
                .get_tag(name)?
                .ok_or_else(|| BuildsysError::NoSuchTag(name.clone()))?;
            ids.push(tag.id);
        }
        let value = self.call(KojiCall::new(
            "tagChangedSinceEvent",
            vec![json!(event), json!(ids)],
        ))?;
        value.as_bool().ok_or_else(|| {
            BuildsysError::Unavailable(format!("tagChangedSinceEvent returned {value}"))
        })
    }

    fn list_tags(&self, nvr: &str) -> BuildsysResult<Vec<TagInfo>> {
        let value = self.call(KojiCall::new("listTags", vec![json!(nvr)]))?;
        parse::list(&value, parse::tag)
    }

    fn list_tagged(
        &self,
        tag: &str,
        options: &ListTaggedOptions<'_>,
    ) -> BuildsysResult<Vec<TaggedBuild>> {
        let mut call = KojiCall::new("listTagged", vec![json!(tag)]);
        if options.inherit {
            call = call.kwarg("inherit", true);
        }
        if options.latest {
            call = call.kwarg("latest", true);
        }
        if let Some(package) = options.package {
            call = call.kwarg("package", package);
        }
        if let Some(prefix) = options.prefix {
            call = call.kwarg("prefix", prefix);
        }
        let value = self.call(call)?;
        parse::list(&value, parse::tagged_build)
    }

    fn list_build_rpms(&self, nvr: &str) -> BuildsysResult<Vec<RpmInfo>> {
        let value = self.call(KojiCall::new("listBuildRPMs", vec![json!(nvr)]))?;
        parse::list(&value, parse::rpm)
    }

    fn list_tags_many(&self, nvrs: &[&str]) -> BuildsysResult<Vec<Vec<TagInfo>>> {
        self.read_many("listTags", nvrs, parse::tag)
    }

    fn list_build_rpms_many(&self, nvrs: &[&str]) -> BuildsysResult<Vec<Vec<RpmInfo>>> {
        self.read_many("listBuildRPMs", nvrs, parse::rpm)
    }

    /// `getRPMHeaders` takes keyword arguments only; the hub reads the source RPM itself and
    /// answers `{}` when it has no file.
    fn changelog(&self, nvr: &str) -> BuildsysResult<Vec<ChangelogEntry>> {
        let call = KojiCall::new("getRPMHeaders", vec![])
            .kwarg("rpmID", json!(format!("{nvr}.src")))
            .kwarg(
                "headers",
                json!(["changelogtime", "changelogname", "changelogtext"]),
            );
        parse::changelog(&self.call(call)?)
    }

    fn source_header(&self, nvr: &str) -> BuildsysResult<SourceHeader> {
        let call = KojiCall::new("getRPMHeaders", vec![])
            .kwarg("rpmID", json!(format!("{nvr}.src")))
            .kwarg(
                "headers",
                json!([
                    "summary",
                    "description",
                    "url",
                    "changelogtime",
                    "changelogname",
                    "changelogtext"
                ]),
            );
        let value = self.call(call)?;
        let text = |key: &str| {
            value
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        Ok(SourceHeader {
            summary: text("summary"),
            description: text("description"),
            url: text("url"),
            changelog: parse::changelog(&value)?,
        })
    }

    fn list_side_tags(&self, user: Option<&str>) -> BuildsysResult<Vec<TagInfo>> {
        let call = KojiCall::new("listSideTags", vec![]).kwarg("user", json!(user));
        let value = self.call(call)?;
        let mut tags = parse::list(&value, parse::side_tag)?;
        tags.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tags)
    }

    fn tag_build(&self, tag: &str, nvr: &str, who: &str) -> BuildsysResult<()> {
        self.apply_batch(&[TagOp::tag(tag, nvr)], who)
            .pop()
            .unwrap_or(Ok(()))
    }

    fn create_tag_under(&self, name: &str, parent: &str, perm: Option<&str>) -> BuildsysResult<()> {
        self.call(tag_call(&TagOp::CreateTag {
            name: name.to_owned(),
            parent: parent.to_owned(),
            perm: None,
        }))?;
        if let Some(perm) = perm {
            self.call(KojiCall::new("editTag2", vec![json!(name)]).kwarg("perm", json!(perm)))?;
        }
        Ok(())
    }

    fn delete_tag(&self, name: &str) -> BuildsysResult<()> {
        self.call(KojiCall::new("deleteTag", vec![json!(name)]))
            .map(|_| ())
    }

    /// Koji acts as the logged-in user; `who` matters only to the local build system.
    fn untag_build(&self, tag: &str, nvr: &str, _who: &str) -> BuildsysResult<()> {
        self.call(KojiCall::new("untagBuild", vec![json!(tag), json!(nvr)]))
            .map(|_| ())
    }

    fn move_build(&self, from: &str, to: &str, nvr: &str, who: &str) -> BuildsysResult<()> {
        self.apply_batch(
            &[TagOp::Move {
                from: from.into(),
                to: to.into(),
                nvr: nvr.into(),
            }],
            who,
        )
        .pop()
        .unwrap_or(Ok(()))
    }

    /// Untags synchronously (Koji's untagBuild has no task), then submits every tag and move
    /// in multicall batches and waits for their tasks, polling them together.
    /// New tags first, then untags (one multicall), then tag and move tasks (multicalls,
    /// polled together), deleted tags last.
    fn apply_batch(&self, ops: &[TagOp], _who: &str) -> Vec<BuildsysResult<()>> {
        let mut results: Vec<BuildsysResult<()>> = ops.iter().map(|_| Ok(())).collect();
        for (index, op) in ops.iter().enumerate() {
            if let TagOp::CreateTag { name, parent, perm } = op {
                results[index] = self.create_tag_under(name, parent, perm.as_deref());
            }
        }
        let untags: Vec<(usize, KojiCall)> = ops
            .iter()
            .enumerate()
            .filter(|(_, op)| matches!(op, TagOp::Untag { .. }))
            .map(|(index, op)| (index, tag_call(op)))
            .collect();
        if !untags.is_empty() {
            let calls: Vec<KojiCall> = untags.iter().map(|(_, call)| call.clone()).collect();
            match self.client.multicall(&calls) {
                Ok(outcomes) => {
                    for ((index, _), outcome) in untags.iter().zip(outcomes) {
                        results[*index] = outcome.map(|_| ()).map_err(to_buildsys_error);
                    }
                }
                Err(e) => {
                    for (index, _) in &untags {
                        results[*index] = Err(to_buildsys_error(e.clone()));
                    }
                }
            }
        }
        let tasks: Vec<(usize, &TagOp)> = ops
            .iter()
            .enumerate()
            .filter(|(_, op)| matches!(op, TagOp::Tag { .. } | TagOp::Move { .. }))
            .collect();
        if !tasks.is_empty() {
            self.run_tag_tasks(&tasks, &mut results);
        }
        for (index, op) in ops.iter().enumerate() {
            if let TagOp::DeleteTag { name } = op {
                results[index] = self.delete_tag(name);
            }
        }
        results
    }
}
