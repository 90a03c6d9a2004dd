//! What an import did: counts per table, every skipped row with its reason, notes about rows
//! that changed id or were removed, and the progress shown while it runs.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Counts for one Bodhi table.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableCounts {
    pub table: &'static str,
    pub read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
    pub skipped: u64,
}

impl TableCounts {
    /// Rows this run wrote (inserted, updated or removed).
    pub fn written(&self) -> u64 {
        self.inserted + self.updated + self.removed
    }
}

/// A Bodhi row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skip {
    pub table: &'static str,
    /// The row's id in Bodhi, or its key for tables without one.
    pub row: String,
    pub reason: String,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    pub source: String,
    pub revision: Option<String>,
    pub dry_run: bool,
    pub tables: Vec<TableCounts>,
    pub skips: Vec<Skip>,
    pub notes: Vec<String>,
    #[serde(skip)]
    pub elapsed: Duration,
}

impl Summary {
    pub fn table(&mut self, table: &'static str) -> &mut TableCounts {
        let index = match self.tables.iter().position(|t| t.table == table) {
            Some(index) => index,
            None => {
                self.tables.push(TableCounts {
                    table,
                    ..TableCounts::default()
                });
                self.tables.len() - 1
            }
        };
        &mut self.tables[index]
    }

    pub fn counts(&self, table: &str) -> Option<&TableCounts> {
        self.tables.iter().find(|t| t.table == table)
    }

    pub fn skip(&mut self, table: &'static str, row: impl fmt::Display, reason: impl Into<String>) {
        self.table(table).skipped += 1;
        self.skips.push(Skip {
            table,
            row: row.to_string(),
            reason: reason.into(),
        });
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    pub fn written(&self) -> u64 {
        self.tables.iter().map(TableCounts::written).sum()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run {
            "Dry run (nothing was written) of the import from"
        } else {
            "Imported from"
        };
        let revision = self.revision.as_deref().unwrap_or("unknown revision");
        writeln!(
            f,
            "{verb} {} ({revision}) in {:.1} s",
            self.source,
            self.elapsed.as_secs_f64()
        )?;
        writeln!(
            f,
            "{:<26} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
            "table", "read", "new", "changed", "unchanged", "removed", "skipped"
        )?;
        for t in &self.tables {
            writeln!(
                f,
                "{:<26} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
                t.table, t.read, t.inserted, t.updated, t.unchanged, t.removed, t.skipped
            )?;
        }
        if !self.notes.is_empty() {
            writeln!(f, "\nNotes:")?;
            for note in &self.notes {
                writeln!(f, "  - {note}")?;
            }
        }
        if self.skips.is_empty() {
            writeln!(f, "\nNothing was skipped.")?;
        } else {
            writeln!(f, "\nSkipped {} row(s):", self.skips.len())?;
            for skip in &self.skips {
                writeln!(f, "  - {} {}: {}", skip.table, skip.row, skip.reason)?;
            }
        }
        Ok(())
    }
}

/// Rows read per table on stderr: a bar redrawn in place on a terminal, one line per table
/// otherwise (logs).
pub struct Progress {
    enabled: bool,
    terminal: bool,
    table: &'static str,
    total: u64,
    done: u64,
    started: Instant,
}

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            terminal: std::io::stderr().is_terminal(),
            table: "",
            total: 0,
            done: 0,
            started: Instant::now(),
        }
    }

    pub fn start(&mut self, table: &'static str, total: u64) {
        self.table = table;
        self.total = total;
        self.done = 0;
        self.started = Instant::now();
        self.draw();
    }

    pub fn advance(&mut self, rows: u64) {
        self.done += rows;
        self.draw();
    }

    pub fn finish(&mut self) {
        if !self.enabled {
            return;
        }
        let seconds = self.started.elapsed().as_secs_f64();
        let line = format!(
            "{:<26} {:>9} rows  {}  {seconds:.1} s",
            self.table,
            self.done,
            bar(self.done, self.total.max(self.done)),
        );
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = writeln!(err, "\r{line}");
        } else {
            let _ = writeln!(err, "{line}");
        }
    }

    fn draw(&self) {
        if !(self.enabled && self.terminal) {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{:<26} {:>9}/{:<9} {}",
            self.table,
            self.done,
            self.total,
            bar(self.done, self.total)
        );
        let _ = err.flush();
    }
}

fn bar(done: u64, total: u64) -> String {
    const WIDTH: u64 = 30;
    let filled = (done.min(total) * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH);
    let filled = usize::try_from(filled).unwrap_or(0);
    let width = usize::try_from(WIDTH).unwrap_or(0);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(width - filled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_lists_counts_and_every_skip_with_its_reason() {
        let mut summary = Summary {
            source: "postgresql://bodhi@db/bodhi".into(),
            ..Summary::default()
        };
        summary.table("updates").read = 2;
        summary.table("updates").inserted = 1;
        summary.skip("updates", 7, "\"bogus\" is not one of pending, testing");
        let text = summary.to_string();
        assert!(text.contains("updates"), "{text}");
        assert!(
            text.contains("updates 7: \"bogus\" is not one of pending, testing"),
            "{text}"
        );
        assert_eq!(summary.counts("updates").map(|c| c.skipped), Some(1));
        assert_eq!(summary.written(), 1);
    }

    #[test]
    fn the_bar_fills_in_proportion() {
        assert_eq!(bar(0, 10), format!("[{}]", ".".repeat(30)));
        assert_eq!(
            bar(5, 10),
            format!("[{}{}]", "#".repeat(15), ".".repeat(15))
        );
        assert_eq!(bar(0, 0), format!("[{}]", "#".repeat(30)));
    }
}
