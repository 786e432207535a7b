//! One language per page: every page of the console and of the respondent, rating and
//! assessment links, fetched in Chinese and in English, in each state of a wave (draft,
//! open, closed and sealed, closed, published; unit waves and people waves), and the pages
//! a refused form comes back with (a bad survey file, closing time or key holders, bad CSV
//! lines, an incomplete answer or rating sheet). A Chinese page fails on an English word, an
//! English page on a Chinese character; the failure names the page and the words.
//!
//! What may appear in the other language, and why:
//! - **data**: unit and people names, emails, account names, wave titles, comments and
//!   reasons typed by people, and every string of the survey files (item text, option and
//!   grade labels are the survey's words, in Chinese whatever the page's language);
//! - **codes**: what the page marks as code (`class="code"`, `<code>`: unit codes, a
//!   roster's categories and roles, CSV headers), anything with a digit, `@`, `_` or an inner `.` (numbers, ids, emails,
//!   file names, times), anything without a lowercase letter (unit codes, `CSV`, `XLSX`,
//!   `PDF`, `SHA-256`, `YYYY-MM-DD`), single letters (the `n / m` of a rank);
//! - **records**: the audit log's entries, written once when it happened in the words the
//!   CLI uses (English) and kept as written;
//! - **what a person typed**, quoted back in a refusal (`next friday`, `club`);
//! - **what is typed into a file**: keys, values and columns of survey and CSV files, which
//!   the Chinese messages quote between backticks;
//! - **names**: `sanping` and the command `sanping wave verify` (typed as is), `Wilson`
//!   (an interval named after a person), `Excel`, and the language switch, which names the
//!   other language in that language (`English`, `中文`).

use sanping::auth::{self, Role};
use sanping::domain::survey::StepKind;
use sanping::wave::Link;

use crate::admin::{Browser, login};
use crate::support::{self, Server, TestDb};

/// The two languages and the cookie value that chooses each.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Lang {
    Zh,
    En,
}

impl Lang {
    const BOTH: [Self; 2] = [Self::Zh, Self::En];

    fn cookie(self) -> &'static str {
        match self {
            Self::Zh => "sp_lang=zh",
            Self::En => "sp_lang=en",
        }
    }
}

/// English words allowed on a Chinese page: see the module header.
const ALLOWED_WORDS: [&str; 4] = ["sanping", "Wilson", "Excel", "English"];
/// Phrases allowed on a page of either language (names, typed as is).
const ALLOWED_PHRASES: [&str; 2] = ["sanping wave verify", "中文"];

/// Every page fetched, with the words found in the wrong language.
pub(crate) struct Walk {
    /// Data strings, longest first: stripped before looking.
    data: Vec<String>,
    leaks: Vec<String>,
    pages: usize,
}

impl Walk {
    pub(crate) fn new(mut data: Vec<String>) -> Self {
        data.extend(ALLOWED_PHRASES.iter().map(|s| (*s).to_owned()));
        data.retain(|d| !d.trim().is_empty());
        data.sort_by_key(|d| std::cmp::Reverse(d.chars().count()));
        data.dedup();
        Self {
            data,
            leaks: Vec::new(),
            pages: 0,
        }
    }

    /// Checks one page: `what` names it in the report.
    pub(crate) fn check(&mut self, what: &str, lang: Lang, status: u16, html: &str) {
        assert!(
            status < 500 && !html.is_empty(),
            "{what} ({lang:?}): {status}\n{html}"
        );
        self.pages += 1;
        let mut text = visible_text(&without_records(html));
        for d in &self.data {
            text = text.replace(d.as_str(), " ");
        }
        let found = match lang {
            Lang::Zh => english_words(&without_quoted_code(&text)),
            Lang::En => chinese_runs(&text),
        };
        for f in found {
            self.leaks.push(format!("{what} [{lang:?} {status}]: {f}"));
        }
    }

    /// GETs `path` in both languages, as `b` (or anonymously), and checks both pages.
    fn both(&mut self, server: &Server, b: Option<&Browser>, path: &str) {
        for lang in Lang::BOTH {
            let (status, html) = get(server, b, path, lang);
            self.check(&format!("GET {path}"), lang, status, &html);
        }
    }

    pub(crate) fn finish(self) {
        assert!(self.pages > 0);
        assert!(
            self.leaks.is_empty(),
            "{} strings in the other language on {} pages:\n{}",
            self.leaks.len(),
            self.pages,
            self.leaks.join("\n")
        );
    }
}

fn cookie(b: Option<&Browser>, lang: Lang) -> String {
    match b {
        Some(b) => format!("{}; {}", b.cookie, lang.cookie()),
        None => lang.cookie().to_owned(),
    }
}

fn get(server: &Server, b: Option<&Browser>, path: &str, lang: Lang) -> (u16, String) {
    let mut res = support::client()
        .get(&server.url(path))
        .header("cookie", &cookie(b, lang))
        .call()
        .expect("GET");
    let status = res.status().as_u16();
    (status, res.body_mut().read_to_string().expect("body"))
}

fn post(
    server: &Server,
    b: Option<&Browser>,
    path: &str,
    fields: &[(&str, &str)],
    lang: Lang,
) -> (u16, String) {
    let mut all = Vec::new();
    if let Some(b) = b {
        all.push(("csrf", b.csrf.as_str()));
    }
    all.extend_from_slice(fields);
    let mut res = support::client()
        .post(&server.url(path))
        .header("cookie", &cookie(b, lang))
        .send_form(all)
        .expect("POST");
    let status = res.status().as_u16();
    (status, res.body_mut().read_to_string().expect("body"))
}

/// POSTs `csv` as the file of an upload form.
fn upload(server: &Server, b: &Browser, path: &str, csv: &str, lang: Lang) -> (u16, String) {
    let boundary = "XsanpingLangX";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n",
        b.csrf
    );
    let mut res = support::client()
        .post(&server.url(path))
        .header("cookie", &cookie(Some(b), lang))
        .header(
            "content-type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(body.as_bytes())
        .expect("upload");
    let status = res.status().as_u16();
    (status, res.body_mut().read_to_string().expect("body"))
}

/// The text a person sees: the page without scripts, styles, comments and tags, with the
/// attributes a browser shows (`title`, `placeholder`, `alt`, `aria-label`) and entities
/// decoded.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let lower = rest.get(..9).unwrap_or(rest).to_ascii_lowercase();
        let (close, skip_to) = if lower.starts_with("<!--") {
            ("-->", true)
        } else if lower.starts_with("<script") {
            ("</script>", true)
        } else if lower.starts_with("<style") {
            ("</style>", true)
        } else {
            (">", false)
        };
        let end = rest.find(close).map_or(rest.len(), |i| i + close.len());
        if !skip_to {
            out.push_str(&shown_attributes(&rest[..end]));
        }
        out.push(' ');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x3D;", "=")
        .replace("&#x60;", "`")
        .replace("&nbsp;", " ")
}

fn shown_attributes(tag: &str) -> String {
    let mut out = String::new();
    for name in [" title=\"", " placeholder=\"", " alt=\"", " aria-label=\""] {
        if let Some(at) = tag.find(name) {
            let value = &tag[at + name.len()..];
            out.push(' ');
            out.push_str(value.split('"').next().unwrap_or(""));
        }
    }
    out
}

/// The page without the audit log's records and what the page marks as code (a unit code,
/// a roster's category and roles, a CSV header), see the module header.
fn without_records(html: &str) -> String {
    let mut html = html.to_owned();
    for (open, close) in [
        ("<td class=\"record\">", "</td>"),
        ("<td class=\"code\">", "</td>"),
        ("<span class=\"code\">", "</span>"),
        ("<code>", "</code>"),
    ] {
        let mut out = String::new();
        let mut rest = html.as_str();
        while let Some(at) = rest.find(open) {
            out.push_str(&rest[..at]);
            rest = &rest[at + open.len()..];
            rest = rest.find(close).map_or("", |end| &rest[end..]);
        }
        out.push_str(rest);
        html = out;
    }
    html
}

/// The text without what it quotes between backticks (keys and values typed into files).
fn without_quoted_code(text: &str) -> String {
    text.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// A few characters either side of `at..end` in `text`, on one line.
fn context(text: &str, at: usize, end: usize) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let i = chars.iter().position(|(b, _)| *b >= at).unwrap_or(0);
    let j = chars
        .iter()
        .position(|(b, _)| *b >= end)
        .unwrap_or(chars.len());
    let from = i.saturating_sub(25);
    let to = (j + 25).min(chars.len());
    let s: String = chars[from..to].iter().map(|(_, c)| *c).collect();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// English words in `text` (see the module header for what is not one): each as
/// `"word" in «context»`.
fn english_words(text: &str) -> Vec<String> {
    let is_token = |c: char| c.is_ascii_alphanumeric() || "_@.-'’".contains(c);
    let mut found = Vec::new();
    let mut at = 0;
    for piece in text.split_inclusive(|c: char| !is_token(c)) {
        let start = at;
        at += piece.len();
        let word = piece
            .trim_end_matches(|c: char| !is_token(c))
            // A leading dot stays: `.toml` is a file's ending, not a word.
            .trim_start_matches(|c: char| "-'’".contains(c))
            .trim_end_matches(|c: char| ".-'’".contains(c));
        let code = word.chars().any(|c| c.is_ascii_digit() || "@_".contains(c))
            || word.trim_end_matches('.').contains('.')
            || !word.chars().any(|c| c.is_ascii_lowercase())
            || word.chars().count() < 2;
        if !code && !ALLOWED_WORDS.contains(&word) {
            found.push(format!(
                "\"{word}\" in «{}»",
                context(text, start, start + piece.len())
            ));
        }
    }
    found
}

/// A Chinese character or fullwidth punctuation; the ideographic space (U+3000) indents the
/// unit tree and is white space in either language.
fn is_chinese(c: char) -> bool {
    matches!(c, '\u{3001}'..='\u{303f}' | '\u{3400}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}')
}

/// Runs of Chinese characters (and fullwidth punctuation) in `text`, each with its context.
fn chinese_runs(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut run: Option<usize> = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (run, is_chinese(c)) {
            (None, true) => run = Some(i),
            (Some(start), false) => {
                found.push(format!(
                    "\"{}\" in «{}»",
                    &text[start..i],
                    context(text, start, i)
                ));
                run = None;
            }
            _ => {}
        }
    }
    found
}

/// Every string value of every survey file shipped (the survey's own words are data).
fn survey_strings() -> Vec<String> {
    fn walk(v: &toml::Value, out: &mut Vec<String>) {
        match v {
            // The survey's own (Chinese) words; its ids and English translations are not data.
            toml::Value::String(s) if s.chars().any(is_chinese) => out.push(s.clone()),
            toml::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            toml::Value::Table(t) => t.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(support::survey_file("")).expect("surveys") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|x| x == "toml") {
            let src = std::fs::read_to_string(&path).expect("survey");
            let table: toml::Table = toml::from_str(&src).expect("toml");
            // Its id names it, as the file's name does.
            if let Some(toml::Value::String(id)) = table.get("id") {
                out.push(id.clone());
            }
            walk(&toml::Value::Table(table), &mut out);
        }
    }
    out
}

/// The names (and emails) of a roster or unit CSV: its first two columns (a unit's code,
/// its first, is a code and found as one).
fn csv_data(csv: &str) -> Vec<String> {
    csv.lines()
        .skip(1)
        .flat_map(|l| l.split(',').take(2).map(str::to_owned))
        .filter(|d| d.chars().any(|c| !c.is_ascii_uppercase() && c != '-'))
        .collect()
}

pub(crate) fn data() -> Vec<String> {
    let mut data = survey_strings();
    for f in ["units.csv", "people.csv", "report_people.csv"] {
        data.extend(csv_data(
            &std::fs::read_to_string(support::fixture(f)).expect("fixture"),
        ));
    }
    data.extend(csv_data(crate::people::ROSTER));
    data.extend(csv_data(ADDED));
    data.extend(
        [
            // What the refused forms below typed, quoted back.
            "next friday",
            "club",
            "boss",
            "not-an-email",
            // The tests' wave title and the fixed wave's comments.
            "2026年度测评",
            "<script>alert(1)</script> 多开展活动",
            "教工支部的意见",
            "工作不够投入",
            // Account names.
            "org",
            "kp",
            "sec",
            "sec2",
            support::HOLDER,
        ]
        .map(str::to_owned),
    );
    data
}

/// Someone added to the roster after the open wave opened (for 邀请新增人员).
const ADDED: &str =
    "email,name,unit,category,role\nnew.one@demo.edu.cn,新来的,CS-T,faculty,member\n";

fn token(link: &Link) -> String {
    support::path_of(&link.url)
}

fn link(links: &[Link], step: StepKind) -> String {
    token(links.iter().find(|l| l.step == step).expect("a link"))
}

/// The pages of a unit wave's respondent links, and an incomplete sheet's page.
fn respondent_pages(walk: &mut Walk, server: &Server, links: &[Link]) {
    let mass = link(links, StepKind::Mass);
    walk.both(server, None, &mass);
    walk.both(server, None, &link(links, StepKind::SelfAssessment));
    let org = link(links, StepKind::Org);
    walk.both(server, None, &org);
    walk.both(server, None, &format!("{org}/u/CS-T"));
    for lang in Lang::BOTH {
        let (status, html) = post(server, None, &mass, &[("comment", "x")], lang);
        walk.check(&format!("POST {mass} (incomplete)"), lang, status, &html);
    }
}

#[test]
fn every_page_of_a_unit_wave_speaks_one_language() {
    let db = TestDb::new();
    // The console's survey files: the shipped ones and one with mistakes.
    let surveys = tempfile::tempdir().expect("dir");
    for entry in std::fs::read_dir(support::survey_file("")).expect("surveys") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, surveys.path().join(path.file_name().unwrap())).expect("copy");
    }
    let liuhao = std::fs::read_to_string(support::survey_file("liuhao.toml")).expect("survey");
    let broken = liuhao
        .replacen("min_responses = ", "min_responses = 1 #", 1)
        .replacen("score = 100", "score = 300", 1);
    std::fs::write(surveys.path().join("broken.toml"), broken).expect("write");
    let mut config = db.config();
    config.survey_dir = surveys.path().to_owned();
    let state = sanping::app::AppState::open(config).expect("state");

    let closed = crate::report::fixed_wave(&state);
    let mut conn = state.pool.get().expect("conn");
    sanping::import::people(
        &mut conn,
        &std::fs::read(support::fixture("people.csv")).unwrap(),
    )
    .expect("people");
    auth::add_user(&mut conn, "org", Role::Organizer, "organizer-pass").unwrap();
    drop(conn);
    let draft = support::create_wave(&state, "liuhao.toml", None, false);
    let (open, open_links) = support::open_wave(&state, "liuhao.toml", None, true);
    let (sealed, sealed_links) = support::open_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().expect("conn");
    sanping::wave::close(&mut conn, sealed).expect("close");
    sanping::import::people(&mut conn, ADDED.as_bytes()).expect("added");
    drop(conn);
    let server = Server::start(state);
    let org = login(&server, "org", "organizer-pass").1.expect("org");
    let keeper = login(&server, support::HOLDER, support::HOLDER_PASSWORD)
        .1
        .expect("keeper");
    let mut walk = Walk::new(data());

    for path in ["/", "/s/nosuchtoken", "/admin/login"] {
        walk.both(&server, None, path);
    }
    walk.both(&server, None, &format!("/w/{open}/receipts"));
    for path in [
        "/admin",
        "/admin/audit",
        "/admin/units",
        "/admin/people",
        "/admin/people?q=CS-T",
        "/admin/surveys",
        "/admin/waves/new",
    ] {
        walk.both(&server, Some(&org), path);
    }
    // A draft.
    for page in ["", "/edit", "/preview", "/open"] {
        walk.both(&server, Some(&org), &format!("/admin/waves/{draft}{page}"));
    }
    // An open rehearsal wave, with someone added since it opened.
    for page in ["", "/remind", "/invite-added", "/close", "/purge"] {
        walk.both(&server, Some(&org), &format!("/admin/waves/{open}{page}"));
    }
    walk.both(&server, Some(&keeper), &format!("/admin/waves/{open}"));
    respondent_pages(&mut walk, &server, &open_links);
    // Closed, answers sealed (待开箱).
    walk.both(&server, Some(&org), &format!("/admin/waves/{sealed}"));
    walk.both(&server, Some(&keeper), &format!("/admin/waves/{sealed}"));
    walk.both(
        &server,
        Some(&keeper),
        &format!("/admin/waves/{sealed}/unseal"),
    );
    walk.both(&server, None, &link(&sealed_links, StepKind::Mass));
    // Closed and unsealed, then published.
    for published in [false, true] {
        if published {
            let mut conn = server.state.pool.get().expect("conn");
            sanping::wave::publish(&mut conn, closed).expect("publish");
        }
        let pages: &[&str] = if published { &[""] } else { &["", "/publish"] };
        for page in pages {
            walk.both(&server, Some(&org), &format!("/admin/waves/{closed}{page}"));
        }
        for page in ["", "/unit/CS-T", "/unit/CS-S1", "/print", "/tree"] {
            walk.both(
                &server,
                Some(&org),
                &format!("/admin/results/{closed}{page}"),
            );
        }
        walk.both(&server, None, &format!("/w/{closed}/receipts"));
        walk.both(
            &server,
            None,
            &format!("/w/{closed}/receipts?code=ABCD-EFGH"),
        );
    }

    // Refused forms come back in the page's language.
    let bad_waves: [&[(&str, &str)]; 5] = [
        &[
            ("title", "t"),
            ("survey", "nosuch.toml"),
            ("holder", "org"),
            ("holder", "keeper"),
        ],
        &[
            ("title", "t"),
            ("survey", "broken.toml"),
            ("holder", "org"),
            ("holder", "keeper"),
        ],
        &[
            ("title", "t"),
            ("survey", "liuhao.toml"),
            ("closes", "next friday"),
            ("holder", "org"),
            ("holder", "keeper"),
        ],
        &[("title", "t"), ("survey", "liuhao.toml")],
        &[
            ("title", "t"),
            ("survey", "liuhao.toml"),
            ("holder", "org"),
            ("holder", "keeper"),
            ("threshold", "two"),
        ],
    ];
    for fields in bad_waves {
        for lang in Lang::BOTH {
            let (status, html) = post(&server, Some(&org), "/admin/waves", fields, lang);
            assert_eq!(status, 422, "{fields:?}");
            walk.check(
                &format!("POST /admin/waves {fields:?}"),
                lang,
                status,
                &html,
            );
        }
    }
    let bad_csv = [
        (
            "/admin/units",
            "code,name,kind,parent\nX1,某单位,club,U\n,无代码,branch,U\nX2,某支部,branch,NOPE\n",
        ),
        (
            "/admin/people",
            "email,name,unit,category,role\nnot-an-email,某人,CS-T,faculty,member\nx@demo.edu.cn,,NOPE,faculty,boss\n",
        ),
        ("/admin/people", "name,email\n"),
    ];
    for (path, csv) in bad_csv {
        for lang in Lang::BOTH {
            let (status, html) = upload(&server, &org, path, csv, lang);
            assert_eq!(status, 422, "{path} {csv}");
            walk.check(&format!("POST {path} (bad lines)"), lang, status, &html);
        }
    }
    walk.finish();
}

#[test]
fn every_page_of_a_people_wave_speaks_one_language() {
    let db = TestDb::new();
    let (server, closed, draft, _) = crate::people_console::setup(&db);
    let (open, links) = support::open_wave(&server.state, "minzhu-pingyi.toml", None, false);
    let org = login(&server, "org", "organizer-pass").1.expect("org");
    let sec = login(&server, "sec", "secretary-pass").1.expect("sec");
    let mut walk = Walk::new(data());

    walk.both(&server, Some(&sec), "/admin");
    for page in ["", "/preview", "/open"] {
        walk.both(&server, Some(&org), &format!("/admin/waves/{draft}{page}"));
    }
    for page in ["", "/remind", "/close"] {
        walk.both(&server, Some(&org), &format!("/admin/waves/{open}{page}"));
    }
    let rater = token(
        links
            .iter()
            .find(|l| l.step == StepKind::Mass && l.email == "q1@demo.edu.cn")
            .expect("a rater"),
    );
    walk.both(&server, None, &rater);
    for lang in Lang::BOTH {
        let (status, html) = post(
            &server,
            None,
            &rater,
            &[("m1@demo.edu.cn:grade", "x")],
            lang,
        );
        walk.check(&format!("POST {rater} (incomplete)"), lang, status, &html);
    }
    let own = link(&links, StepKind::SelfAssessment);
    walk.both(&server, None, &own);
    for published in [false, true] {
        if published {
            let mut conn = server.state.pool.get().expect("conn");
            sanping::wave::publish(&mut conn, closed).expect("publish");
        }
        let pages: &[&str] = if published {
            &["", "/people"]
        } else {
            &["", "/people", "/publish"]
        };
        for page in pages {
            walk.both(&server, Some(&org), &format!("/admin/waves/{closed}{page}"));
        }
        walk.both(
            &server,
            Some(&sec),
            &format!("/admin/waves/{closed}/people"),
        );
        walk.both(&server, None, &format!("/w/{closed}/receipts"));
    }
    walk.finish();
}

/// Who posts, where, the fields, and the status expected.
/// A form's fields.
type Fields<'a> = &'a [(&'a str, &'a str)];

type Refusal<'a> = (&'a Browser, String, &'a [(&'a str, &'a str)], u16);

/// The error pages: an unknown page or wave, wave actions the wave's state refuses, a bad
/// closing time or slips count, a wrong password on a key check or an unseal. Each comes
/// back in the language of the request, its reason included.
#[test]
fn every_refusal_of_the_console_speaks_one_language() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let mut conn = state.pool.get().expect("conn");
    auth::add_user(&mut conn, "org", Role::Organizer, "organizer-pass").unwrap();
    drop(conn);
    let draft = support::create_wave(&state, "liuhao.toml", None, false);
    let (open, _) = support::open_wave(&state, "liuhao.toml", None, false);
    let (sealed, _) = support::open_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().expect("conn");
    sanping::wave::close(&mut conn, sealed).expect("close");
    drop(conn);
    let server = Server::start(state);
    let org = login(&server, "org", "organizer-pass").1.expect("org");
    let keeper = login(&server, support::HOLDER, support::HOLDER_PASSWORD)
        .1
        .expect("keeper");
    let mut walk = Walk::new(data());

    walk.both(&server, None, "/nosuch");
    walk.both(&server, None, "/admin");
    walk.both(&server, Some(&org), "/admin/nosuch");
    walk.both(&server, Some(&org), "/admin/waves/9999");
    walk.both(&server, Some(&org), "/admin/waves/abc");
    walk.both(&server, Some(&org), "/admin/results/abc/unit/CS");
    walk.both(&server, Some(&org), &format!("/admin/waves/{draft}/nosuch"));
    let refused: [Refusal; 14] = [
        (&org, format!("/admin/waves/{draft}/close"), &[], 409),
        (&org, format!("/admin/waves/{draft}/remind"), &[], 409),
        (&org, format!("/admin/waves/{draft}/publish"), &[], 409),
        (&org, format!("/admin/waves/{open}/open"), &[], 409),
        (&org, format!("/admin/waves/{open}/publish"), &[], 409),
        (&org, format!("/admin/waves/{open}/purge"), &[], 409),
        (&org, format!("/admin/waves/{sealed}/publish"), &[], 409),
        (
            &org,
            format!("/admin/waves/{open}/extend"),
            &[("closes", "2026-13-45 25:00")],
            400,
        ),
        (
            &org,
            format!("/admin/waves/{open}/extend"),
            &[("closes", "2001-01-01 10:00")],
            400,
        ),
        (
            &org,
            format!("/admin/waves/{sealed}/extend"),
            &[("closes", "2099-01-01 10:00")],
            409,
        ),
        (
            &org,
            format!("/admin/waves/{open}/slips"),
            &[("unit", "CS-T"), ("count", "many")],
            400,
        ),
        (
            &org,
            format!("/admin/waves/{open}/slips"),
            &[("unit", "CS-T"), ("count", "0")],
            409,
        ),
        (
            &keeper,
            format!("/admin/waves/{open}/check-key"),
            &[("password", "wrong-password")],
            422,
        ),
        (
            &keeper,
            format!("/admin/waves/{sealed}/unseal"),
            &[
                ("holder_1", support::HOLDER),
                ("password_1", "wrong-password"),
            ],
            422,
        ),
    ];
    for (b, path, fields, expected) in &refused {
        for lang in Lang::BOTH {
            let (status, html) = post(&server, Some(b), path, fields, lang);
            assert_eq!(
                status, *expected,
                "POST {path} {fields:?} ({lang:?}): {html}"
            );
            walk.check(&format!("POST {path} {fields:?}"), lang, status, &html);
        }
    }
    walk.finish();
}

/// The accounts page (`/admin/accounts`) and each of its refusals, for a scoped organizer
/// and an installation-wide one: unknown role, a scope outside the own, a taken name, a
/// short password, a bad name, a secretary without a branch, an unknown unit, and a new
/// password for a key holder whose shares are live. Each is 422 in the request's language,
/// and none changes an account. Then the API tokens page: the list, a new token shown once,
/// a bad rate limit, an unknown token to revoke.
#[test]
fn the_accounts_and_tokens_pages_and_their_refusals_speak_one_language() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let mut conn = state.pool.get().expect("conn");
    auth::add_user(&mut conn, "org", Role::Organizer, "organizer-pass").unwrap();
    auth::add_scoped_user_as(
        &mut conn,
        "test",
        None,
        "cs",
        Role::Organizer,
        Some("CS"),
        "cs-organizer-pass",
    )
    .unwrap();
    drop(conn);
    // An open sealed wave: its key holder's shares are live.
    support::open_wave(&state, "liuhao.toml", None, false);
    let before = accounts(&state);
    let server = Server::start(state.clone());
    let org = login(&server, "org", "organizer-pass").1.expect("org");
    let cs = login(&server, "cs", "cs-organizer-pass").1.expect("cs");
    let mut data = data();
    data.extend(["cs", "NOPE", "a b", "自动化"].map(str::to_owned));
    let mut walk = Walk::new(data);
    walk.both(&server, Some(&cs), "/admin/accounts");
    walk.both(&server, Some(&org), "/admin/accounts");
    let form = |name: &'static str, role: &'static str, scope: &'static str, pw: &'static str| {
        vec![
            ("username", name),
            ("role", role),
            ("scope", scope),
            ("password", pw),
        ]
    };
    let refused = [
        (&cs, form("n1", "boss", "CS-T", "long-enough-1")),
        (&cs, form("n2", "viewer", "LIB", "long-enough-1")),
        (&cs, form("org", "viewer", "CS-T", "long-enough-1")),
        (&cs, form("n3", "viewer", "CS-T", "short")),
        (&cs, form("a b", "viewer", "CS-T", "long-enough-1")),
        (&org, form("n4", "secretary", "", "long-enough-1")),
        (&org, form("n5", "viewer", "NOPE", "long-enough-1")),
        (
            &org,
            form(support::HOLDER, "organizer", "", "long-enough-1"),
        ),
    ];
    for (b, fields) in &refused {
        for lang in Lang::BOTH {
            let (status, html) = post(&server, Some(b), "/admin/accounts", fields, lang);
            assert_eq!(status, 422, "{fields:?} ({lang:?}): {html}");
            assert!(html.contains("class=\"errors\""), "{fields:?}: {html}");
            walk.check(
                &format!("POST /admin/accounts {fields:?}"),
                lang,
                status,
                &html,
            );
        }
    }
    assert_eq!(accounts(&state), before, "a refusal changed an account");

    walk.both(&server, Some(&org), "/admin/tokens");
    let tokens: [(&str, Fields, u16); 4] = [
        (
            "/admin/tokens",
            &[("label", "自动化"), ("per_minute", "")],
            200,
        ),
        (
            "/admin/tokens",
            &[("label", "x"), ("per_minute", "many")],
            422,
        ),
        ("/admin/tokens", &[("label", "x"), ("per_minute", "0")], 422),
        ("/admin/tokens/nosuchtoken/revoke", &[], 404),
    ];
    for (path, fields, expected) in tokens {
        for lang in Lang::BOTH {
            let (status, html) = post(&server, Some(&org), path, fields, lang);
            assert_eq!(status, expected, "{path} {fields:?} ({lang:?}): {html}");
            walk.check(&format!("POST {path} {fields:?}"), lang, status, &html);
        }
    }
    walk.both(&server, Some(&org), "/admin/tokens");
    walk.finish();
}

/// Every account with its password hash, role and scope.
fn accounts(state: &sanping::app::AppState) -> Vec<(String, String, String, Option<String>)> {
    let mut conn = state.pool.get().expect("conn");
    sanping::db::accounts::accounts(&mut conn)
        .expect("accounts")
        .into_iter()
        .map(|a| {
            let user = sanping::db::accounts::find_user(&mut conn, &a.username)
                .expect("find")
                .expect("there");
            (a.username, user.password_hash, user.role, user.scope)
        })
        .collect()
}
