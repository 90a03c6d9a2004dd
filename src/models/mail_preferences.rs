//! Who wants which mail: a user's comment-notification preferences and the updates they
//! muted. A user without a row gets Bodhi 26.4.0's behaviour (every comment on updates they
//! submitted or commented on, except their own).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConnection;
use crate::db::schema::{mail_mutes, mail_preferences, updates};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = mail_preferences)]
pub struct MailPreferences {
    #[serde(skip)]
    pub user_id: i32,
    /// Off: no comment notifications at all.
    pub notifications: bool,
    /// On: a copy of one's own comments too.
    pub own_comments: bool,
}

impl MailPreferences {
    pub fn defaults(user_id: i32) -> MailPreferences {
        MailPreferences {
            user_id,
            notifications: true,
            own_comments: false,
        }
    }

    pub fn of(conn: &mut DbConnection, user_id: i32) -> QueryResult<MailPreferences> {
        Ok(mail_preferences::table
            .find(user_id)
            .select(MailPreferences::as_select())
            .first(conn)
            .optional()?
            .unwrap_or_else(|| MailPreferences::defaults(user_id)))
    }

    /// The preferences of several users, defaults for those without a row.
    pub fn of_users(
        conn: &mut DbConnection,
        user_ids: &[i32],
    ) -> QueryResult<HashMap<i32, MailPreferences>> {
        let stored: Vec<MailPreferences> = mail_preferences::table
            .filter(mail_preferences::user_id.eq_any(user_ids))
            .select(MailPreferences::as_select())
            .load(conn)?;
        let mut all: HashMap<i32, MailPreferences> = user_ids
            .iter()
            .map(|&id| (id, MailPreferences::defaults(id)))
            .collect();
        all.extend(stored.into_iter().map(|p| (p.user_id, p)));
        Ok(all)
    }

    pub fn save(&self, conn: &mut DbConnection) -> QueryResult<()> {
        let existing = mail_preferences::table
            .find(self.user_id)
            .count()
            .get_result::<i64>(conn)?;
        let values = (
            mail_preferences::notifications.eq(self.notifications),
            mail_preferences::own_comments.eq(self.own_comments),
        );
        if existing == 0 {
            diesel::insert_into(mail_preferences::table)
                .values((mail_preferences::user_id.eq(self.user_id), values))
                .execute(conn)?;
        } else {
            diesel::update(mail_preferences::table.find(self.user_id))
                .set(values)
                .execute(conn)?;
        }
        Ok(())
    }
}

/// Mutes (or unmutes) an update's mail for a user; returns whether anything changed.
pub fn set_muted(
    conn: &mut DbConnection,
    user_id: i32,
    update_id: i32,
    muted: bool,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let row = mail_mutes::table.find((user_id, update_id));
    let is_muted = row.count().get_result::<i64>(conn)? > 0;
    match (is_muted, muted) {
        (false, true) => diesel::insert_into(mail_mutes::table)
            .values((
                mail_mutes::user_id.eq(user_id),
                mail_mutes::update_id.eq(update_id),
                mail_mutes::created_at.eq(now),
            ))
            .execute(conn)
            .map(|_| true),
        (true, false) => diesel::delete(row).execute(conn).map(|_| true),
        _ => Ok(false),
    }
}

/// The users who muted an update.
pub fn muted_by(conn: &mut DbConnection, update_id: i32) -> QueryResult<BTreeSet<i32>> {
    Ok(mail_mutes::table
        .filter(mail_mutes::update_id.eq(update_id))
        .select(mail_mutes::user_id)
        .load::<i32>(conn)?
        .into_iter()
        .collect())
}

/// The aliases of the updates a user muted, in alias order.
pub fn muted_updates(conn: &mut DbConnection, user_id: i32) -> QueryResult<Vec<String>> {
    mail_mutes::table
        .inner_join(updates::table)
        .filter(mail_mutes::user_id.eq(user_id))
        .order(updates::alias.asc())
        .select(updates::alias)
        .load(conn)
}
