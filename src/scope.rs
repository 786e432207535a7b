//! An account's scope: the subtree of the unit tree its role applies to. One installation
//! can hold a province: the root is the provincial committee, each university a subtree, each
//! college and branch below it. An installation-wide account has no scope (`All`); every
//! other account sees and changes only what lies inside its subtree, and anything outside is
//! answered as if it did not exist (404), so nothing about other scopes leaks.
//!
//! Pure: it reads a slice of units and never the database, so the web layer, the CLI and the
//! API ask the same question the same way.

use std::collections::{HashMap, HashSet};

use crate::db::units::Unit;

/// The subtree an account may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole tree (installation-wide accounts).
    All,
    /// The subtree under this unit code, the unit included.
    Subtree(String),
}

impl Scope {
    /// The scope stored on an account (`users.scope`): `None` or empty is the whole tree.
    pub fn of(stored: Option<&str>) -> Self {
        match stored.map(str::trim).filter(|s| !s.is_empty()) {
            None => Self::All,
            Some(code) => Self::Subtree(code.to_owned()),
        }
    }

    /// The unit code at the top of the subtree, `None` for the whole tree.
    pub fn root(&self) -> Option<&str> {
        match self {
            Self::All => None,
            Self::Subtree(code) => Some(code),
        }
    }

    /// Whether unit `code` lies inside this scope. An unknown code lies inside `All` only.
    pub fn contains(&self, units: &[Unit], code: &str) -> bool {
        match self {
            Self::All => true,
            Self::Subtree(root) => within(&by_code(units), code, root),
        }
    }

    /// Whether everything a wave (or any object) scoped to `inner` covers lies inside this
    /// scope: `inner = None` is the whole tree, so only `All` covers it.
    pub fn covers(&self, units: &[Unit], inner: Option<&str>) -> bool {
        match (self, inner) {
            (Self::All, _) => true,
            (Self::Subtree(_), None) => false,
            (Self::Subtree(_), Some(code)) => self.contains(units, code),
        }
    }

    /// [`Scope::covers`] for many objects (a list of waves): the subtree's codes are
    /// gathered once, not the tree indexed per object.
    pub fn covering<'a>(&self, units: &'a [Unit]) -> impl Fn(Option<&str>) -> bool + 'a {
        let inside = self.root().map(|_| self.codes(units));
        move |inner| match (&inside, inner) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(codes), Some(code)) => codes.contains(code),
        }
    }

    /// Whether `other` is this scope or lies inside it: an account may create accounts and
    /// grant scopes only within its own.
    pub fn includes(&self, units: &[Unit], other: &Self) -> bool {
        self.covers(units, other.root())
    }

    /// The codes of the units inside this scope: built once for a loop that asks of many
    /// units ([`Scope::contains`] indexes the whole tree on every call).
    pub fn codes<'a>(&self, units: &'a [Unit]) -> HashSet<&'a str> {
        self.units(units)
            .into_iter()
            .map(|u| u.code.as_str())
            .collect()
    }

    /// The units inside this scope, in the order given.
    pub fn units<'a>(&self, units: &'a [Unit]) -> Vec<&'a Unit> {
        let index = by_code(units);
        units
            .iter()
            .filter(|u| match self {
                Self::All => true,
                Self::Subtree(root) => within(&index, &u.code, root),
            })
            .collect()
    }
}

/// The subtree of the Party committee that runs a wave scoped to `scope`: under the nearest
/// unit of kind `committee` at or above the scope's root (a college's wave: its university's
/// 党委), or the whole tree when there is none (or no scope). Its committee members (考评组)
/// score the wave's units wherever they belong inside it — a university's own members, not
/// another university's, nor the province's above it.
pub fn running_committee(units: &[Unit], scope: Option<&str>) -> Scope {
    let Some(root) = scope else {
        return Scope::All;
    };
    let index = by_code(units);
    let mut at = index.get(root).copied();
    let mut steps = 0;
    while let Some(unit) = at {
        if unit.kind == crate::domain::roster::UnitKind::Committee.as_str() {
            return Scope::Subtree(unit.code.clone());
        }
        steps += 1;
        if steps > index.len() {
            break;
        }
        at = unit.parent.as_deref().and_then(|p| index.get(p).copied());
    }
    Scope::All
}

fn by_code(units: &[Unit]) -> HashMap<&str, &Unit> {
    units.iter().map(|u| (u.code.as_str(), u)).collect()
}

/// Whether `code` is `root` or a descendant of it. The walk up stops at a unit seen twice,
/// so a cycle written into the database by hand cannot hang a request.
pub(crate) fn within(by_code: &HashMap<&str, &Unit>, code: &str, root: &str) -> bool {
    let mut at = by_code.get(code).copied();
    let mut steps = 0;
    while let Some(unit) = at {
        if unit.code == root {
            return true;
        }
        steps += 1;
        if steps > by_code.len() {
            return false;
        }
        at = unit.parent.as_deref().and_then(|p| by_code.get(p).copied());
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wave_is_scored_by_the_committee_of_its_nearest_party_committee() {
        let mut units = province();
        for u in &mut units {
            if matches!(u.code.as_str(), "PROV" | "U1" | "U2") {
                u.kind = "committee".into();
            }
        }
        let of = |scope| running_committee(&units, scope);
        assert_eq!(of(Some("U1")), Scope::of(Some("U1")));
        assert_eq!(of(Some("U1-CS")), Scope::of(Some("U1")));
        assert_eq!(of(Some("U2")), Scope::of(Some("U2")));
        assert_eq!(of(Some("PROV")), Scope::of(Some("PROV")));
        assert_eq!(of(None), Scope::All);
        // No committee above: the whole tree, as before scopes.
        assert_eq!(running_committee(&province(), Some("U1-CS")), Scope::All);
    }

    /// The rule of `report::words_readable`: a wave's comments and reasons go to readers
    /// whose scope lies inside the wave's.
    #[test]
    fn a_wave_s_words_go_to_readers_inside_its_scope_only() {
        let units = [
            unit("PROV", None),
            unit("U1", Some("PROV")),
            unit("U1-CS", Some("U1")),
            unit("U2", Some("PROV")),
        ];
        let wave = Scope::of(Some("U1"));
        assert!(wave.includes(&units, &Scope::of(Some("U1"))));
        assert!(wave.includes(&units, &Scope::of(Some("U1-CS"))));
        assert!(!wave.includes(&units, &Scope::All));
        assert!(!wave.includes(&units, &Scope::of(Some("U2"))));
        assert!(Scope::All.includes(&units, &Scope::All));
    }

    fn unit(code: &str, parent: Option<&str>) -> Unit {
        Unit {
            code: code.into(),
            name: code.into(),
            kind: "branch".into(),
            parent: parent.map(Into::into),
        }
    }

    fn province() -> Vec<Unit> {
        vec![
            unit("PROV", None),
            unit("U1", Some("PROV")),
            unit("U1-CS", Some("U1")),
            unit("U2", Some("PROV")),
            unit("U2-CS", Some("U2")),
        ]
    }

    #[test]
    fn a_subtree_holds_its_root_and_descendants_and_nothing_beside_it() {
        let units = province();
        let u1 = Scope::of(Some("U1"));
        assert!(u1.contains(&units, "U1"));
        assert!(u1.contains(&units, "U1-CS"));
        assert!(!u1.contains(&units, "U2-CS"));
        assert!(!u1.contains(&units, "PROV"));
        assert!(!u1.contains(&units, "NOPE"));
        let codes: Vec<&str> = u1.units(&units).iter().map(|u| u.code.as_str()).collect();
        assert_eq!(codes, ["U1", "U1-CS"]);
    }

    #[test]
    fn only_the_whole_tree_covers_a_wave_of_the_whole_tree() {
        let units = province();
        for scope in [Scope::All, Scope::of(Some("U1")), Scope::of(Some("U2-CS"))] {
            let covers = scope.covering(&units);
            for inner in [
                None,
                Some("PROV"),
                Some("U1"),
                Some("U1-CS"),
                Some("U2-CS"),
                Some("NOPE"),
            ] {
                assert_eq!(
                    covers(inner),
                    scope.covers(&units, inner),
                    "{scope:?} {inner:?}"
                );
            }
        }
        assert!(Scope::All.covers(&units, None));
        assert!(!Scope::of(Some("U1")).covers(&units, None));
        assert!(Scope::of(Some("U1")).covers(&units, Some("U1-CS")));
        assert!(!Scope::of(Some("U1")).covers(&units, Some("PROV")));
        assert_eq!(Scope::of(Some("  ")), Scope::All);
    }

    #[test]
    fn accounts_grant_only_inside_their_own_scope() {
        let units = province();
        let u1 = Scope::of(Some("U1"));
        assert!(u1.includes(&units, &Scope::of(Some("U1-CS"))));
        assert!(u1.includes(&units, &u1));
        assert!(!u1.includes(&units, &Scope::All));
        assert!(!u1.includes(&units, &Scope::of(Some("U2"))));
        assert!(Scope::All.includes(&units, &u1));
    }

    #[test]
    fn a_cycle_written_by_hand_does_not_hang() {
        let units = vec![unit("A", Some("B")), unit("B", Some("A"))];
        assert!(!Scope::of(Some("C")).contains(&units, "A"));
    }
}
