//! `/api/v1/units…` and `/api/v1/people/import`: the unit tree and roster imports.
//!
//! An import takes the CSV file itself (`Content-Type: text/csv`) or JSON rows
//! (`{"rows":[{"code":…,"name":…,"kind":…,"parent":…}]}`), which are written out as that CSV
//! (header first, so JSON row *i*, counting from 1, is line *i* + 1) and checked by the same code as
//! `sanping units import` and the console: the same validation, the same line errors, all
//! or nothing. A row outside the account's scope is a line error too.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web as aw};
use serde::Serialize;
use serde_json::{Value, json};

use super::{ApiError, ApiResult, Paging, blocking, caller, detail, ok, scope_of};
use crate::app::AppState;
use crate::auth::Role;
use crate::db;
use crate::domain::roster::RowError;
use crate::import::{self, ImportError};

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
    let kind = if units_file {
        import::File::Units
    } else {
        import::File::People
    };
    let outcome = blocking(&state, move |conn| {
        let scope = scope_of(&who);
        let result = import::audited(conn, (kind, &csv), &scope, &who.username, |r| {
            detail(&who, &r.to_string())
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
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_json",
                format!(
                    "row {} has an unknown field \"{k}\"; the fields are {}",
                    i + 1,
                    columns.join(", ")
                ),
            ));
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
