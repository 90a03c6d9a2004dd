//! The example configuration documents every key with its default.

use std::collections::BTreeSet;
use std::path::Path;

use pipal::config::Settings;

fn keys(value: &toml::Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let toml::Value::Table(table) = value {
        for (key, item) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if item.is_table() {
                keys(item, &path, out);
            } else {
                out.insert(path);
            }
        }
    }
}

#[test]
fn the_example_file_has_every_key_with_its_default() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/pipal.example.toml");
    let parsed = Settings::load_from(Some(&path), &[]).expect("the example parses");
    assert_eq!(
        parsed,
        Settings::default(),
        "the example shows the defaults"
    );

    let text = std::fs::read_to_string(&path).unwrap();
    let mut documented = BTreeSet::new();
    keys(
        &toml::Value::Table(text.parse::<toml::Table>().unwrap()),
        "",
        &mut documented,
    );
    let mut known = BTreeSet::new();
    keys(
        &toml::Value::try_from(Settings::default()).unwrap(),
        "",
        &mut known,
    );
    assert_eq!(
        documented, known,
        "every key, and only known keys, are documented"
    );
}

#[test]
fn a_file_with_an_unknown_key_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipal.toml");
    std::fs::write(&path, "[database]\nurl = \"sqlite://x.db\"\npool = 3\n").unwrap();
    let err = Settings::load_from(Some(&path), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("database.pool"), "{err}");

    std::fs::write(&path, "[server]\nworkers = \"many\"\n").unwrap();
    let err = Settings::load_from(Some(&path), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("server.workers"), "{err}");

    std::fs::write(&path, "[server\n").unwrap();
    let err = Settings::load_from(Some(&path), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("pipal.toml"), "{err}");
}

#[test]
fn the_environment_wins_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipal.toml");
    std::fs::write(
        &path,
        "[database]\npool_size = 3\n[server]\nlisten = \"127.0.0.1:9000\"\n",
    )
    .unwrap();
    let env = vec![("PIPAL__DATABASE__POOL_SIZE".to_owned(), "7".to_owned())];
    let settings = Settings::load_from(Some(&path), &env).unwrap();
    assert_eq!(settings.database.pool_size, 7);
    assert_eq!(settings.server.listen, "127.0.0.1:9000");
}
