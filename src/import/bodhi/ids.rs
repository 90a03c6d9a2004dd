//! How Bodhi's ids become Pipal's. Pipal keeps Bodhi's id wherever it is free, so a map only
//! remembers the exceptions: rows that took another id (their natural key already existed in
//! Pipal, or their id was taken) and rows that were skipped, so that the rows referring to
//! them are skipped with a reason instead of failing on a foreign key. Two bit sets, one bit per
//! id, say which Bodhi ids arrived (a reference to any other id is an orphan) and which Pipal
//! ids this run has given a Bodhi row (a second row claiming one is a duplicate).

use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct IdMap {
    moved: HashMap<i32, i32>,
    skipped: HashMap<i32, String>,
    arrived: IdSet,
    claimed: IdSet,
}

impl IdMap {
    /// Pipal's id for Bodhi's `id`, or why there is none. Tables are imported in foreign-key
    /// order, so an id that neither arrived nor was skipped is not in Bodhi at all.
    pub fn resolve(&self, what: &str, id: i32) -> Result<i32, String> {
        if let Some(why) = self.skipped.get(&id) {
            return Err(format!("its {what} {id} was skipped ({why})"));
        }
        if !self.arrived.contains(id) {
            return Err(format!("its {what} {id} is not in Bodhi's database"));
        }
        Ok(self.moved.get(&id).copied().unwrap_or(id))
    }

    /// As [`resolve`](Self::resolve), for a nullable reference.
    pub fn resolve_opt(&self, what: &str, id: Option<i32>) -> Result<Option<i32>, String> {
        id.map(|id| self.resolve(what, id)).transpose()
    }

    /// Bodhi's row `bodhi` is Pipal's row `pipal`.
    pub fn record(&mut self, bodhi: i32, pipal: i32) {
        self.skipped.remove(&bodhi);
        self.arrived.insert(bodhi);
        self.claimed.insert(pipal);
        if bodhi == pipal {
            self.moved.remove(&bodhi);
        } else {
            self.moved.insert(bodhi, pipal);
        }
    }

    /// Whether an earlier Bodhi row of this run is already Pipal's row `pipal`.
    pub fn is_claimed(&self, pipal: i32) -> bool {
        self.claimed.contains(pipal)
    }

    pub fn skip(&mut self, bodhi: i32, why: &str) {
        self.moved.remove(&bodhi);
        self.skipped.insert(bodhi, why.to_owned());
    }
}

/// A set of non-negative ids, one bit each (125 KiB for a million ids).
#[derive(Debug, Default)]
struct IdSet {
    words: Vec<u64>,
}

impl IdSet {
    fn slot(id: i32) -> Option<(usize, u64)> {
        let id = usize::try_from(id).ok()?;
        Some((id / 64, 1u64 << (id % 64)))
    }

    fn insert(&mut self, id: i32) {
        if let Some((word, bit)) = Self::slot(id) {
            if self.words.len() <= word {
                self.words.resize(word + 1, 0);
            }
            self.words[word] |= bit;
        }
    }

    fn contains(&self, id: i32) -> bool {
        Self::slot(id)
            .and_then(|(word, bit)| self.words.get(word).map(|w| w & bit != 0))
            .unwrap_or(false)
    }
}

/// Ids for rows whose Bodhi id is taken in Pipal by another row: above both databases'
/// largest id when the run started, so they never collide with a Bodhi id of this run.
#[derive(Debug, Default)]
pub struct FreshIds {
    next: Option<i32>,
}

impl FreshIds {
    pub fn next(&mut self, floor: impl FnOnce() -> anyhow::Result<i32>) -> anyhow::Result<i32> {
        let id = match self.next {
            Some(id) => id,
            None => floor()?.saturating_add(1),
        };
        self.next = Some(id.saturating_add(1));
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrived_ids_resolve_orphans_and_skips_explain_themselves() {
        let mut map = IdMap::default();
        map.record(3, 3);
        map.record(4, 40);
        map.skip(5, "\"x\" is not one of a, b");
        assert_eq!(map.resolve("update", 3), Ok(3));
        assert_eq!(map.resolve("update", 4), Ok(40));
        assert_eq!(
            map.resolve("update", 9),
            Err("its update 9 is not in Bodhi's database".to_owned())
        );
        assert_eq!(
            map.resolve("update", 5),
            Err("its update 5 was skipped (\"x\" is not one of a, b)".to_owned())
        );
        assert_eq!(map.resolve_opt("update", None), Ok(None));
        assert!(map.is_claimed(40) && map.is_claimed(3) && !map.is_claimed(4));
    }

    #[test]
    fn the_bit_set_grows_and_ignores_negative_ids() {
        let mut set = IdSet::default();
        set.insert(1_000_000);
        set.insert(-3);
        assert!(set.contains(1_000_000));
        assert!(!set.contains(999_999));
        assert!(!set.contains(-3));
        assert!(set.words.len() <= 1_000_000 / 64 + 1);
    }

    #[test]
    fn fresh_ids_start_above_the_floor_and_count_up() {
        let mut fresh = FreshIds::default();
        assert_eq!(fresh.next(|| Ok(300)).ok(), Some(301));
        assert_eq!(fresh.next(|| Ok(0)).ok(), Some(302));
    }
}
