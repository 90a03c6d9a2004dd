//! `pipal user …` and `pipal group …`.

use anyhow::bail;
use clap::Subcommand;

use super::{Context, read_stdin_line, split_list};
use crate::models::mail_preferences::{self, MailPreferences};
use crate::models::now;
use crate::models::update::Update;
use crate::models::user::{ApiToken, Group, User};
use crate::services::accounts::{self, UserSpec};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Add {
        name: String,
        #[arg(long)]
        email: String,
        /// Comma-separated groups to join (created if missing).
        #[arg(long, value_name = "A,B")]
        groups: Option<String>,
        /// Read the password from the first line of stdin (else the user cannot log in with a
        /// password, only with API tokens).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Issue a new API token for a user and print it (it is stored hashed: save it now).
    Token {
        name: String,
        #[arg(long, default_value = "cli")]
        label: String,
        /// Make the token expire after this many days.
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
    },
    /// List a user's API tokens.
    Tokens { name: String },
    /// Revoke one of a user's API tokens.
    RevokeToken { name: String, id: i32 },
    /// Set a user's password from the first line of stdin.
    Passwd { name: String },
    /// List users with their groups.
    List,
    /// Show a user's mail choices, and change them: comment notifications on or off, copies
    /// of their own comments, updates muted.
    Mail {
        name: String,
        #[arg(long, value_name = "on|off", value_parser = on_off)]
        notifications: Option<bool>,
        #[arg(long, value_name = "on|off", value_parser = on_off)]
        own_comments: Option<bool>,
        /// Stop mail about this update (repeatable).
        #[arg(long, value_name = "ALIAS")]
        mute: Vec<String>,
        /// Resume mail about this update (repeatable).
        #[arg(long, value_name = "ALIAS")]
        unmute: Vec<String>,
    },
}

fn on_off(value: &str) -> Result<bool, String> {
    match value {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        other => Err(format!("`{other}` is neither on nor off")),
    }
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group.
    Add { name: String },
    /// List groups with their number of members.
    List,
    /// Add a user to a group.
    AddMember { group: String, user: String },
    /// Remove a user from a group.
    RemoveMember { group: String, user: String },
    /// List the members of a group.
    Members { group: String },
}

pub fn run_user(ctx: &Context, command: UserCommand) -> anyhow::Result<()> {
    let db = ctx.open_db()?;
    let mut conn = db.conn()?;
    match command {
        UserCommand::Add {
            name,
            email,
            groups,
            password_stdin,
        } => {
            let password = password_stdin.then(read_stdin_line).transpose()?;
            let groups = groups.as_deref().map(split_list).unwrap_or_default();
            let user = accounts::create_user(
                &mut conn,
                &UserSpec {
                    name: &name,
                    email: Some(&email),
                    groups: &groups,
                    password: password.as_deref(),
                },
                now(),
            )?;
            println!("created user {}", user.name);
        }
        UserCommand::Token {
            name,
            label,
            expires_in_days,
        } => {
            let expires_at =
                expires_in_days.map(|days| now() + chrono::Duration::days(i64::from(days)));
            let token = accounts::issue_token(&mut conn, &name, &label, expires_at, now())?;
            println!("{token}");
        }
        UserCommand::Tokens { name } => {
            let user = accounts::existing_user(&mut conn, &name)?;
            let tokens = ApiToken::list_for_user(&mut conn, user.id)?;
            println!(
                "{:<5} {:<20} {:<20} {:<20} STATE",
                "ID", "LABEL", "CREATED", "LAST USED"
            );
            for token in tokens {
                let state = match (token.revoked_at, token.expires_at) {
                    (Some(_), _) => "revoked".to_owned(),
                    (None, Some(at)) if at <= now() => "expired".to_owned(),
                    (None, Some(at)) => format!("expires {}", at.format("%Y-%m-%d")),
                    (None, None) => "active".to_owned(),
                };
                println!(
                    "{:<5} {:<20} {:<20} {:<20} {state}",
                    token.id,
                    token.label,
                    token.created_at.format("%Y-%m-%d %H:%M:%S"),
                    token
                        .last_used_at
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                        .unwrap_or_else(|| "never".into()),
                );
            }
        }
        UserCommand::RevokeToken { name, id } => {
            let user = accounts::existing_user(&mut conn, &name)?;
            if !ApiToken::revoke(&mut conn, user.id, id, now())? {
                bail!("{name} has no active token {id}");
            }
            println!("revoked token {id} of {name}");
        }
        UserCommand::Passwd { name } => {
            let password = read_stdin_line()?;
            accounts::set_password(&mut conn, &name, Some(&password))?;
            println!("password of {name} set");
        }
        UserCommand::Mail {
            name,
            notifications,
            own_comments,
            mute,
            unmute,
        } => {
            let user = accounts::existing_user(&mut conn, &name)?;
            crate::db::write_transaction(&mut conn, |conn| -> anyhow::Result<()> {
                let mut preferences = MailPreferences::of(conn, user.id)?;
                preferences.notifications = notifications.unwrap_or(preferences.notifications);
                preferences.own_comments = own_comments.unwrap_or(preferences.own_comments);
                preferences.save(conn)?;
                for (aliases, muted) in [(&mute, true), (&unmute, false)] {
                    for alias in aliases {
                        let Some(update) = Update::by_alias(conn, alias)? else {
                            bail!("no update {alias}");
                        };
                        mail_preferences::set_muted(conn, user.id, update.id, muted, now())?;
                    }
                }
                Ok(())
            })?;
            let preferences = MailPreferences::of(&mut conn, user.id)?;
            let on = |b: bool| if b { "on" } else { "off" };
            println!("notifications: {}", on(preferences.notifications));
            println!("own comments:  {}", on(preferences.own_comments));
            let muted = mail_preferences::muted_updates(&mut conn, user.id)?;
            println!(
                "muted:         {}",
                if muted.is_empty() {
                    "-".to_owned()
                } else {
                    muted.join(" ")
                }
            );
        }
        UserCommand::List => {
            let users = User::list(&mut conn)?;
            let ids: Vec<i32> = users.iter().map(|u| u.id).collect();
            let groups = User::groups_of(&mut conn, &ids)?;
            println!("{:<20} {:<32} GROUPS", "NAME", "EMAIL");
            for user in users {
                let names: Vec<&str> = groups
                    .get(&user.id)
                    .map(|g| g.iter().map(|g| g.name.as_str()).collect())
                    .unwrap_or_default();
                println!(
                    "{:<20} {:<32} {}",
                    user.name,
                    user.email.as_deref().unwrap_or("-"),
                    names.join(",")
                );
            }
        }
    }
    Ok(())
}

pub fn run_group(ctx: &Context, command: GroupCommand) -> anyhow::Result<()> {
    let db = ctx.open_db()?;
    let mut conn = db.conn()?;
    match command {
        GroupCommand::Add { name } => {
            accounts::validate_name("group", &name)?;
            let (_, created) = Group::ensure(&mut conn, &name)?;
            if !created {
                bail!("group `{name}` already exists");
            }
            println!("created group {name}");
        }
        GroupCommand::List => {
            println!("{:<32} MEMBERS", "NAME");
            for (group, members) in Group::list_with_counts(&mut conn)? {
                println!("{:<32} {members}", group.name);
            }
        }
        GroupCommand::AddMember { group, user } => {
            let joined = accounts::add_to_groups(&mut conn, &user, std::slice::from_ref(&group))?;
            if joined.is_empty() {
                println!("{user} is already in {group}");
            } else {
                println!("added {user} to {group}");
            }
        }
        GroupCommand::RemoveMember { group, user } => {
            let user_row = accounts::existing_user(&mut conn, &user)?;
            let Some(group_row) = Group::by_name(&mut conn, &group)? else {
                bail!("No such group: {group}");
            };
            if !Group::remove_member(&mut conn, group_row.id, user_row.id)? {
                bail!("{user} is not in {group}");
            }
            println!("removed {user} from {group}");
        }
        GroupCommand::Members { group } => {
            let Some(group_row) = Group::by_name(&mut conn, &group)? else {
                bail!("No such group: {group}");
            };
            for name in Group::member_names(&mut conn, group_row.id)? {
                println!("{name}");
            }
        }
    }
    Ok(())
}
