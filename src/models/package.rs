//! Packages (one row per name and content type) and their ACLs: the owners and committers
//! who may edit the package's updates, Pipal's replacement for Pagure.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{groups, package_acls, packages, user_groups, users};
use crate::db::types::{AclRole, ContentType};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = packages)]
pub struct Package {
    pub id: i32,
    /// For modules, `name:stream`.
    pub name: String,
    #[diesel(column_name = type_)]
    pub content_type: ContentType,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = package_acls)]
pub struct PackageAcl {
    pub id: i32,
    pub package_id: i32,
    pub user_id: Option<i32>,
    pub group_id: Option<i32>,
    pub role: AclRole,
    pub created_at: NaiveDateTime,
}

/// Who is granted an ACL, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grantee {
    User(i32),
    Group(i32),
}

/// Who holds an ACL, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclHolder {
    User(String),
    Group(String),
}

impl Package {
    pub fn by_name(
        conn: &mut DbConnection,
        name: &str,
        content_type: ContentType,
    ) -> QueryResult<Option<Package>> {
        packages::table
            .filter(packages::name.eq(name))
            .filter(packages::type_.eq(content_type))
            .select(Package::as_select())
            .first(conn)
            .optional()
    }

    /// The package, created if missing; the flag says whether it was created.
    pub fn ensure(
        conn: &mut DbConnection,
        name: &str,
        content_type: ContentType,
    ) -> QueryResult<(Package, bool)> {
        if let Some(package) = Package::by_name(conn, name, content_type)? {
            return Ok((package, false));
        }
        let package = diesel::insert_into(packages::table)
            .values((packages::name.eq(name), packages::type_.eq(content_type)))
            .returning(packages::all_columns)
            .get_result(conn)?;
        Ok((package, true))
    }

    pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<Package>> {
        packages::table
            .order((packages::name.asc(), packages::type_.asc()))
            .select(Package::as_select())
            .load(conn)
    }
}

impl PackageAcl {
    /// Grants `role` to a user or a group; an existing grant is changed to the new role.
    /// Returns true when something changed.
    pub fn grant(
        conn: &mut DbConnection,
        package_id: i32,
        grantee: Grantee,
        role: AclRole,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let existing: Option<PackageAcl> = PackageAcl::of(package_id, grantee)
            .select(PackageAcl::as_select())
            .first(conn)
            .optional()?;
        match existing {
            Some(acl) if acl.role == role => Ok(false),
            Some(acl) => {
                diesel::update(package_acls::table.find(acl.id))
                    .set(package_acls::role.eq(role))
                    .execute(conn)?;
                Ok(true)
            }
            None => {
                let (user_id, group_id) = match grantee {
                    Grantee::User(id) => (Some(id), None),
                    Grantee::Group(id) => (None, Some(id)),
                };
                diesel::insert_into(package_acls::table)
                    .values((
                        package_acls::package_id.eq(package_id),
                        package_acls::user_id.eq(user_id),
                        package_acls::group_id.eq(group_id),
                        package_acls::role.eq(role),
                        package_acls::created_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(true)
            }
        }
    }

    /// Removes a grant; returns false if there was none.
    pub fn revoke(conn: &mut DbConnection, package_id: i32, grantee: Grantee) -> QueryResult<bool> {
        let ids: Vec<i32> = PackageAcl::of(package_id, grantee)
            .select(package_acls::id)
            .load(conn)?;
        let removed = diesel::delete(package_acls::table.filter(package_acls::id.eq_any(ids)))
            .execute(conn)?;
        Ok(removed > 0)
    }

    fn of<'a>(
        package_id: i32,
        grantee: Grantee,
    ) -> package_acls::BoxedQuery<'a, crate::db::connection::MultiBackend> {
        let query = package_acls::table
            .filter(package_acls::package_id.eq(package_id))
            .into_boxed();
        match grantee {
            Grantee::User(id) => query.filter(package_acls::user_id.eq(id)),
            Grantee::Group(id) => query.filter(package_acls::group_id.eq(id)),
        }
    }

    /// The grants of a package, users first, each with its holder's name.
    pub fn for_package(
        conn: &mut DbConnection,
        package_id: i32,
    ) -> QueryResult<Vec<(AclHolder, AclRole)>> {
        let by_user: Vec<(String, AclRole)> = package_acls::table
            .inner_join(users::table.on(package_acls::user_id.eq(users::id.nullable())))
            .filter(package_acls::package_id.eq(package_id))
            .order(users::name.asc())
            .select((users::name, package_acls::role))
            .load(conn)?;
        let by_group: Vec<(String, AclRole)> = package_acls::table
            .inner_join(groups::table.on(package_acls::group_id.eq(groups::id.nullable())))
            .filter(package_acls::package_id.eq(package_id))
            .order(groups::name.asc())
            .select((groups::name, package_acls::role))
            .load(conn)?;
        Ok(by_user
            .into_iter()
            .map(|(name, role)| (AclHolder::User(name), role))
            .chain(
                by_group
                    .into_iter()
                    .map(|(name, role)| (AclHolder::Group(name), role)),
            )
            .collect())
    }

    /// Whether the user holds any grant on the package, directly or through a group.
    pub fn user_may_commit(
        conn: &mut DbConnection,
        package_id: i32,
        user_id: i32,
    ) -> QueryResult<bool> {
        let direct: i64 = package_acls::table
            .filter(package_acls::package_id.eq(package_id))
            .filter(package_acls::user_id.eq(user_id))
            .count()
            .get_result(conn)?;
        if direct > 0 {
            return Ok(true);
        }
        let via_group: i64 = package_acls::table
            .inner_join(
                user_groups::table.on(package_acls::group_id.eq(user_groups::group_id.nullable())),
            )
            .filter(package_acls::package_id.eq(package_id))
            .filter(user_groups::user_id.eq(user_id))
            .count()
            .get_result(conn)?;
        Ok(via_group > 0)
    }
}
