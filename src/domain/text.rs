//! Bilingual text: Chinese (zh-CN) first, English second.

use serde::Serialize;

/// The languages the UI speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub enum Lang {
    /// 简体中文, the default.
    #[default]
    #[serde(rename = "zh-CN")]
    Zh,
    /// English.
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// Reads a `lang` query value; anything but `en…` is Chinese.
    pub fn from_param(value: Option<&str>) -> Self {
        match value {
            Some(v) if v.eq_ignore_ascii_case("en") || v.starts_with("en-") => Self::En,
            _ => Self::Zh,
        }
    }

    /// The BCP 47 tag for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Zh => "zh-CN",
            Self::En => "en",
        }
    }
}

/// A text in Chinese with an optional English translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text {
    /// The Chinese text (always present).
    pub zh: String,
    /// The English text, when the author gave one.
    pub en: Option<String>,
}

impl Text {
    /// The text in `lang`, falling back to Chinese.
    pub fn get(&self, lang: Lang) -> &str {
        match (lang, &self.en) {
            (Lang::En, Some(en)) => en,
            _ => &self.zh,
        }
    }
}
