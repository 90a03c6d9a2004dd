//! `pipal odcs`: a client of the on-demand compose API (`/api/1/composes/`), like ODCS's own
//! `odcs` command: create a compose and wait for it, list, show, renew and delete composes.
//! It talks HTTP to a Pipal server (this node's `server.base_address` unless `--server`),
//! with an API token from `--token` or `PIPAL_TOKEN`.

use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::Context;

#[derive(Debug, Args)]
pub struct OdcsArgs {
    /// The Pipal server (default: this configuration's `server.base_address`).
    #[arg(long, env = "PIPAL_SERVER", value_name = "URL")]
    server: Option<String>,
    /// An API token (`pipal user token`), needed to create, renew and delete.
    #[arg(
        long,
        env = "PIPAL_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    #[command(subcommand)]
    command: OdcsCommand,
}

#[derive(Debug, Subcommand)]
pub enum OdcsCommand {
    /// Ask for a compose of a tag, of builds or of updates, and wait until it is done.
    Create(CreateArgs),
    /// List composes, newest first.
    List {
        #[arg(long)]
        owner: Option<String>,
        /// wait, generating, done, removed or failed.
        #[arg(long)]
        state: Option<String>,
        /// tag, build or update.
        #[arg(long)]
        source_type: Option<String>,
        #[arg(long)]
        source: Option<String>,
        #[arg(long, default_value_t = 1)]
        page: u32,
        #[arg(long, default_value_t = 20)]
        per_page: u32,
    },
    /// Show a compose as JSON.
    Show { id: i32 },
    /// Extend a compose's life, or generate a removed or failed one again.
    Renew {
        id: i32,
        #[arg(long, value_name = "SECONDS")]
        seconds_to_live: Option<i64>,
    },
    /// Cancel a waiting compose, or expire a done or failed one (admins).
    Delete { id: i32 },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// tag, build or update.
    #[arg(value_name = "TYPE")]
    source_type: String,
    /// The tag, the NVRs or the update aliases.
    #[arg(value_name = "SOURCE", required = true)]
    sources: Vec<String>,
    /// Only these packages of the tag (repeatable).
    #[arg(long = "package", value_name = "NAME")]
    packages: Vec<String>,
    /// Take RPMs signed with this key (repeatable, in order of preference).
    #[arg(long = "sigkey", value_name = "KEY")]
    sigkeys: Vec<String>,
    /// Arches of the repository (repeatable).
    #[arg(long = "arch", value_name = "ARCH")]
    arches: Vec<String>,
    /// ODCS flags, e.g. no_reuse, no_inheritance (repeatable).
    #[arg(long = "flag", value_name = "FLAG")]
    flags: Vec<String>,
    #[arg(long, value_name = "SECONDS")]
    seconds_to_live: Option<i64>,
    #[arg(long)]
    label: Option<String>,
    #[arg(long)]
    compose_type: Option<String>,
    /// Print the compose as soon as it is accepted instead of waiting for it.
    #[arg(long)]
    no_wait: bool,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    timeout: u64,
}

struct Client {
    agent: ureq::Agent,
    server: String,
    token: Option<String>,
}

impl Client {
    fn url(&self, path: &str) -> String {
        format!("{}/api/1/{path}", self.server.trim_end_matches('/'))
    }

    /// Sends a request and returns the JSON answer; an error answer becomes ODCS's message.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let url = self.url(path);
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Accept", "application/json");
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let request = request
            .header("Content-Type", "application/json")
            .body(body.map(Value::to_string).unwrap_or_default())
            .with_context(|| format!("building the request to {url}"))?;
        let mut response = self
            .agent
            .run(request)
            .with_context(|| format!("cannot reach {url}"))?;
        let status = response.status();
        let text = response
            .body_mut()
            .read_to_string()
            .with_context(|| format!("reading the answer of {url}"))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if !status.is_success() {
            let message = value
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| value.to_string());
            bail!(
                "{} {}: {message}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            );
        }
        Ok(value)
    }
}

pub fn run(ctx: &Context, args: OdcsArgs) -> anyhow::Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let client = Client {
        agent,
        server: args.server.unwrap_or_else(|| ctx.settings.base_address()),
        token: args.token.filter(|t| !t.is_empty()),
    };
    match args.command {
        OdcsCommand::Create(create) => create_compose(&client, create),
        OdcsCommand::List {
            owner,
            state,
            source_type,
            source,
            page,
            per_page,
        } => {
            let mut query = vec![
                ("page", page.to_string()),
                ("per_page", per_page.to_string()),
            ];
            if let Some(owner) = owner {
                query.push(("owner", owner));
            }
            if let Some(state) = state {
                let number = crate::odcs::state_number(&state).ok_or_else(|| {
                    anyhow!("unknown state {state}: wait, generating, done, removed or failed")
                })?;
                query.push(("state", number.to_string()));
            }
            if let Some(source_type) = source_type {
                let number = crate::odcs::SourceType::from_name(&source_type)
                    .ok_or_else(|| anyhow!("unknown source type {source_type}"))?
                    .number();
                query.push(("source_type", number.to_string()));
            }
            if let Some(source) = source {
                query.push(("source", source));
            }
            let query = serde_urlencoded::to_string(&query)?;
            let page = client.call("GET", &format!("composes/?{query}"), None)?;
            print_list(&page);
            Ok(())
        }
        OdcsCommand::Show { id } => {
            print_json(&client.call("GET", &format!("composes/{id}"), None)?)
        }
        OdcsCommand::Renew {
            id,
            seconds_to_live,
        } => {
            let body = match seconds_to_live {
                Some(seconds) => json!({"seconds_to_live": seconds}),
                None => json!({}),
            };
            print_json(&client.call("PATCH", &format!("composes/{id}"), Some(&body))?)
        }
        OdcsCommand::Delete { id } => {
            let answer = client.call("DELETE", &format!("composes/{id}"), None)?;
            println!("{}", answer["message"].as_str().unwrap_or("accepted"));
            Ok(())
        }
    }
}

fn create_compose(client: &Client, args: CreateArgs) -> anyhow::Result<()> {
    let mut source = json!({"type": args.source_type});
    match args.source_type.as_str() {
        "build" => source["builds"] = json!(args.sources),
        _ => source["source"] = json!(args.sources.join(" ")),
    }
    if !args.packages.is_empty() {
        source["packages"] = json!(args.packages);
    }
    if !args.sigkeys.is_empty() {
        source["sigkeys"] = json!(args.sigkeys);
    }
    let mut body = json!({"source": source});
    if !args.arches.is_empty() {
        body["arches"] = json!(args.arches);
    }
    if !args.flags.is_empty() {
        body["flags"] = json!(args.flags);
    }
    if let Some(seconds) = args.seconds_to_live {
        body["seconds_to_live"] = json!(seconds);
    }
    if let Some(label) = args.label {
        body["label"] = json!(label);
    }
    if let Some(compose_type) = args.compose_type {
        body["compose_type"] = json!(compose_type);
    }
    let mut compose = client.call("POST", "composes/", Some(&body))?;
    if args.no_wait {
        return print_json(&compose);
    }
    let id = compose["id"]
        .as_i64()
        .ok_or_else(|| anyhow!("the answer has no compose id"))?;
    let started = Instant::now();
    let mut pause = Duration::from_millis(200);
    while matches!(compose["state_name"].as_str(), Some("wait" | "generating")) {
        if started.elapsed().as_secs() >= args.timeout {
            bail!(
                "compose {id} is still {} after {} s",
                compose["state_name"],
                args.timeout
            );
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(5));
        compose = client.call("GET", &format!("composes/{id}"), None)?;
    }
    print_json(&compose)?;
    if compose["state_name"] != "done" {
        bail!(
            "compose {id} {}: {}",
            compose["state_name"].as_str().unwrap_or("ended"),
            compose["state_reason"]
                .as_str()
                .unwrap_or("no reason given")
        );
    }
    Ok(())
}

fn print_json(value: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn print_list(page: &Value) {
    println!(
        "{:>6}  {:<10}  {:<12}  {:<7}  {:<20}  SOURCE",
        "ID", "STATE", "OWNER", "TYPE", "EXPIRES"
    );
    for compose in page["items"].as_array().into_iter().flatten() {
        let source_type = compose["source_type"]
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .and_then(crate::odcs::SourceType::from_number)
            .map_or("?", crate::odcs::SourceType::name);
        let source = match compose["source"].as_str() {
            Some("") | None => compose["builds"].as_str().unwrap_or(""),
            Some(source) => source,
        };
        println!(
            "{:>6}  {:<10}  {:<12}  {:<7}  {:<20}  {source}",
            compose["id"],
            compose["state_name"].as_str().unwrap_or("?"),
            compose["owner"].as_str().unwrap_or("?"),
            source_type,
            compose["time_to_expire"].as_str().unwrap_or(""),
        );
    }
    let meta = &page["meta"];
    println!(
        "page {} of {} ({} composes)",
        meta["page"], meta["pages"], meta["total"]
    );
}
