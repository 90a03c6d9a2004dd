//! Settings: TOML from `--config FILE` (or `PIPAL_CONFIG`), then `PIPAL__SECTION__KEY`
//! environment overrides, then defaults for everything left out. Unknown keys and bad values
//! are errors that name the key. `config/pipal.example.toml` documents every key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize};

pub use crate::masher::containers::ContainerSettings;
pub use crate::masher::repo::Compression;

/// Prefix of environment variables that override configuration keys.
pub const ENV_PREFIX: &str = "PIPAL__";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub buildsys: BuildsysSettings,
    pub mail: MailSettings,
    pub bus: BusSettings,
    pub bugzilla: BugzillaSettings,
    pub outbox: OutboxSettings,
    pub log: LogSettings,
    pub worker: WorkerSettings,
    pub masher: MasherSettings,
    pub rules: RulesSettings,
    pub accounts: AccountsSettings,
    pub oidc: OidcSettings,
    pub critpath: CritpathSettings,
    pub odcs: crate::odcs::OdcsSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address and port to listen on.
    pub listen: String,
    /// The public URL of this Pipal, ending with `/`; used in links, mails and messages.
    /// Empty: `http://<listen>/`.
    pub base_address: String,
    /// HTTP worker threads; 0 means one per CPU.
    pub workers: usize,
    /// The secret that signs cookies. Empty: a random one is made once and kept in the
    /// database, so that every node shares it.
    pub secret: String,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: "127.0.0.1:8080".into(),
            base_address: String::new(),
            workers: 0,
            secret: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`.
    pub url: String,
    /// Largest number of pooled connections (SQLite uses at most 8).
    pub pool_size: u32,
    /// Apply pending migrations when `pipal serve` starts.
    pub migrate_on_start: bool,
    pub connect_timeout_secs: u64,
    /// How long an SQLite writer waits for another one before failing.
    pub sqlite_busy_timeout_ms: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: "sqlite://var/pipal.db".into(),
            pool_size: 10,
            migrate_on_start: true,
            connect_timeout_secs: 10,
            sqlite_busy_timeout_ms: 5000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildsysKind {
    /// Tags and builds in Pipal's own database, RPM files under `buildsys.local.root`.
    #[default]
    Local,
    /// A Koji hub over XML-RPC (`buildsys.koji`).
    Koji,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BuildsysSettings {
    pub kind: BuildsysKind,
    pub local: LocalBuildsysSettings,
    pub koji: KojiSettings,
    pub events: TagEventSettings,
}

/// Where Koji's `buildsys.tag` messages come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TagEventSettings {
    /// The broker, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`; empty: no consumer (the
    /// reconcile job still finds signed builds by reading the tags).
    pub amqp_url: String,
    pub exchange: String,
    /// Pipal's durable queue; several Pipal processes share it.
    pub queue: String,
    /// Binding key; `#.` matches any topic prefix (`org.fedoraproject.prod.`).
    pub routing_key: String,
}

impl Default for TagEventSettings {
    fn default() -> Self {
        TagEventSettings {
            amqp_url: String::new(),
            exchange: "amq.topic".into(),
            queue: "pipal.buildsys.tag".into(),
            routing_key: "#.buildsys.tag".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KojiAuthKind {
    /// Anonymous: reads only.
    None,
    /// Koji's `login` with `user` and `password`.
    #[default]
    Password,
    /// `sslLogin` with the TLS client certificate in `cert`.
    Certificate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KojiSettings {
    /// The hub's XML-RPC endpoint.
    pub url: String,
    /// Koji's top directory (`topdir`), where the masher reads RPM files.
    pub topdir: PathBuf,
    pub auth: KojiAuthKind,
    pub user: String,
    pub password: String,
    /// PEM file with the client certificate and its key (Koji's `cert`).
    pub cert: Option<PathBuf>,
    /// PEM file of the CA that signed the hub's certificate (Koji's `serverca`); empty means
    /// the system's roots.
    pub ca: Option<PathBuf>,
    /// Calls per multicall request.
    pub multicall_batch: usize,
    /// Timeout of one HTTP request.
    pub timeout_secs: u64,
    /// Retries of connection errors and ServerOffline faults, with exponential backoff
    /// starting at `retry_interval_ms` (capped at a minute).
    pub max_retries: u32,
    pub retry_interval_ms: u64,
    /// How often tagBuild/moveBuild tasks are polled, and how long to wait for them.
    pub task_poll_ms: u64,
    pub task_timeout_secs: u64,
}

impl Default for KojiSettings {
    fn default() -> Self {
        KojiSettings {
            url: "http://127.0.0.1:8180/kojihub".into(),
            topdir: PathBuf::from("/mnt/koji"),
            auth: KojiAuthKind::Password,
            user: "kojiadmin".into(),
            password: "kojiadmin".into(),
            cert: None,
            ca: None,
            multicall_batch: 100,
            timeout_secs: 120,
            max_retries: 30,
            retry_interval_ms: 1000,
            task_poll_ms: 2000,
            task_timeout_secs: 3600,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocalBuildsysSettings {
    /// Top directory, laid out like Koji's: `packages/<name>/<version>/<release>/<arch>/`.
    pub root: PathBuf,
    /// Play the signer: builds in a signing-pending tag move to the testing-pending tag
    /// `autosign_delay_secs` after they arrived.
    pub autosign: bool,
    pub autosign_delay_secs: u64,
}

impl Default for LocalBuildsysSettings {
    fn default() -> Self {
        LocalBuildsysSettings {
            root: PathBuf::from("var/koji"),
            autosign: true,
            autosign_delay_secs: 10,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// One `.eml` file per mail under `mail.dir`.
    #[default]
    File,
    /// An SMTP server (`mail.smtp_*`).
    Smtp,
    /// Kept in the worker's memory (tests).
    Memory,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSettings {
    pub transport: MailTransport,
    pub dir: PathBuf,
    /// Sender of every mail (Bodhi's `bodhi_email`).
    pub from: String,
    /// The SMTP server of `transport = "smtp"`.
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none` (plain, for a local relay), `starttls` or `tls` (SMTPS).
    pub smtp_tls: SmtpTls,
    /// Login for SMTP AUTH; empty: none.
    pub smtp_user: String,
    pub smtp_password: String,
    pub smtp_timeout_secs: u64,
    /// Addresses never mailed (Bodhi's `exclude_mail`).
    pub exclude: Vec<String>,
    /// The domain of the thread id every mail about an update refers to:
    /// `<bodhi-update-ID-OWNER-RELEASE@domain>` (Bodhi's `message_id_email_domain`).
    pub message_id_domain: String,
    /// The `X-Bodhi` header's value (Bodhi's `default_email_domain`).
    pub email_domain: String,
    /// The prefix of subjects: `[Fedora Update] [comment] ...` (Bodhi's is fixed).
    pub subject_prefix: String,
    /// Where stable pushes announce each build when the release has no announce list of its
    /// own, per release id prefix in lower case with `_` for `-` (Bodhi's
    /// `<prefix>_announce_list`): `fedora = "package-announce@..."`.
    pub announce_lists: BTreeMap<String, String>,
    /// Where testing pushes send the updates-testing digest (`<prefix>_test_announce_list`).
    pub test_announce_lists: BTreeMap<String, String>,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            transport: MailTransport::File,
            dir: PathBuf::from("var/mail"),
            from: "updates@localhost".into(),
            smtp_host: "localhost".into(),
            smtp_port: 25,
            smtp_tls: SmtpTls::None,
            smtp_user: String::new(),
            smtp_password: String::new(),
            smtp_timeout_secs: 30,
            exclude: Vec::new(),
            message_id_domain: "localhost".into(),
            email_domain: "localhost".into(),
            subject_prefix: "[Fedora Update]".into(),
            announce_lists: BTreeMap::new(),
            test_announce_lists: BTreeMap::new(),
        }
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP: a relay on the same host or network.
    #[default]
    None,
    /// Plain, then upgraded with STARTTLS (refused if the server cannot).
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BusTransport {
    /// Messages are written to the log only.
    #[default]
    Log,
    /// One JSON line per message appended to `bus.file`, in the format
    /// `check_messages.py file` reads (routing key, headers, properties, body).
    File,
    /// Published to an AMQP broker (RabbitMQ) as fedora-messaging does.
    Amqp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusSettings {
    pub transport: BusTransport,
    /// Prefix of every topic, e.g. `org.fedoraproject.prod` (fedora-messaging's
    /// `topic_prefix`); empty: the bare topic.
    pub topic_prefix: String,
    /// The broker of `transport = "amqp"`, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    pub amqp_url: String,
    /// The exchange messages are published to (fedora-messaging's `publish_exchange`).
    pub exchange: String,
    /// The file of `transport = "file"`.
    pub file: PathBuf,
}

impl Default for BusSettings {
    fn default() -> Self {
        BusSettings {
            transport: BusTransport::Log,
            topic_prefix: "org.pipal.dev".into(),
            amqp_url: String::new(),
            exchange: "amq.topic".into(),
            file: PathBuf::from("var/messages.jsonl"),
        }
    }
}

/// Which bug tracker the update workflow talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BugTracker {
    /// Bugs are attached by number only; nothing is read from or written to a tracker.
    #[default]
    None,
    /// Bugzilla over XML-RPC (spec/bugzilla.md).
    Bugzilla,
}

/// Bugzilla: bug titles and flags are read when bugs are attached, and bugs are commented on
/// and moved through MODIFIED, ON_QA and CLOSED ERRATA as their updates move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BugzillaSettings {
    pub tracker: BugTracker,
    /// The XML-RPC endpoint (Bodhi's `bz_server`).
    pub url: String,
    /// An API key (Bodhi's `bugzilla_api_key`); sent as a Bearer token to Red Hat's
    /// Bugzilla and as `Bugzilla_api_key` elsewhere, as python-bugzilla does.
    pub api_key: String,
    /// A login for servers without API keys (`User.login`); used when `api_key` is empty.
    pub user: String,
    pub password: String,
    /// Only bugs of these products change status (Bodhi's `bz_products`).
    pub products: Vec<String>,
    pub timeout_secs: u64,
    /// The comment on a bug attached to a new or edited update (Bodhi's `initial_bug_msg`).
    /// Placeholders: `{update_alias}`, `{update_beauty_title}`, `{update_title}`,
    /// `{update_release}`, `{update_url}`, `{repo}`, `{install_instructions}`.
    pub initial_bug_msg: String,
    /// The comment when the update reaches testing (`testing_bug_msg`).
    pub testing_bug_msg: String,
    /// The same for releases whose id prefix is `FEDORA-EPEL` (`testing_bug_epel_msg`).
    pub testing_bug_epel_msg: String,
    /// The comment when the update reaches stable (`stable_bug_msg`).
    pub stable_bug_msg: String,
}

impl BugzillaSettings {
    pub fn enabled(&self) -> bool {
        self.tracker == BugTracker::Bugzilla
    }
}

impl Default for BugzillaSettings {
    fn default() -> Self {
        let testing = "{update_alias} has been pushed to the {repo} repository.\n\
                       {install_instructions}\n\
                       You can provide feedback for this update here: {update_url}\n\n\
                       See also https://fedoraproject.org/wiki/QA:Updates_Testing for more \
                       information on how to test updates.";
        BugzillaSettings {
            tracker: BugTracker::None,
            url: "https://bugzilla.redhat.com/xmlrpc.cgi".into(),
            api_key: String::new(),
            user: String::new(),
            password: String::new(),
            products: vec![
                "Fedora".into(),
                "Fedora EPEL".into(),
                "Fedora Modules".into(),
            ],
            timeout_secs: 30,
            initial_bug_msg: "{update_alias} ({update_beauty_title}) has been submitted as an \
                              update to {update_release}.\n{update_url}"
                .into(),
            testing_bug_msg: testing.into(),
            testing_bug_epel_msg: testing.into(),
            stable_bug_msg: "{update_alias} ({update_beauty_title}) has been pushed to the {repo} \
                             repository.\nIf problem still persists, please make note of it in \
                             this bug report."
                .into(),
        }
    }
}

/// How the worker delivers the outbox (bus messages, mails, Bugzilla changes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxSettings {
    /// How often an idle deliverer looks for due entries.
    pub poll_interval_ms: u64,
    /// How long a claimed entry stays leased to its deliverer.
    pub lease_secs: u64,
    /// Entries claimed at once.
    pub batch: i64,
    /// The first retry waits this long; each next one twice as long, up to `retry_max_secs`.
    pub retry_base_secs: u64,
    pub retry_max_secs: u64,
    /// After this many failed attempts an entry is `failed` and waits for
    /// `pipal outbox retry`.
    pub max_attempts: i32,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            poll_interval_ms: 1000,
            lease_secs: 60,
            batch: 100,
            retry_base_secs: 10,
            retry_max_secs: 3600,
            max_attempts: 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A tracing filter: `info`, `pipal=debug,actix_web=info`, ... (`RUST_LOG` wins if set).
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerSettings {
    /// How often an idle worker looks for due jobs.
    pub poll_interval_ms: u64,
    /// How long a claimed job stays leased to its worker without a renewal.
    pub lease_secs: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            poll_interval_ms: 1000,
            lease_secs: 60,
        }
    }
}

/// How the masher runs composes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MasherSettings {
    /// Whether this node's worker runs composes; `false` on nodes that only serve and run
    /// jobs when the masher runs elsewhere (composes stay requested until a masher claims
    /// them).
    pub enabled: bool,
    /// Composes running at once, over all workers sharing the database.
    pub max_concurrent_composes: u16,
    /// How long a compose stays leased to its worker without renewal; a compose whose worker
    /// died is resumed by another once its lease expires.
    pub lease_secs: u64,
    /// How often an idle masher looks for composes to run.
    pub poll_interval_ms: u64,
    /// Where composes write their repositories, one directory per compose
    /// (`<tag>-<YYYYMMDD.HHMMSS>`; Bodhi's `compose_dir`).
    pub compose_dir: PathBuf,
    /// Where the published repositories are: `<tag>` is a symlink to the newest compose of
    /// the tag, swapped atomically (Bodhi's `compose_stage_dir`).
    pub stage_dir: PathBuf,
    /// Parsed RPM headers, keyed by path, size, mtime and inode.
    pub cache_dir: PathBuf,
    /// Finished composes kept per tag in `compose_dir`; older ones are removed.
    pub keep_composes: usize,
    /// Compression of repodata: `gzip` or `zstd`.
    pub compression: Compression,
    /// Threads that read RPM headers.
    pub header_workers: usize,
    /// Signing keys whose signed copies (`data/signed/<key>/`) repositories take, in order of
    /// preference; empty: the unsigned files. `release_sigkeys` overrides it per release.
    pub sigkeys: Vec<String>,
    pub release_sigkeys: BTreeMap<String, Vec<String>>,
    /// Base of the `src` URL of updateinfo packages (Bodhi's `file_url`).
    pub file_url: String,
    /// `<rights>` of updateinfo; `{year}` is replaced (Bodhi's `updateinfo_rights`).
    pub updateinfo_rights: String,
    /// A bug's link in updateinfo; `%s` is the bug number (Bodhi's `buglink`).
    pub buglink: String,
    /// Container and flatpak composes: skopeo and the registries.
    pub containers: ContainerSettings,
    /// Wait, in state `signing_repo`, until every repository of the compose has a
    /// `repodata/repomd.xml.asc` (an external signer's), before publishing (Bodhi's
    /// `wait_for_repo_sig`).
    pub wait_for_repo_signature: bool,
    /// After publishing, wait in state `syncing_repo` until the master mirror serves the new
    /// repomd.xml: per release, `testing` and `stable` URLs where `{version}` and `{arch}`
    /// are replaced (Bodhi's `<prefix>_<version>_<request>_master_repomd`).
    pub testing_repomd_urls: BTreeMap<String, String>,
    pub stable_repomd_urls: BTreeMap<String, String>,
    /// How often the signature and mirror waits look again.
    pub wait_poll_ms: u64,
    /// How long they wait before failing the compose; 0: for ever, as Bodhi.
    pub wait_timeout_secs: u64,
}

impl Default for MasherSettings {
    fn default() -> Self {
        MasherSettings {
            enabled: true,
            max_concurrent_composes: 2,
            lease_secs: 60,
            poll_interval_ms: 2000,
            compose_dir: PathBuf::from("var/composes"),
            stage_dir: PathBuf::from("var/repos"),
            cache_dir: PathBuf::from("var/cache/headers"),
            keep_composes: 10,
            compression: Compression::Gzip,
            header_workers: 2,
            sigkeys: Vec::new(),
            release_sigkeys: BTreeMap::new(),
            file_url: "https://download.fedoraproject.org/pub/fedora/linux/updates".into(),
            updateinfo_rights: "Copyright (C) {year} Red Hat, Inc. and others.".into(),
            buglink: "https://bugzilla.redhat.com/show_bug.cgi?id=%s".into(),
            containers: ContainerSettings::default(),
            wait_for_repo_signature: false,
            testing_repomd_urls: BTreeMap::new(),
            stable_repomd_urls: BTreeMap::new(),
            wait_poll_ms: 200_000,
            wait_timeout_secs: 0,
        }
    }
}

/// Groups that grant rights, and how users are shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsSettings {
    /// A user must be in one of these to submit updates (and in all of them unless an admin
    /// packager).
    pub mandatory_packager_groups: Vec<String>,
    /// Members may edit any package's updates, stable ones included.
    pub admin_packager_groups: Vec<String>,
    /// Members may create and edit releases and start pushes.
    pub admin_groups: Vec<String>,
    /// Members may waive and re-trigger tests of any update.
    pub qa_groups: Vec<String>,
    /// Users whose comments are the system's own (Bodhi's `bodhi`).
    pub system_users: Vec<String>,
    /// `openid` of users in the JSON API; `{username}` is replaced.
    pub openid_template: String,
    /// Serve libravatar URLs as users' avatars.
    pub libravatar_enabled: bool,
}

impl Default for AccountsSettings {
    fn default() -> Self {
        let groups = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        AccountsSettings {
            mandatory_packager_groups: groups(&["packager"]),
            admin_packager_groups: groups(&["provenpackager", "releng", "security_respons"]),
            admin_groups: groups(&[
                "proventesters",
                "security_respons",
                "bodhiadmin",
                "sysadmin-main",
            ]),
            qa_groups: groups(&["fedora-ci-users"]),
            system_users: groups(&["bodhi"]),
            openid_template: "{username}.id.fedoraproject.org".into(),
            libravatar_enabled: true,
        }
    }
}

/// Which packages are on the critical path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CritpathSettings {
    /// A directory of `<branch>.json` files, as Fedora publishes them:
    /// `{"rpm": {"group": ["package", ...]}, "module": {...}}`. Empty: not used.
    pub json_dir: PathBuf,
    /// Critical path packages of every release, when no JSON directory is set.
    pub packages: Vec<String>,
}

/// Pipal's OpenID Connect provider, which the `bodhi` CLI logs in with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcSettings {
    /// Advertise the out-of-band flow: clients then show the user a URL and ask them to paste
    /// the code, instead of listening on a localhost port for the redirect.
    pub offer_oob: bool,
    /// Lifetime of access tokens, in hours.
    pub access_token_hours: i64,
    /// Lifetime of refresh tokens, in days.
    pub refresh_token_days: i64,
    /// Redirect URIs accepted besides out-of-band and loopback ones (for web clients).
    pub redirect_uris: Vec<String>,
}

impl Default for OidcSettings {
    fn default() -> Self {
        OidcSettings {
            offer_oob: false,
            access_token_hours: 24,
            refresh_token_days: 30,
            redirect_uris: Vec::new(),
        }
    }
}

/// Defaults of the update rules; each release may override the karma and days settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesSettings {
    pub min_karma: i32,
    pub critpath_min_karma: i32,
    pub mandatory_days_in_testing: i32,
    pub critpath_mandatory_days_in_testing: i32,
    /// Longest buildroot override, in days.
    pub buildroot_limit: i32,
    pub update_notes_maxlength: usize,
    /// Updates must pass their required tests (Greenwave) before stable.
    pub test_gating_required: bool,
    /// Pending updates younger than this are left alone by check_signed_builds.
    pub check_signed_builds_delay_days: i64,
    /// Owners whose candidate builds never get automatic updates (Bodhi's
    /// `automatic_updates_blacklist`).
    pub automatic_updates_blacklist: Vec<String>,
    /// Bugs an automatic update closes, found in its changelog; group 1 is the bug number
    /// (Bodhi's `bz_regex`, matched case-insensitively).
    pub bz_regex: String,
    /// Releases whose automatic updates take no bugs from changelogs (`bz_exclude_rels`).
    pub bz_exclude_rels: Vec<String>,
}

impl Default for RulesSettings {
    fn default() -> Self {
        RulesSettings {
            min_karma: 2,
            critpath_min_karma: 2,
            mandatory_days_in_testing: 7,
            critpath_mandatory_days_in_testing: 14,
            buildroot_limit: 31,
            update_notes_maxlength: 10000,
            test_gating_required: false,
            check_signed_builds_delay_days: 2,
            automatic_updates_blacklist: vec!["releng".to_owned()],
            bz_regex: r"(?:fix(?:es)?|close(?:s)?|resolve(?:s)?)(?:\:)?\s(?:fedora|epel|rh(?:bz)?)#(\d{5,})"
                .to_owned(),
            bz_exclude_rels: Vec::new(),
        }
    }
}

impl Settings {
    /// Loads the file (if any), applies the environment overrides and checks the values.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(file, &env)
    }

    /// Like [`Settings::load`], with the environment given explicitly (for tests).
    pub fn load_from(file: Option<&Path>, env: &[(String, String)]) -> anyhow::Result<Settings> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read the configuration file {}", path.display())
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| anyhow!("{}: {}", path.display(), e.message()))?
            }
            None => toml::Table::new(),
        };
        let coerced = apply_env_overrides(&mut table, env)?;
        let settings = deserialize_with_coercion(table, &coerced)?;
        settings.validate()?;
        Ok(settings)
    }

    /// The public URL: `server.base_address`, or `http://<listen>/` when it is not set.
    pub fn base_address(&self) -> String {
        if self.server.base_address.is_empty() {
            format!("http://{}/", self.server.listen)
        } else {
            self.server.base_address.clone()
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.listen_addr()?;
        regex::Regex::new(&self.rules.bz_regex).map_err(|e| anyhow!("rules.bz_regex: {e}"))?;
        crate::db::DatabaseTarget::parse(&self.database.url)
            .map_err(|e| anyhow!("database.url: {e}"))?;
        if self.database.pool_size == 0 {
            bail!("database.pool_size: must be at least 1");
        }
        if !self.server.base_address.is_empty() && !self.server.base_address.ends_with('/') {
            bail!(
                "server.base_address: must end with `/` (got `{}`)",
                self.server.base_address
            );
        }
        if self.buildsys.kind == BuildsysKind::Koji {
            let koji = &self.buildsys.koji;
            url::Url::parse(&koji.url)
                .map_err(|e| anyhow!("buildsys.koji.url: `{}`: {e}", koji.url))?;
            if koji.multicall_batch == 0 {
                bail!("buildsys.koji.multicall_batch: must be at least 1");
            }
            if koji.auth == KojiAuthKind::Certificate && koji.cert.is_none() {
                bail!("buildsys.koji.cert: needed when buildsys.koji.auth = \"certificate\"");
            }
        }
        if self.bugzilla.enabled() {
            url::Url::parse(&self.bugzilla.url)
                .map_err(|e| anyhow!("bugzilla.url: `{}`: {e}", self.bugzilla.url))?;
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| anyhow!("log.level: invalid filter `{}`: {e}", self.log.level))?;
        Ok(())
    }

    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.server.listen.parse().map_err(|_| {
            anyhow!(
                "server.listen: `{}` is not an address with a port, e.g. 127.0.0.1:8080",
                self.server.listen
            )
        })
    }

    /// The effective configuration as TOML, with passwords and secrets masked.
    pub fn to_masked_toml(&self) -> anyhow::Result<String> {
        let mut value = toml::Value::try_from(self).context("cannot serialise the settings")?;
        mask_secrets(&mut value);
        Ok(toml::to_string_pretty(&value)?)
    }
}

/// Sets `PIPAL__SECTION__KEY=value` into the table; returns the dotted keys whose value was
/// read as a TOML literal (number, boolean, array), so that they can fall back to a string.
fn apply_env_overrides(
    table: &mut toml::Table,
    env: &[(String, String)],
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut coerced = BTreeMap::new();
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
        if path.iter().any(|p| p.is_empty()) {
            bail!("{name}: expected {ENV_PREFIX}SECTION__KEY");
        }
        let dotted = path.join(".");
        let value = match literal(raw) {
            Some(v) => {
                coerced.insert(dotted.clone(), raw.clone());
                v
            }
            None => toml::Value::String(raw.clone()),
        };
        set_path(table, &path, value).map_err(|e| anyhow!("{name} ({dotted}): {e}"))?;
    }
    Ok(coerced)
}

fn literal(raw: &str) -> Option<toml::Value> {
    let parsed = format!("v = {raw}").parse::<toml::Table>().ok()?;
    match parsed.get("v")? {
        v @ (toml::Value::Integer(_)
        | toml::Value::Float(_)
        | toml::Value::Boolean(_)
        | toml::Value::Array(_)) => Some(v.clone()),
        _ => None,
    }
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    let (last, parents) = path.split_last().ok_or("empty key")?;
    let mut current = table;
    for part in parents {
        let entry = current
            .entry(part.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{part}` is not a section"))?;
    }
    current.insert(last.clone(), value);
    Ok(())
}

/// Deserialises the settings; an environment value read as a literal that the field does not
/// accept (say `PIPAL__MAIL__FROM=42`) is retried as a string before it is an error.
fn deserialize_with_coercion(
    mut table: toml::Table,
    coerced: &BTreeMap<String, String>,
) -> anyhow::Result<Settings> {
    let mut retried = std::collections::BTreeSet::new();
    loop {
        let result: Result<Settings, _> =
            serde_path_to_error::deserialize(toml::Value::Table(table.clone()));
        match result {
            Ok(settings) => return Ok(settings),
            Err(error) => {
                let key = error.path().to_string();
                if let Some(raw) = coerced.get(&key).filter(|_| retried.insert(key.clone())) {
                    let path: Vec<String> = key.split('.').map(str::to_owned).collect();
                    set_path(&mut table, &path, toml::Value::String(raw.clone()))
                        .map_err(|e| anyhow!("{key}: {e}"))?;
                    continue;
                }
                bail!("configuration key `{key}`: {}", error.inner().message());
            }
        }
    }
}

fn mask_secrets(value: &mut toml::Value) {
    if let toml::Value::Table(table) = value {
        for (key, item) in table.iter_mut() {
            let secret_key = ["password", "secret", "token", "api_key"]
                .iter()
                .any(|s| key.contains(s));
            match item {
                toml::Value::String(text) if secret_key && !text.is_empty() => {
                    *text = "********".into()
                }
                toml::Value::String(text) if key.ends_with("url") => *text = mask_url(text),
                other => mask_secrets(other),
            }
        }
    }
}

/// Hides the password of a URL's user information: `postgres://u:****@host/db`.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:********@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let s = Settings::load_from(None, &[]).unwrap();
        assert_eq!(s.database.url, "sqlite://var/pipal.db");
        assert_eq!(s.server.listen, "127.0.0.1:8080");
        assert_eq!(s.buildsys.local.root, PathBuf::from("var/koji"));
        assert_eq!(s.mail.dir, PathBuf::from("var/mail"));
    }

    #[test]
    fn environment_overrides_keys_with_types() {
        let s = Settings::load_from(
            None,
            &env(&[
                ("PIPAL__DATABASE__URL", "postgres://u:pw@db/pipal"),
                ("PIPAL__DATABASE__POOL_SIZE", "3"),
                ("PIPAL__SERVER__LISTEN", "0.0.0.0:9000"),
                ("PIPAL__BUILDSYS__LOCAL__ROOT", "/srv/koji"),
                ("PIPAL__MAIL__FROM", "42"),
                ("OTHER", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(s.database.url, "postgres://u:pw@db/pipal");
        assert_eq!(s.database.pool_size, 3);
        assert_eq!(s.server.listen, "0.0.0.0:9000");
        assert_eq!(s.buildsys.local.root, PathBuf::from("/srv/koji"));
        assert_eq!(s.mail.from, "42");
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let err = Settings::load_from(None, &env(&[("PIPAL__SERVER__LISTN", "x")])).unwrap_err();
        assert!(err.to_string().contains("server.listn"), "{err}");
        let err =
            Settings::load_from(None, &env(&[("PIPAL__DATABASE__POOL_SIZE", "many")])).unwrap_err();
        assert!(err.to_string().contains("database.pool_size"), "{err}");
        let err =
            Settings::load_from(None, &env(&[("PIPAL__SERVER__LISTEN", "nowhere")])).unwrap_err();
        assert!(err.to_string().contains("server.listen"), "{err}");
        let err = Settings::load_from(None, &env(&[("PIPAL__LOG__FORMAT", "xml")])).unwrap_err();
        assert!(err.to_string().contains("log.format"), "{err}");
    }

    #[test]
    fn secrets_are_masked() {
        assert_eq!(
            mask_url("postgres://u:pw@h:5432/db"),
            "postgres://u:********@h:5432/db"
        );
        assert_eq!(mask_url("postgres://u@h/db"), "postgres://u@h/db");
        let s = Settings::load_from(
            None,
            &env(&[("PIPAL__DATABASE__URL", "postgres://u:hunter2@h/db")]),
        )
        .unwrap();
        let text = s.to_masked_toml().unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("postgres://u:********@h/db"), "{text}");
    }
}
