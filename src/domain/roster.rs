//! Unit-tree and roster files (CSV): parsing and every check that can be made without the
//! database. A file with any bad row yields every problem with its line number, so the
//! caller can import all or nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde::Serialize;

/// The kinds of unit in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 校党委, the root.
    Committee,
    /// 党总支.
    GeneralBranch,
    /// 直属党支部.
    DirectBranch,
    /// 党支部.
    Branch,
}

impl UnitKind {
    /// The id used in files and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Committee => "committee",
            Self::GeneralBranch => "general_branch",
            Self::DirectBranch => "direct_branch",
            Self::Branch => "branch",
        }
    }

    /// Reads the id used in files and the database.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Committee,
            Self::GeneralBranch,
            Self::DirectBranch,
            Self::Branch,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// The Chinese name of the kind.
    pub fn label(self) -> &'static str {
        match self {
            Self::Committee => "党委",
            Self::GeneralBranch => "党总支",
            Self::DirectBranch => "直属党支部",
            Self::Branch => "党支部",
        }
    }
}

/// Roster roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// An ordinary member of the unit (or of the masses it serves).
    Member,
    /// 支部书记: fills in the unit's self-assessment.
    Secretary,
    /// 考评组成员: scores units in the org step.
    Committee,
    /// 党员: a Party member, rated in 民主评议党员 (people surveys with `rated_roles = ["party"]`).
    /// Listed after the first three so the stored, sorted role strings of older rosters keep
    /// their order.
    Party,
    /// 领导干部: a cadre of the unit's leadership, rated in 领导班子和领导干部民主测评.
    Cadre,
}

impl Role {
    /// The id used in files and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Secretary => "secretary",
            Self::Committee => "committee",
            Self::Party => "party",
            Self::Cadre => "cadre",
        }
    }

    /// Reads the id used in files and the database.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Member,
            Self::Secretary,
            Self::Committee,
            Self::Party,
            Self::Cadre,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// A problem with one line of a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    /// What is wrong, naming the column and value (English, as the CLI prints it).
    pub message: String,
    /// The same in Chinese, for the console's Chinese pages.
    pub zh: String,
}

impl RowError {
    /// A problem on `line`, said in English and Chinese.
    pub fn new(line: u64, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self {
            line,
            message: en.into(),
            zh: zh.into(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A valid row of the unit file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRow {
    /// Line in the file.
    pub line: u64,
    /// The unit's code (its key).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: UnitKind,
    /// Its parent's code; `None` only for the root.
    pub parent: Option<String>,
}

/// A valid row of the roster file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// Line in the file.
    pub line: u64,
    /// The address, lowercased (the person's key).
    pub email: String,
    /// The person's name.
    pub name: String,
    /// The code of the unit the person belongs to.
    pub unit: String,
    /// e.g. `faculty`, `student`, `retired`.
    pub category: String,
    /// Roles, sorted and distinct; at least `member`.
    pub roles: Vec<Role>,
}

/// Joins roles for storage: sorted, `;`-separated.
pub fn roles_to_string(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

/// A CSV file read into header-named rows, with the line of each row.
struct Table {
    rows: Vec<(u64, HashMap<&'static str, String>)>,
}

fn read_table(bytes: &[u8], columns: &[&'static str], errors: &mut Vec<RowError>) -> Option<Table> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let header = match records.next() {
        None => {
            errors.push(RowError::new(
                1,
                format!(
                    "the file is empty; expected a header line: {}",
                    columns.join(",")
                ),
                format!("文件是空的；第一行应为表头：`{}`", columns.join(",")),
            ));
            return None;
        }
        Some(Err(e)) => {
            errors.push(csv_error(&e));
            return None;
        }
        Some(Ok(h)) => h,
    };
    let names: Vec<String> = header
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_lowercase())
        .collect();
    let mut index = Vec::new();
    for &col in columns {
        match names.iter().position(|n| n == col) {
            Some(i) => index.push((col, i)),
            None => errors.push(RowError::new(
                1,
                format!(
                    "missing column \"{col}\" in the header (expected: {})",
                    columns.join(",")
                ),
                format!("表头缺少 `{col}` 列（应为：`{}`）", columns.join(",")),
            )),
        }
    }
    if index.len() != columns.len() {
        return None;
    }
    let mut rows = Vec::new();
    let mut lines = LineCounter::default();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(csv_error(&e));
                continue;
            }
        };
        let line = record
            .position()
            .map_or(0, |p| lines.line_at(bytes, p.byte()));
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        if record.len() != names.len() {
            errors.push(RowError::new(
                line,
                format!("expected {} fields, found {}", names.len(), record.len()),
                format!("应有 {} 列，实有 {} 列", names.len(), record.len()),
            ));
            continue;
        }
        let mut row = HashMap::new();
        let mut ok = true;
        for &(col, i) in &index {
            if let Ok(v) = std::str::from_utf8(&record[i]) {
                // Names say so in their own words (a line break from Excel is common).
                if col != "name" && v.chars().any(char::is_control) {
                    errors.push(RowError::new(
                        line,
                        format!("column \"{col}\" contains a control character"),
                        format!("`{col}` 列含有控制字符"),
                    ));
                    ok = false;
                }
                row.insert(col, v.trim().to_owned());
            } else {
                errors.push(RowError::new(
                    line,
                    format!("column \"{col}\" is not valid UTF-8 (save the file as UTF-8)"),
                    format!("`{col}` 列不是有效的 UTF-8 文本（请将文件另存为 UTF-8）"),
                ));
                ok = false;
            }
        }
        if ok {
            rows.push((line, row));
        }
    }
    Some(Table { rows })
}

/// Finds the line a record starts on from its byte offset. `csv::Position::line` cannot be
/// used: it lags by one after skipped blank lines and, in CRLF files (what Excel writes),
/// on every record (rust-csv issues #208 and #395). Offsets must come in increasing order.
#[derive(Default)]
struct LineCounter {
    /// Bytes before this offset have been counted.
    at: usize,
    /// Line breaks before `at`.
    breaks: u64,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], offset: u64) -> u64 {
        let mut start = usize::try_from(offset).map_or(bytes.len(), |o| o.min(bytes.len()));
        // A record's offset may point at the terminator before it and at skipped blank lines.
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        for i in self.at..start.max(self.at) {
            // `\n`, `\r\n` and a lone `\r` each end one line.
            if bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                self.breaks += 1;
            }
        }
        self.at = start.max(self.at);
        self.breaks + 1
    }
}

fn csv_error(e: &csv::Error) -> RowError {
    RowError::new(
        e.position().map_or(1, csv::Position::line),
        format!("not a readable CSV line: {e}"),
        "无法读取的 CSV 行（请检查引号和分隔符）",
    )
}

/// Parses a unit file (`code,name,kind,parent`) against the units already stored
/// (`existing`: code → parent). Returns the rows ordered parents first, ready to be
/// written one by one without breaking a reference.
pub fn parse_units(
    bytes: &[u8],
    existing: &BTreeMap<String, Option<String>>,
) -> Result<Vec<UnitRow>, Vec<RowError>> {
    let mut errors = Vec::new();
    let Some(table) = read_table(bytes, &["code", "name", "kind", "parent"], &mut errors) else {
        return Err(errors);
    };
    let mut rows: Vec<UnitRow> = Vec::new();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for (line, mut r) in table.rows {
        let code = r.remove("code").unwrap_or_default();
        let name = r.remove("name").unwrap_or_default();
        let kind_raw = r.remove("kind").unwrap_or_default();
        let parent = r.remove("parent").filter(|p| !p.is_empty());
        let mut bad = |en: String, zh: String| errors.push(RowError::new(line, en, zh));
        if code.is_empty() {
            bad(
                "column \"code\" is empty".into(),
                "`code`（代码）列为空".into(),
            );
            continue;
        }
        if code.chars().any(|c| c.is_whitespace() || c.is_control()) {
            bad(
                format!(
                    "code \"{}\" contains white space or a control character",
                    code.escape_debug()
                ),
                format!("代码“{}”含有空白或控制字符", code.escape_debug()),
            );
        }
        if let Some(&first) = first_line.get(&code) {
            bad(
                format!("duplicate code \"{code}\" (first on line {first})"),
                format!("代码“{code}”重复（首次出现在第 {first} 行）"),
            );
            continue;
        }
        first_line.insert(code.clone(), line);
        if name.is_empty() {
            bad(
                format!("unit \"{code}\": column \"name\" is empty"),
                format!("单位“{code}”：名称为空"),
            );
        } else if name.chars().any(char::is_control) {
            // An Excel cell with Alt+Enter: it would break mail headers and terminals.
            bad(
                format!(
                    "unit \"{code}\": the name contains a line break or another control character"
                ),
                format!("单位“{code}”：名称含有换行或其他控制字符"),
            );
        }
        let kind = UnitKind::parse(&kind_raw);
        if kind.is_none() {
            bad(
                format!(
                    "unit \"{code}\": unknown kind \"{kind_raw}\" (use committee, general_branch, direct_branch or branch)"
                ),
                format!(
                    "单位“{code}”：未知类型“{kind_raw}”（可用 `committee` 党委、`general_branch` 党总支、`direct_branch` 直属党支部、`branch` 党支部）"
                ),
            );
        }
        if parent.as_deref() == Some(code.as_str()) {
            bad(
                format!("unit \"{code}\" names itself as its parent"),
                format!("单位“{code}”的上级是它自己"),
            );
        }
        if let Some(kind) = kind {
            rows.push(UnitRow {
                line,
                code,
                name,
                kind,
                parent,
            });
        }
    }
    check_tree(&rows, existing, &mut errors);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(errors);
    }
    Ok(parents_first(rows, existing))
}

/// The tree after the import: stored units, overridden by the file's rows.
fn merged_tree<'a>(
    rows: &'a [UnitRow],
    existing: &'a BTreeMap<String, Option<String>>,
) -> BTreeMap<&'a str, Option<&'a str>> {
    let mut merged: BTreeMap<&str, Option<&str>> = existing
        .iter()
        .map(|(c, p)| (c.as_str(), p.as_deref()))
        .collect();
    for row in rows {
        merged.insert(&row.code, row.parent.as_deref());
    }
    merged
}

/// Parents must exist, only one unit may lack a parent, and no unit may be its own ancestor.
fn check_tree(
    rows: &[UnitRow],
    existing: &BTreeMap<String, Option<String>>,
    errors: &mut Vec<RowError>,
) {
    let merged = merged_tree(rows, existing);
    let roots: Vec<&str> = merged
        .iter()
        .filter(|(_, p)| p.is_none())
        .map(|(c, _)| *c)
        .collect();
    for row in rows {
        match &row.parent {
            Some(p) if !merged.contains_key(p.as_str()) => errors.push(RowError::new(
                row.line,
                format!("unit \"{}\": unknown parent \"{p}\"", row.code),
                format!("单位“{}”：上级“{p}”不存在", row.code),
            )),
            None if roots.len() > 1 => errors.push(RowError::new(
                row.line,
                format!(
                    "unit \"{}\" has no parent, but only the root may have none (units without a parent: {})",
                    row.code,
                    roots.join(", ")
                ),
                format!(
                    "单位“{}”没有上级，但只有根单位可以没有上级（没有上级的单位：{}）",
                    row.code,
                    roots.join("、")
                ),
            )),
            _ => {}
        }
        if in_cycle(&merged, &row.code) {
            errors.push(RowError::new(
                row.line,
                format!("unit \"{}\" is part of a cycle of parents", row.code),
                format!("单位“{}”的上级关系构成循环", row.code),
            ));
        }
    }
}

/// Orders rows so that every parent comes before its children (then by file order).
fn parents_first(rows: Vec<UnitRow>, existing: &BTreeMap<String, Option<String>>) -> Vec<UnitRow> {
    let merged = merged_tree(&rows, existing);
    let depths: Vec<usize> = rows
        .iter()
        .map(|r| {
            let mut d = 0usize;
            let mut at = merged.get(r.code.as_str()).copied().flatten();
            while let Some(p) = at {
                d += 1;
                at = merged.get(p).copied().flatten();
            }
            d
        })
        .collect();
    drop(merged);
    let mut ordered: Vec<(usize, UnitRow)> = depths.into_iter().zip(rows).collect();
    ordered.sort_by_key(|(d, r)| (*d, r.line));
    ordered.into_iter().map(|(_, r)| r).collect()
}

fn in_cycle(tree: &BTreeMap<&str, Option<&str>>, start: &str) -> bool {
    let mut seen = HashSet::new();
    let mut at = Some(start);
    while let Some(code) = at {
        if !seen.insert(code) {
            return code == start;
        }
        at = tree.get(code).copied().flatten();
    }
    false
}

/// A plain check of an address: one `@`, something before it, a dotted domain after it,
/// no spaces or control characters. Delivery is the real test; this catches typos.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && s.len() <= 254
        && !s.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        })
}

/// Parses a roster file (`email,name,unit,category,role`) against the known unit codes.
pub fn parse_people(
    bytes: &[u8],
    units: &HashSet<String>,
) -> Result<Vec<PersonRow>, Vec<RowError>> {
    let mut errors = Vec::new();
    let Some(table) = read_table(
        bytes,
        &["email", "name", "unit", "category", "role"],
        &mut errors,
    ) else {
        return Err(errors);
    };
    let mut rows = Vec::new();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for (line, mut r) in table.rows {
        let raw_email = r.remove("email").unwrap_or_default();
        let email = raw_email.to_lowercase();
        let name = r.remove("name").unwrap_or_default();
        let unit = r.remove("unit").unwrap_or_default();
        let category = r.remove("category").unwrap_or_default();
        let role_raw = r.remove("role").unwrap_or_default();
        let before = errors.len();
        let mut bad = |en: String, zh: String| errors.push(RowError::new(line, en, zh));
        if !is_email(&email) {
            bad(
                format!("\"{raw_email}\" is not an email address"),
                format!("“{raw_email}”不是邮箱地址"),
            );
        } else if let Some(&first) = first_line.get(&email) {
            bad(
                format!("duplicate email \"{raw_email}\" (first on line {first})"),
                format!("邮箱“{raw_email}”重复（首次出现在第 {first} 行）"),
            );
        } else {
            first_line.insert(email.clone(), line);
        }
        if name.is_empty() {
            bad("column \"name\" is empty".into(), "姓名为空".into());
        } else if name.chars().any(char::is_control) {
            // An Excel cell with Alt+Enter: it would break the mail's To header.
            bad(
                "the name contains a line break or another control character".into(),
                "姓名含有换行或其他控制字符".into(),
            );
        }
        if unit.is_empty() {
            bad("column \"unit\" is empty".into(), "单位代码为空".into());
        } else if !units.contains(&unit) {
            bad(
                format!("unknown unit \"{unit}\" (import the unit tree first)"),
                format!("单位“{unit}”不存在（请先导入组织）"),
            );
        }
        if category.is_empty() {
            bad(
                "column \"category\" is empty (e.g. faculty, student, retired)".into(),
                "类别为空（如 `faculty` 教工、`student` 学生、`retired` 离退休）".into(),
            );
        }
        let mut roles = Vec::new();
        for part in role_raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            match Role::parse(&part.to_lowercase()) {
                Some(role) => roles.push(role),
                None => bad(
                    format!(
                        "unknown role \"{part}\" (use member, secretary, committee, party or cadre, separated by ';')"
                    ),
                    format!(
                        "未知角色“{part}”（可用 `member` 成员、`secretary` 书记、`committee` 考评组、`party` 党员、`cadre` 领导干部，用 `;` 分隔）"
                    ),
                ),
            }
        }
        if roles.is_empty() {
            roles.push(Role::Member);
        }
        roles.sort();
        roles.dedup();
        if errors.len() == before {
            rows.push(PersonRow {
                line,
                email,
                name,
                unit,
                category,
                roles,
            });
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests;
