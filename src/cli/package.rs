//! `pipal package owner add|remove|list`: who may edit a package's updates.

use anyhow::bail;
use clap::{Subcommand, ValueEnum};

use super::Context;
use crate::db::types::{AclRole, ContentType, UnknownValue};
use crate::models::now;
use crate::models::package::{AclHolder, Grantee, Package, PackageAcl};
use crate::models::user::Group;
use crate::services::accounts;

#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// Manage the owners and committers of a package.
    #[command(subcommand)]
    Owner(OwnerCommand),
    /// List known packages.
    List,
}

#[derive(Debug, Subcommand)]
pub enum OwnerCommand {
    /// Let a user (or with --group, every member of a group) edit the package's updates.
    Add {
        package: String,
        /// A user name, or a group name with --group.
        holder: String,
        #[arg(long)]
        group: bool,
        #[arg(long, value_enum, default_value_t = RoleArg::Owner)]
        role: RoleArg,
        /// Content type of the package: rpm, module, container or flatpak.
        #[arg(long = "type", default_value = "rpm", value_parser = parse_content_type)]
        content_type: ContentType,
    },
    /// Take a user's access away.
    Remove {
        package: String,
        user: String,
        #[arg(long = "type", default_value = "rpm", value_parser = parse_content_type)]
        content_type: ContentType,
    },
    /// List who may edit the package's updates.
    List {
        package: String,
        #[arg(long = "type", default_value = "rpm", value_parser = parse_content_type)]
        content_type: ContentType,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Owner,
    Committer,
}

impl From<RoleArg> for AclRole {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Owner => AclRole::Owner,
            RoleArg::Committer => AclRole::Committer,
        }
    }
}

fn parse_content_type(text: &str) -> Result<ContentType, String> {
    text.parse().map_err(|e: UnknownValue| e.to_string())
}

pub fn run(ctx: &Context, command: PackageCommand) -> anyhow::Result<()> {
    let db = ctx.open_db()?;
    let mut conn = db.conn()?;
    match command {
        PackageCommand::List => {
            for package in Package::list(&mut conn)? {
                println!("{:<40} {}", package.name, package.content_type);
            }
        }
        PackageCommand::Owner(OwnerCommand::Add {
            package,
            holder,
            group,
            role,
            content_type,
        }) => {
            let (package_row, _) = Package::ensure(&mut conn, &package, content_type)?;
            let grantee = if group {
                let Some(group_row) = Group::by_name(&mut conn, &holder)? else {
                    bail!("No such group: {holder}");
                };
                Grantee::Group(group_row.id)
            } else {
                Grantee::User(accounts::existing_user(&mut conn, &holder)?.id)
            };
            let changed =
                PackageAcl::grant(&mut conn, package_row.id, grantee, role.into(), now())?;
            let role = AclRole::from(role);
            if changed {
                println!("{holder} is now {role} of {package}");
            } else {
                println!("{holder} was already {role} of {package}");
            }
        }
        PackageCommand::Owner(OwnerCommand::Remove {
            package,
            user,
            content_type,
        }) => {
            let Some(package_row) = Package::by_name(&mut conn, &package, content_type)? else {
                bail!("No such package: {package}");
            };
            let user_row = accounts::existing_user(&mut conn, &user)?;
            if !PackageAcl::revoke(&mut conn, package_row.id, Grantee::User(user_row.id))? {
                bail!("{user} has no access to {package}");
            }
            println!("removed {user} from {package}");
        }
        PackageCommand::Owner(OwnerCommand::List {
            package,
            content_type,
        }) => {
            let Some(package_row) = Package::by_name(&mut conn, &package, content_type)? else {
                bail!("No such package: {package}");
            };
            for (holder, role) in PackageAcl::for_package(&mut conn, package_row.id)? {
                match holder {
                    AclHolder::User(name) => println!("{name:<32} {role}"),
                    AclHolder::Group(name) => println!("@{name:<31} {role}"),
                }
            }
        }
    }
    Ok(())
}
