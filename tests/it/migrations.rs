//! Both migration trees must describe the same database: same migration names, and on
//! PostgreSQL and SQLite the same tables, columns (type class and nullability), primary keys,
//! unique constraints, indexes and foreign keys.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text};
use pipal::db::DbConnection;

use crate::support::TestDb;

fn migration_names(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .expect("migrations dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn both_trees_have_the_same_migrations() {
    let postgres = migration_names("postgres");
    let sqlite = migration_names("sqlite");
    assert!(!postgres.is_empty());
    assert_eq!(postgres, sqlite);
    for name in &postgres {
        for backend in ["postgres", "sqlite"] {
            for file in ["up.sql", "down.sql"] {
                let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("migrations")
                    .join(backend)
                    .join(name)
                    .join(file);
                assert!(path.is_file(), "missing {}", path.display());
            }
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// column → (type class, nullable)
    columns: BTreeMap<String, (String, bool)>,
    primary_key: Vec<String>,
    /// Column lists of UNIQUE constraints.
    unique_constraints: BTreeSet<Vec<String>>,
    /// (name, columns, unique) of the indexes made by CREATE INDEX.
    indexes: BTreeSet<(String, Vec<String>, bool)>,
    /// (column, referenced table, referenced column)
    foreign_keys: BTreeSet<(String, String, String)>,
}

type Schema = BTreeMap<String, Table>;

fn type_class(declared: &str) -> String {
    let declared = declared.to_ascii_lowercase();
    match declared.as_str() {
        "integer" | "int" | "int4" => "integer",
        "bigint" | "int8" => "bigint",
        "text" | "character varying" | "varchar" => "text",
        "boolean" | "bool" => "boolean",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "date" => "date",
        other => panic!("unexpected column type {other}"),
    }
    .to_owned()
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    r#type: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Integer)]
    unique: i32,
    #[diesel(sql_type = Text)]
    origin: String,
}

#[derive(QueryableByName)]
struct SqliteForeignKey {
    #[diesel(sql_type = Text)]
    table: String,
    #[diesel(sql_type = Text)]
    from: String,
    #[diesel(sql_type = Text)]
    to: String,
}

fn sqlite_schema(conn: &mut diesel::SqliteConnection) -> Schema {
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '__diesel_schema_migrations'",
    )
    .load(conn)
    .expect("tables");
    let mut schema = Schema::new();
    for Name { name: table } in tables {
        let mut t = Table::default();
        let columns: Vec<SqliteColumn> =
            diesel::sql_query("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)")
                .bind::<Text, _>(&table)
                .load(conn)
                .expect("columns");
        let mut pk: Vec<(i32, String)> = Vec::new();
        for c in columns {
            if c.pk > 0 {
                pk.push((c.pk, c.name.clone()));
            }
            t.columns
                .insert(c.name, (type_class(&c.r#type), c.notnull == 0 && c.pk == 0));
        }
        pk.sort();
        t.primary_key = pk.into_iter().map(|(_, n)| n).collect();
        let indexes: Vec<SqliteIndex> =
            diesel::sql_query("SELECT name, \"unique\", origin FROM pragma_index_list(?)")
                .bind::<Text, _>(&table)
                .load(conn)
                .expect("indexes");
        for index in indexes {
            let columns: Vec<String> =
                diesel::sql_query("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                    .bind::<Text, _>(&index.name)
                    .load::<Name>(conn)
                    .expect("index columns")
                    .into_iter()
                    .map(|n| n.name)
                    .collect();
            match index.origin.as_str() {
                "u" => {
                    t.unique_constraints.insert(columns);
                }
                "c" => {
                    t.indexes.insert((index.name, columns, index.unique == 1));
                }
                _ => {}
            }
        }
        let fks: Vec<SqliteForeignKey> =
            diesel::sql_query("SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?)")
                .bind::<Text, _>(&table)
                .load(conn)
                .expect("foreign keys");
        for fk in fks {
            t.foreign_keys.insert((fk.from, fk.table, fk.to));
        }
        schema.insert(table, t);
    }
    schema
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Bool)]
    is_primary: bool,
    #[diesel(sql_type = Bool)]
    is_constraint: bool,
    #[diesel(sql_type = Nullable<Text>)]
    columns: Option<String>,
}

#[derive(QueryableByName)]
struct PgForeignKey {
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Text)]
    ref_column: String,
}

fn postgres_schema(conn: &mut diesel::PgConnection) -> Schema {
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' \
         AND table_name <> '__diesel_schema_migrations'",
    )
    .load(conn)
    .expect("tables");
    let mut schema = Schema::new();
    for Name { name: table } in tables {
        let mut t = Table::default();
        let columns: Vec<PgColumn> = diesel::sql_query(
            "SELECT column_name::text, data_type::text, is_nullable::text \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind::<Text, _>(&table)
        .load(conn)
        .expect("columns");
        for c in columns {
            t.columns.insert(
                c.column_name,
                (type_class(&c.data_type), c.is_nullable == "YES"),
            );
        }
        let indexes: Vec<PgIndex> = diesel::sql_query(
            "SELECT i.relname::text AS name, ix.indisunique AS is_unique, \
                    ix.indisprimary AS is_primary, \
                    EXISTS (SELECT 1 FROM pg_constraint c \
                            WHERE c.conindid = ix.indexrelid AND c.contype = 'u') AS is_constraint, \
                    (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
                       FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) \
                       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) AS columns \
             FROM pg_index ix \
             JOIN pg_class t ON t.oid = ix.indrelid \
             JOIN pg_class i ON i.oid = ix.indexrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = 'public' AND t.relname = $1",
        )
        .bind::<Text, _>(&table)
        .load(conn)
        .expect("indexes");
        for index in indexes {
            let columns: Vec<String> = index
                .columns
                .unwrap_or_default()
                .split(',')
                .map(str::to_owned)
                .collect();
            if index.is_primary {
                t.primary_key = columns;
            } else if index.is_constraint {
                t.unique_constraints.insert(columns);
            } else {
                t.indexes.insert((index.name, columns, index.is_unique));
            }
        }
        let fks: Vec<PgForeignKey> = diesel::sql_query(
            "SELECT kcu.column_name::text, ccu.table_name::text AS ref_table, \
                    ccu.column_name::text AS ref_column \
             FROM information_schema.table_constraints tc \
             JOIN information_schema.key_column_usage kcu \
               ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema \
             JOIN information_schema.constraint_column_usage ccu \
               ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema \
             WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public' \
               AND tc.table_name = $1",
        )
        .bind::<Text, _>(&table)
        .load(conn)
        .expect("foreign keys");
        for fk in fks {
            t.foreign_keys
                .insert((fk.column_name, fk.ref_table, fk.ref_column));
        }
        schema.insert(table, t);
    }
    schema
}

fn sqlite_reference() -> (tempfile::TempDir, Schema) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("ref.db").display());
    let mut conn = pipal::db::DatabaseTarget::parse(&url)
        .expect("url")
        .connect(std::time::Duration::from_secs(5))
        .expect("connect");
    pipal::db::migrate::run_pending(&mut conn).expect("migrate");
    let DbConnection::Sqlite(inner) = &mut conn else {
        unreachable!("a sqlite URL gives a SQLite connection")
    };
    let schema = sqlite_schema(inner);
    (dir, schema)
}

#[test]
fn sqlite_schema_has_every_table_with_keys() {
    let (_dir, schema) = sqlite_reference();
    for table in [
        "users",
        "groups",
        "user_groups",
        "api_tokens",
        "releases",
        "packages",
        "package_acls",
        "updates",
        "builds",
        "bugs",
        "update_bugs",
        "testcases",
        "build_testcases",
        "comments",
        "comment_bug_feedback",
        "comment_testcase_feedback",
        "buildroot_overrides",
        "composes",
        "compose_history",
        "jobs",
        "outbox",
        "buildsys_events",
        "buildsys_tags",
        "buildsys_tag_inheritance",
        "buildsys_builds",
        "buildsys_rpms",
        "buildsys_rpm_signatures",
        "buildsys_tag_listing",
    ] {
        let t = schema
            .get(table)
            .unwrap_or_else(|| panic!("missing table {table}"));
        assert!(!t.primary_key.is_empty(), "{table} has no primary key");
    }
    assert!(
        schema["packages"]
            .unique_constraints
            .contains(&vec!["name".to_owned(), "type".to_owned()])
    );
    assert_eq!(
        schema["updates"].columns["request"],
        ("text".to_owned(), true)
    );
    assert_eq!(
        schema["updates"].columns["alias"],
        ("text".to_owned(), false)
    );
}

#[test]
fn postgres_and_sqlite_trees_give_the_same_schema() {
    if !TestDb::is_postgres() {
        eprintln!(
            "skipped: set {} to compare with PostgreSQL",
            crate::support::PG_ENV
        );
        return;
    }
    let (_dir, sqlite) = sqlite_reference();
    let test_db = TestDb::new();
    let mut conn = test_db.conn();
    let DbConnection::Postgres(inner) = &mut *conn else {
        panic!("{} must point at PostgreSQL", crate::support::PG_ENV)
    };
    let postgres = postgres_schema(inner);
    assert_eq!(
        postgres.keys().collect::<Vec<_>>(),
        sqlite.keys().collect::<Vec<_>>(),
        "tables differ"
    );
    for (name, pg_table) in &postgres {
        let lite = &sqlite[name];
        assert_eq!(pg_table.columns, lite.columns, "columns of {name}");
        assert_eq!(
            pg_table.primary_key, lite.primary_key,
            "primary key of {name}"
        );
        assert_eq!(
            pg_table.unique_constraints, lite.unique_constraints,
            "unique constraints of {name}"
        );
        assert_eq!(pg_table.indexes, lite.indexes, "indexes of {name}");
        assert_eq!(
            pg_table.foreign_keys, lite.foreign_keys,
            "foreign keys of {name}"
        );
    }
}
