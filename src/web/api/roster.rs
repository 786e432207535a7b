//! `/api/v1/units…` and `/api/v1/people/import`: the unit tree and roster imports.
//!
//! An import takes the CSV file itself (`Content-Type: text/csv`) or JSON rows
//! (`{"rows":[{"code":…,"name":…,"kind":…,"parent":…}]}`), which are written out as that CSV
//! (header first, so JSON row *i*, counting from 1, is line *i* + 1) and checked by the same code as
//! `sanping units import` and the console: the same validation, the same line errors, all
//! or nothing. A row outside the account's scope is a line error too.

use std::collections::{BTreeMap, HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web as aw};
use serde::Serialize;
use serde_json::{Value, json};

use super::{ApiError, ApiResult, Paging, blocking, caller, detail, ok, scope_of};
use crate::app::AppState;
use crate::auth::{self, Role};
use crate::db::units::Unit;
use crate::db::{self, DbConn};
use crate::domain::roster::{self, RowError};
use crate::import::{self, ImportError, ImportReport};
use crate::scope::Scope;

/// The columns of the unit file.
const UNIT_COLUMNS: [&str; 4] = ["code", "name", "kind", "parent"];
/// The columns of the roster file.
const PEOPLE_COLUMNS: [&str; 5] = ["email", "name", "unit", "category", "role"];

/// A unit as the API shows it.
#[derive(Serialize)]
struct UnitOut<'a> {
    code: &'a str,
    name: &'a str,
    kind: &'a str,
    parent: Option<&'a str>,
    active: bool,
}

/// `GET /api/v1/units`: the units inside the account's scope, by code, paginated.
pub async fn list(req: HttpRequest, state: aw::Data<AppState>) -> ApiResult {
    let who = caller(&req, &state, Role::Organizer).await?;
    let paging = Paging::of(&req)?;
    let (all, inactive) = blocking(&state, |conn| {
        Ok((
            db::units::all(conn)?,
            db::inactive::of_kind(conn, db::inactive::UNIT)?,
        ))
    })
    .await?;
    let rows: Vec<UnitOut<'_>> = scope_of(&who)
        .units(&all)
        .into_iter()
        .map(|u| UnitOut {
            code: &u.code,
            name: &u.name,
            kind: &u.kind,
            parent: u.parent.as_deref(),
            active: !inactive.contains(&u.code),
        })
        .collect();
    ok(&paging.page(&rows))
}

/// `POST /api/v1/units/import`: imports units, audited as `units.import`.
pub async fn import_units(
    req: HttpRequest,
    state: aw::Data<AppState>,
    body: aw::Bytes,
) -> ApiResult {
    import(req, state, body, true).await
}

/// `POST /api/v1/people/import`: imports people, audited as `people.import`.
pub async fn import_people(
    req: HttpRequest,
    state: aw::Data<AppState>,
    body: aw::Bytes,
) -> ApiResult {
    import(req, state, body, false).await
}

async fn import(
    req: HttpRequest,
    state: aw::Data<AppState>,
    body: aw::Bytes,
    units_file: bool,
) -> ApiResult {
    let who = caller(&req, &state, Role::Organizer).await?;
    let columns: &[&str] = if units_file {
        &UNIT_COLUMNS
    } else {
        &PEOPLE_COLUMNS
    };
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let csv = if content_type.starts_with("application/json") {
        csv_of_json(&body, columns)?
    } else if content_type.starts_with("text/csv") || content_type.starts_with("text/plain") {
        body.to_vec()
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the CSV file as text/csv, or JSON rows as application/json",
        ));
    };
    let action = if units_file {
        "units.import"
    } else {
        "people.import"
    };
    let outcome = blocking(&state, move |conn| {
        let scope = scope_of(&who);
        // The scope check, the import and its audit entry in one transaction.
        let result = db::write_tx(conn, |conn| -> Result<ImportReport, ImportError> {
            let outside = if units_file {
                units_outside(conn, &scope, &csv)?
            } else {
                people_outside(conn, &scope, &csv)?
            };
            if !outside.is_empty() {
                return Err(ImportError::Rows(outside));
            }
            let report = if units_file {
                import::units(conn, &csv)?
            } else {
                import::people(conn, &csv)?
            };
            auth::record(
                conn,
                &who.username,
                action,
                &detail(&who, &report.to_string()),
            )?;
            Ok(report)
        });
        match result {
            Ok(report) => Ok(Ok(report)),
            Err(ImportError::Rows(rows)) => Ok(Err(rows)),
            Err(ImportError::Db(e)) => Err(e.into()),
        }
    })
    .await?;
    match outcome {
        Ok(report) => ok(&json!({
            "added": report.added,
            "changed": report.changed,
            "unchanged": report.unchanged,
        })),
        Err(rows) => Err(rows_error(&rows)),
    }
}

/// 422 `invalid_rows` with every bad row: `details.rows = [{line, message}]`.
fn rows_error(rows: &[RowError]) -> ApiError {
    let list: Vec<Value> = rows
        .iter()
        .map(|r| json!({"line": r.line, "message": r.message}))
        .collect();
    ApiError::unprocessable(
        "invalid_rows",
        format!("{} bad row(s); nothing was imported", rows.len()),
    )
    .with_details(json!({ "rows": list }))
}

/// JSON rows (`{"rows":[{column: value}]}`) written as the CSV file they stand for. A
/// missing column is empty (the CSV checks say what it needed); `role` may be a list.
fn csv_of_json(body: &[u8], columns: &[&str]) -> Result<Vec<u8>, ApiError> {
    #[derive(serde::Deserialize)]
    struct Rows {
        rows: Vec<serde_json::Map<String, Value>>,
    }
    let Rows { rows } = super::json_body(body)?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| ApiError::from(crate::error::AppError::Internal(e.to_string()));
    out.write_record(columns).map_err(internal)?;
    for (i, row) in rows.iter().enumerate() {
        if let Some(k) = row.keys().find(|k| !columns.contains(&k.as_str())) {
            return Err(ApiError::bad_request(format!(
                "row {} has an unknown field \"{k}\"; the fields are {}",
                i + 1,
                columns.join(", ")
            )));
        }
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match row.get(*c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(";"),
                Some(other) => other.to_string(),
            })
            .collect();
        out.write_record(&cells).map_err(internal)?;
    }
    out.into_inner()
        .map_err(|e| ApiError::from(crate::error::AppError::Internal(e.to_string())))
}

/// The rows of a unit file that reach outside `scope`: a unit outside it now, or one the
/// file would put outside it (its parent). The scope's own root may be renamed but not
/// moved. Rows that do not parse are left to the import, which names them.
fn units_outside(
    conn: &mut DbConn,
    scope: &Scope,
    csv: &[u8],
) -> diesel::QueryResult<Vec<RowError>> {
    let Some(root) = scope.root() else {
        return Ok(Vec::new());
    };
    let stored = db::units::all(conn)?;
    let tree: BTreeMap<String, Option<String>> = stored
        .iter()
        .map(|u| (u.code.clone(), u.parent.clone()))
        .collect();
    let Ok(rows) = roster::parse_units(csv, &tree) else {
        return Ok(Vec::new());
    };
    let mut after: HashMap<String, Unit> =
        stored.iter().map(|u| (u.code.clone(), u.clone())).collect();
    for r in &rows {
        after.insert(
            r.code.clone(),
            Unit {
                code: r.code.clone(),
                name: r.name.clone(),
                kind: r.kind.as_str().to_owned(),
                parent: r.parent.clone(),
            },
        );
    }
    let after: Vec<Unit> = after.into_values().collect();
    // The scope's codes before and after the file, once each.
    let codes = |units: &[Unit]| -> HashSet<String> {
        scope
            .units(units)
            .into_iter()
            .map(|u| u.code.clone())
            .collect()
    };
    let (inside_before, inside_after) = (codes(&stored), codes(&after));
    let mut bad = Vec::new();
    for r in &rows {
        let inside_now = !tree.contains_key(&r.code) || inside_before.contains(&r.code);
        let moves_root = r.code == root && tree.get(&r.code) != Some(&r.parent);
        if !inside_now || !inside_after.contains(&r.code) || moves_root {
            bad.push(RowError::new(
                r.line,
                format!(
                    "unit \"{}\" is outside your scope ({root} and the units below it)",
                    r.code
                ),
                format!("单位“{}”不在您的范围内（{root} 及其下级单位）", r.code),
            ));
        }
    }
    Ok(bad)
}

/// The rows of a roster file outside `scope`: a person whose unit lies outside it, or one
/// already on the roster in a unit outside it.
fn people_outside(
    conn: &mut DbConn,
    scope: &Scope,
    csv: &[u8],
) -> diesel::QueryResult<Vec<RowError>> {
    let Some(root) = scope.root() else {
        return Ok(Vec::new());
    };
    let units = db::units::all(conn)?;
    let codes = units.iter().map(|u| u.code.clone()).collect();
    let Ok(rows) = roster::parse_people(csv, &codes) else {
        return Ok(Vec::new());
    };
    // One read of the roster, not one per row: a university's file has 20,000 rows.
    let stored: HashMap<String, String> = db::people::all(conn)?
        .into_iter()
        .map(|p| (p.email, p.unit))
        .collect();
    // The scope's codes once (each `contains` indexes the whole tree).
    let inside_codes: HashSet<&str> = scope
        .units(&units)
        .into_iter()
        .map(|u| u.code.as_str())
        .collect();
    let mut bad = Vec::new();
    for r in &rows {
        let inside = inside_codes.contains(r.unit.as_str())
            && stored
                .get(&r.email)
                .is_none_or(|u| inside_codes.contains(u.as_str()));
        if !inside {
            bad.push(RowError::new(
                r.line,
                format!(
                    "{}: unit \"{}\" is outside your scope ({root} and the units below it)",
                    r.email, r.unit
                ),
                format!(
                    "{}：单位“{}”不在您的范围内（{root} 及其下级单位）",
                    r.email, r.unit
                ),
            ));
        }
    }
    Ok(bad)
}
