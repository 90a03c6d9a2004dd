//! The repodata benchmark (issue 5): Pipal's native repository writer on a corpus made by
//! `../shared/tools/repo/make_corpus.py`, cold (no header cache) and re-pushed with 2% new
//! packages (every 50th RPM missing from the cache, as `time_createrepo.sh` holds them out).
//!
//!     python3 ../shared/tools/repo/make_corpus.py 2000 /tmp/corpus2000
//!     cargo bench --bench repodata -- /tmp/corpus2000 [--repeat 3] [--workers 2] [--keep DIR]
//!
//! `--keep DIR` leaves the last cold repository in DIR (for validate_repo.sh).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use pipal::masher::repo::{self, Compression, HeaderCache};

struct Options {
    corpus: PathBuf,
    repeat: usize,
    workers: usize,
    keep: Option<PathBuf>,
}

fn options() -> anyhow::Result<Options> {
    let mut corpus = None;
    let mut repeat = 3;
    let mut workers = 2;
    let mut keep = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--repeat" => repeat = args.next().context("--repeat needs a value")?.parse()?,
            "--workers" => workers = args.next().context("--workers needs a value")?.parse()?,
            "--keep" => keep = Some(PathBuf::from(args.next().context("--keep needs a value")?)),
            "--bench" => {}
            other if !other.starts_with('-') => corpus = Some(PathBuf::from(other)),
            other => bail!("unknown option {other}"),
        }
    }
    let corpus = corpus
        .or_else(|| std::env::var_os("PIPAL_BENCH_CORPUS").map(PathBuf::from))
        .context(
            "usage: cargo bench --bench repodata -- CORPUS_DIR (make it with make_corpus.py)",
        )?;
    Ok(Options {
        corpus,
        repeat,
        workers,
        keep,
    })
}

fn corpus_files(corpus: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let list = std::fs::read_to_string(corpus.join("rpms.list")).with_context(|| {
        format!(
            "{}: no rpms.list (not a make_corpus.py corpus)",
            corpus.display()
        )
    })?;
    Ok(list
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| corpus.join(l))
        .collect())
}

/// Reads the headers and writes the repository; seconds taken.
fn compose(
    files: &[PathBuf],
    cache: &HeaderCache,
    out: &Path,
    workers: usize,
) -> anyhow::Result<(f64, repo::ReadStats)> {
    let started = Instant::now();
    let (packages, stats) = repo::read_packages(files, cache, workers)?;
    let read = started.elapsed().as_secs_f64();
    let refs: Vec<_> = packages.iter().collect();
    let written = repo::write_repository(out, &refs, &[], Compression::Gzip, 1)?;
    if std::env::var_os("PIPAL_BENCH_VERBOSE").is_some() {
        eprintln!(
            "read {read:.3}s, write {:.3}s",
            started.elapsed().as_secs_f64() - read
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(written.packages, files.len());
    Ok((seconds, stats))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let options = options()?;
    let files = corpus_files(&options.corpus)?;
    let scratch = tempfile::tempdir()?;
    let held_back: Vec<PathBuf> = files.iter().skip(49).step_by(50).cloned().collect();
    let known: Vec<PathBuf> = files
        .iter()
        .filter(|f| !held_back.contains(f))
        .cloned()
        .collect();

    let mut cold = Vec::new();
    for run in 0..options.repeat {
        let out = scratch.path().join(format!("cold-{run}"));
        let (seconds, stats) = compose(&files, &HeaderCache::disabled(), &out, options.workers)?;
        assert_eq!(stats.parsed, files.len());
        cold.push(seconds);
        if run + 1 == options.repeat
            && let Some(keep) = &options.keep
        {
            let _ = std::fs::remove_dir_all(keep);
            copy_dir(&out, keep)?;
        }
        std::fs::remove_dir_all(&out)?;
    }

    // A cache that has seen 98% of the corpus, as after the previous push.
    let warm = scratch.path().join("cache-98");
    compose(
        &known,
        &HeaderCache::new(&warm),
        &scratch.path().join("seed"),
        options.workers,
    )?;
    let mut update = Vec::new();
    let mut unchanged = Vec::new();
    for run in 0..options.repeat {
        let cache_dir = scratch.path().join(format!("cache-{run}"));
        copy_dir(&warm, &cache_dir)?;
        let cache = HeaderCache::new(&cache_dir);
        let out = scratch.path().join(format!("update-{run}"));
        let (seconds, stats) = compose(&files, &cache, &out, options.workers)?;
        assert_eq!(stats.parsed, held_back.len());
        update.push(seconds);
        let again = scratch.path().join(format!("unchanged-{run}"));
        let (seconds, stats) = compose(&files, &cache, &again, options.workers)?;
        assert_eq!(stats.parsed, 0);
        unchanged.push(seconds);
    }

    println!(
        "repodata benchmark: {} RPMs from {}, {} header workers, median of {}",
        files.len(),
        options.corpus.display(),
        options.workers,
        options.repeat
    );
    println!("| scenario | wall (s) |");
    println!("|---|---|");
    println!("| cold (no cache) | {:.3} |", median(cold));
    println!(
        "| re-push, 2% new ({} parsed) | {:.3} |",
        held_back.len(),
        median(update)
    );
    println!("| re-push, nothing new | {:.3} |", median(unchanged));
    Ok(())
}
