//! How Bodhi's ids become Pipal's. Pipal keeps Bodhi's id wherever it is free, so a map only
//! remembers the exceptions: rows that took another id (their natural key already existed in
//! Pipal, or their id was taken) and rows that were skipped, so that the rows referring to
//! them are skipped with a reason instead of failing on a foreign key.

use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct IdMap {
    moved: HashMap<i32, i32>,
    skipped: HashMap<i32, String>,
}

impl IdMap {
    /// Pipal's id for Bodhi's `id`, or why there is none.
    pub fn resolve(&self, what: &str, id: i32) -> Result<i32, String> {
        if let Some(why) = self.skipped.get(&id) {
            return Err(format!("its {what} {id} was skipped ({why})"));
        }
        Ok(self.moved.get(&id).copied().unwrap_or(id))
    }

    /// As [`resolve`](Self::resolve), for a nullable reference.
    pub fn resolve_opt(&self, what: &str, id: Option<i32>) -> Result<Option<i32>, String> {
        id.map(|id| self.resolve(what, id)).transpose()
    }

    pub fn record(&mut self, bodhi: i32, pipal: i32) {
        self.skipped.remove(&bodhi);
        if bodhi == pipal {
            self.moved.remove(&bodhi);
        } else {
            self.moved.insert(bodhi, pipal);
        }
    }

    pub fn skip(&mut self, bodhi: i32, why: &str) {
        self.moved.remove(&bodhi);
        self.skipped.insert(bodhi, why.to_owned());
    }
}

/// Ids for rows whose Bodhi id is taken in Pipal by another row: above both databases'
/// largest id, so they never collide with a Bodhi id imported later.
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
    fn unmoved_ids_resolve_to_themselves_and_skips_explain_themselves() {
        let mut map = IdMap::default();
        map.record(3, 3);
        map.record(4, 40);
        map.skip(5, "\"x\" is not one of a, b");
        assert_eq!(map.resolve("update", 3), Ok(3));
        assert_eq!(map.resolve("update", 4), Ok(40));
        assert_eq!(map.resolve("update", 9), Ok(9));
        assert_eq!(
            map.resolve("update", 5),
            Err("its update 5 was skipped (\"x\" is not one of a, b)".to_owned())
        );
        assert_eq!(map.resolve_opt("update", None), Ok(None));
    }

    #[test]
    fn fresh_ids_start_above_the_floor_and_count_up() {
        let mut fresh = FreshIds::default();
        assert_eq!(fresh.next(|| Ok(300)).ok(), Some(301));
        assert_eq!(fresh.next(|| Ok(0)).ok(), Some(302));
    }
}
