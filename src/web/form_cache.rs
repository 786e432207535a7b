//! The mass questionnaire, rendered once per wave and language and kept: a clean
//! `GET /s/{token}` only fills in what differs from one respondent to the next (the unit's
//! name, the form's action and the language switch link, which carry the token) instead of
//! running the template again. The page is the same, byte for byte, as a fresh render.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::NaiveDateTime;

use crate::db::waves::WaveHead;
use crate::domain::Lang;

/// A place in the page that differs between respondents of one wave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hole {
    /// The name of the unit being evaluated.
    UnitName,
    /// The form's action (`/s/{token}?lang=…`).
    Action,
    /// The link to the page in the other language (it carries the token too).
    SwitchHref,
}

impl Hole {
    const ALL: [Self; 3] = [Self::UnitName, Self::Action, Self::SwitchHref];

    /// What stands in the hole while the page is rendered for the cache. NUL characters
    /// survive HTML escaping unchanged; should the page's own text ever contain a marker,
    /// it is found more than once and the wave's page is simply not cached.
    pub fn marker(self) -> &'static str {
        match self {
            Self::UnitName => "\0sanping:unit-name\0",
            Self::Action => "\0sanping:action\0",
            Self::SwitchHref => "\0sanping:switch-href\0",
        }
    }
}

/// A page rendered once, with its holes cut out.
#[derive(Debug)]
pub struct Prerendered {
    html: String,
    /// Byte offsets into `html`, ascending.
    holes: Vec<(usize, Hole)>,
}

impl Prerendered {
    /// Cuts the markers out of a page rendered with them; `None` unless every marker occurs
    /// exactly once.
    pub fn parse(rendered: &str) -> Option<Self> {
        let mut found = Vec::with_capacity(Hole::ALL.len());
        for hole in Hole::ALL {
            let mut at = rendered.match_indices(hole.marker()).map(|(i, _)| i);
            found.push((at.next()?, hole));
            if at.next().is_some() {
                return None;
            }
        }
        found.sort_by_key(|&(at, _)| at);
        let mut html = String::with_capacity(rendered.len());
        let mut holes = Vec::with_capacity(found.len());
        let mut from = 0;
        for (at, hole) in found {
            html.push_str(rendered.get(from..at)?);
            holes.push((html.len(), hole));
            from = at + hole.marker().len();
        }
        html.push_str(&rendered[from..]);
        Some(Self { html, holes })
    }

    /// The page with each hole filled by `fill` (which returns escaped HTML).
    pub fn fill<'a>(&self, fill: impl Fn(Hole) -> &'a str) -> String {
        let filled: Vec<&str> = self.holes.iter().map(|&(_, h)| fill(h)).collect();
        let mut out =
            String::with_capacity(self.html.len() + filled.iter().map(|f| f.len()).sum::<usize>());
        let mut from = 0;
        for (&(at, _), text) in self.holes.iter().zip(filled) {
            out.push_str(&self.html[from..at]);
            out.push_str(text);
            from = at;
        }
        out.push_str(&self.html[from..]);
        out
    }
}

/// What of a wave's head the page shows. The survey never changes once a wave exists; the
/// rest is compared on every use, so a changed wave is rendered again.
#[derive(Debug, PartialEq, Eq)]
struct Shown {
    title: String,
    closes_at: Option<NaiveDateTime>,
    is_test: bool,
    fingerprint: String,
}

impl Shown {
    fn of(wave: &WaveHead) -> Self {
        Self {
            title: wave.title.clone(),
            closes_at: wave.closes_at,
            is_test: wave.is_test,
            fingerprint: wave.fingerprint.clone(),
        }
    }

    fn matches(&self, wave: &WaveHead) -> bool {
        self.title == wave.title
            && self.closes_at == wave.closes_at
            && self.is_test == wave.is_test
            && self.fingerprint == wave.fingerprint
    }
}

struct Entry {
    shown: Shown,
    /// `None` when the page could not be cut (a marker in the page's own text).
    page: Option<Arc<Prerendered>>,
}

/// The kept questionnaires, by wave and language.
#[derive(Default)]
pub struct FormCache(RwLock<HashMap<(i32, Lang), Entry>>);

/// What the cache holds for a wave in a language.
pub enum Cached {
    /// The page, ready to fill in.
    Page(Arc<Prerendered>),
    /// This wave's page is not cached: render it every time.
    Uncachable,
    /// Nothing yet (or the wave changed since).
    Missing,
}

impl FormCache {
    /// The kept page of `wave` in `lang`, if it still matches the wave.
    pub fn get(&self, wave: &WaveHead, lang: Lang) -> Cached {
        let map = self.0.read().expect("form cache lock");
        match map.get(&(wave.id, lang)) {
            Some(e) if e.shown.matches(wave) => {
                e.page.clone().map_or(Cached::Uncachable, Cached::Page)
            }
            _ => Cached::Missing,
        }
    }

    /// Keeps `page` (or that there is none) for `wave` in `lang`.
    pub fn put(&self, wave: &WaveHead, lang: Lang, page: Option<Arc<Prerendered>>) {
        self.0.write().expect("form cache lock").insert(
            (wave.id, lang),
            Entry {
                shown: Shown::of(wave),
                page,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_are_cut_out_and_filled_in_their_places() {
        let rendered = format!(
            "<a href=\"{}\">x</a><b>{}</b><form action=\"{}\">",
            Hole::SwitchHref.marker(),
            Hole::UnitName.marker(),
            Hole::Action.marker()
        );
        let page = Prerendered::parse(&rendered).expect("every marker once");
        let filled = page.fill(|h| match h {
            Hole::UnitName => "U&amp;1",
            Hole::Action => "/s/t?lang=zh",
            Hole::SwitchHref => "/lang/en",
        });
        assert_eq!(
            filled,
            "<a href=\"/lang/en\">x</a><b>U&amp;1</b><form action=\"/s/t?lang=zh\">"
        );
    }

    #[test]
    fn a_page_with_a_marker_missing_or_repeated_is_not_cut() {
        let once = format!("{}{}", Hole::UnitName.marker(), Hole::Action.marker());
        assert!(
            Prerendered::parse(&once).is_none(),
            "the switch link is missing"
        );
        let twice = format!(
            "{}{}{}{}",
            Hole::UnitName.marker(),
            Hole::Action.marker(),
            Hole::SwitchHref.marker(),
            Hole::UnitName.marker()
        );
        assert!(Prerendered::parse(&twice).is_none());
    }
}
