//! Disclosure control: which figure sets of a wave may be shown, one rule for every output
//! (JSON, CSV, XLSX, the dashboard) and every role, since all of them read one report.
//!
//! The rule: a figure set (a unit's own answers, a roll-up, any total) is shown only when
//! it rests on at least `k` responses **and** no group with `0 < n < k` can be obtained by
//! adding and subtracting shown figure sets. Groups with 0 responses protect nobody.
//!
//! Each unit's own answer sheets are an *atom*; every figure set is a union of atoms. An
//! integer combination of shown sets is constant on each *cell* — the atoms that belong to
//! exactly the same shown sets — so whatever can be obtained is a union of cells, and the
//! rule holds when every cell has 0 or at least `k` responses ([`cells_safe`]). For the
//! nested sets of a tree (a unit, its roll-up, its parent's roll-up) every cell can indeed
//! be isolated — a set minus the largest shown sets inside it — so the test is exact there,
//! and merely cautious for sets that cross branches.
//!
//! Units come first: a unit with at least `k` responses always keeps its own figures (and
//! with them its composite with the mass step, and its gate) — a large unit is never hidden
//! to protect a small one. A roll-up is then shown whole when that keeps every cell safe;
//! otherwise it leaves out the hidden units ("不含样本不足单位", a union of shown units,
//! which discloses nothing new); when nothing is left, it is hidden.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::Node;

/// What a unit's roll-up (the unit and everything below it) shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "shown")]
pub enum RollupView {
    /// The whole subtree.
    Full,
    /// The subtree without its hidden units (`left_out`: those with responses).
    Partial {
        /// Hidden units of the subtree with at least one response, left out.
        left_out: Vec<String>,
    },
    /// Nothing: no shown unit below and the whole would reveal a small group.
    Hidden,
}

/// The disclosure decision for a wave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disclosure {
    /// Units whose own figures are hidden ("样本不足").
    pub hidden: BTreeSet<String>,
    /// Each unit's roll-up.
    pub rollups: BTreeMap<String, RollupView>,
}

impl Disclosure {
    /// The units a shown roll-up of `code` pools (empty when hidden).
    pub fn rollup_members(&self, nodes: &[Node], code: &str) -> Vec<String> {
        let below = subtrees(nodes).remove(code).unwrap_or_default();
        match self.rollups.get(code) {
            Some(RollupView::Full) => below.into_iter().collect(),
            Some(RollupView::Partial { .. }) => below
                .into_iter()
                .filter(|c| !self.hidden.contains(c))
                .collect(),
            Some(RollupView::Hidden) | None => Vec::new(),
        }
    }
}

/// Each node's subtree (itself and all descendants), by code. A cycle ends where it closes.
fn subtrees(nodes: &[Node]) -> BTreeMap<String, BTreeSet<String>> {
    let parent: BTreeMap<&str, Option<&str>> = nodes
        .iter()
        .map(|n| (n.code.as_str(), n.parent.as_deref()))
        .collect();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for n in nodes {
        let mut at = Some(n.code.as_str());
        let mut seen = BTreeSet::new();
        while let Some(c) = at.filter(|c| seen.insert(*c)) {
            if !parent.contains_key(c) {
                break;
            }
            out.entry(c.to_owned()).or_default().insert(n.code.clone());
            at = parent.get(c).copied().flatten();
        }
    }
    out
}

/// Whether every group obtainable from `shown` (sets of atoms) by integer combinations has
/// 0 or at least `k` responses: every cell of atoms with the same membership has 0 or ≥ k.
/// Atoms outside every shown set cannot be isolated and are not a cell.
pub fn cells_safe(shown: &[BTreeSet<String>], responses: &BTreeMap<String, u64>, k: u64) -> bool {
    let mut cells: BTreeMap<Vec<bool>, u64> = BTreeMap::new();
    for (atom, &n) in responses.iter().filter(|(_, n)| **n > 0) {
        let signature: Vec<bool> = shown.iter().map(|s| s.contains(atom)).collect();
        if signature.iter().any(|b| *b) {
            *cells.entry(signature).or_default() += n;
        }
    }
    cells.values().all(|&n| n == 0 || n >= k)
}

/// The cells of the shown sets so far, kept up to date set by set: a university has
/// hundreds of units, and recomputing every atom's membership per roll-up would be
/// quadratic in them.
struct Cells<'a> {
    /// Each atom's cell; atoms in no shown set are in no cell (absent).
    of: BTreeMap<&'a str, usize>,
    /// Each cell's responses.
    sums: Vec<u64>,
}

impl<'a> Cells<'a> {
    /// Adds `set` as a shown set when every cell it splits (and the new one it makes of
    /// atoms not yet in any cell) keeps 0 or at least `k` responses; says whether it did.
    fn try_add(&mut self, set: &'a BTreeSet<String>, count: impl Fn(&str) -> u64, k: u64) -> bool {
        let ok = |n: u64| n == 0 || n >= k;
        // Per touched cell (None: not yet in any), the responses of its atoms in `set`.
        let mut inside: BTreeMap<Option<usize>, u64> = BTreeMap::new();
        for a in set {
            *inside.entry(self.of.get(a.as_str()).copied()).or_default() += count(a);
        }
        let safe = inside.iter().all(|(cell, &n)| match cell {
            None => ok(n),
            Some(c) => ok(n) && ok(self.sums[*c] - n),
        });
        if !safe {
            return false;
        }
        // The atoms of `set` leave their cells for new ones (a cell wholly inside `set`
        // just moves, leaving an empty cell no atom points to).
        let mut split: BTreeMap<Option<usize>, usize> = BTreeMap::new();
        for a in set {
            let old = self.of.get(a.as_str()).copied();
            let new = *split.entry(old).or_insert_with(|| {
                self.sums.push(0);
                self.sums.len() - 1
            });
            if let Some(c) = old {
                self.sums[c] -= count(a);
            }
            self.sums[new] += count(a);
            self.of.insert(a.as_str(), new);
        }
        true
    }
}

/// Decides what a wave shows: see the module doc. Input: the unit tree and each unit's own
/// response count (a missing count is 0); `k` the anonymity threshold.
pub fn disclose(nodes: &[Node], responses: &BTreeMap<String, u64>, k: u64) -> Disclosure {
    let count = |c: &str| responses.get(c).copied().unwrap_or(0);
    let hidden: BTreeSet<String> = nodes
        .iter()
        .filter(|n| count(&n.code) < k)
        .map(|n| n.code.clone())
        .collect();
    let below = subtrees(nodes);
    let singles: Vec<BTreeSet<String>> = nodes
        .iter()
        .filter(|n| !hidden.contains(&n.code))
        .map(|n| BTreeSet::from([n.code.clone()]))
        .collect();
    let mut cells = Cells {
        of: BTreeMap::new(),
        sums: Vec::new(),
    };
    for single in &singles {
        // A shown unit alone has at least k responses: always safe.
        cells.try_add(single, count, k);
    }
    // Deepest first, so a small branch's roll-up is decided before the ones that contain it.
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    for members in below.values() {
        for m in members {
            *depth.entry(m.as_str()).or_default() += 1;
        }
    }
    let mut order: Vec<&Node> = nodes.iter().collect();
    order.sort_by(|a, b| {
        depth
            .get(b.code.as_str())
            .cmp(&depth.get(a.code.as_str()))
            .then(a.code.cmp(&b.code))
    });
    let empty = BTreeSet::new();
    let mut rollups = BTreeMap::new();
    for n in order {
        let members = below.get(&n.code).unwrap_or(&empty);
        let total: u64 = members.iter().map(|c| count(c)).sum();
        let view = if total >= k && cells.try_add(members, count, k) {
            RollupView::Full
        } else if members.iter().all(|c| hidden.contains(c)) {
            RollupView::Hidden
        } else {
            // A union of shown units: it splits no cell, so it is always safe.
            RollupView::Partial {
                left_out: members
                    .iter()
                    .filter(|c| hidden.contains(*c) && count(c) > 0)
                    .cloned()
                    .collect(),
            }
        };
        rollups.insert(n.code.clone(), view);
    }
    Disclosure { hidden, rollups }
}

#[cfg(test)]
mod tests;
