//! The published receipts page, `GET /w/{wave}/receipts`: how many answer sheets a
//! published wave counted and a check of one receipt code. Never the list itself.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use serde::Serialize;

use super::home::{Layout, lang_of};
use super::templates::page;
use crate::app::AppState;
use crate::domain::token;
use crate::error::AppError;
use crate::respond;

/// The receipts page: a search box and the count, never the whole list (thousands of codes
/// would make a phone page tens of thousands of pixels tall, and nobody reads them).
#[derive(Serialize)]
struct ReceiptsPage {
    layout: Layout,
    wave_title: String,
    published: bool,
    count: usize,
    query: String,
    /// The code checked, as normalized (`ABCDE-FGHIJ`), when it was well formed.
    checked: Option<String>,
    found: Option<bool>,
    record_hash: Option<String>,
}

/// `GET /w/{wave}/receipts[?code=…]`: after publication, how many receipts the wave counted
/// and a check of one; before that, when it will be available.
pub async fn receipts(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<String>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let id: i32 = id.parse().map_err(|_| AppError::NotFound)?;
    let query = super::query_param(&req, "code").unwrap_or_default();
    let st = state.clone();
    let (wave, codes, record_hash) = aw::block(move || -> Result<_, AppError> {
        let mut conn = st.pool.get()?;
        let wave = crate::db::waves::find(&mut conn, id)?.ok_or(AppError::NotFound)?;
        let published = crate::wave::State::parse(&wave.state) == crate::wave::State::Published
            && !wave.is_test;
        let codes = if published {
            respond::receipts(&mut conn, id)?
        } else {
            Vec::new()
        };
        let record = if published {
            crate::record::hash_of(&mut conn, id)?
        } else {
            None
        };
        Ok((wave, codes, record))
    })
    .await??;
    // Only a published, real wave shows anything: not even the title of a draft, an open
    // wave or a rehearsal.
    let published =
        crate::wave::State::parse(&wave.state) == crate::wave::State::Published && !wave.is_test;
    let checked = token::normalize_receipt(&query).filter(|_| published);
    let found = (!query.trim().is_empty() && published).then(|| {
        checked
            .as_ref()
            .is_some_and(|q| codes.binary_search(q).is_ok())
    });
    let t = super::i18n::strings(lang);
    let ctx = ReceiptsPage {
        layout: Layout::new(lang, t.receipts_title, &format!("/w/{id}/receipts")),
        wave_title: if published { wave.title } else { String::new() },
        published,
        count: codes.len(),
        query,
        checked,
        found,
        record_hash,
    };
    let status = if published {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    page(&state.templates, status, "pages/respond/receipts", &ctx)
}
