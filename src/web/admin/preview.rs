//! `GET /admin/waves/{id}/preview[?unit=CODE]`: the questionnaire as an invited person of a
//! unit sees it, for an organizer to check before (and while) the wave runs. Nothing on the
//! page can be submitted.

use actix_web::{HttpRequest, HttpResponse, web as aw};

use super::blocking;
use crate::app::AppState;
use crate::auth::Role;
use crate::db::waves as db_waves;
use crate::error::AppError;
use crate::web::home::lang_of;
use crate::web::respond::{Ctx, render_preview};
use crate::web::session::require;

/// `GET /admin/waves/{id}/preview`.
pub async fn show(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    crate::web::guard::wave_async(&state, &session, *id).await?;
    let id = id.into_inner();
    let wanted = crate::web::query_param(&req, "unit");
    let st = state.clone();
    let ctx = blocking(&state, move |conn| {
        let wave = db_waves::find_head(conn, id)?.ok_or(AppError::NotFound)?;
        let full = crate::wave::get(conn, id).map_err(|e| AppError::Internal(e.to_string()))?;
        let frame =
            crate::wave::frame(conn, &full).map_err(|e| AppError::Internal(e.to_string()))?;
        let unit = match wanted {
            Some(code) => frame.into_iter().find(|u| u.code == code),
            None => frame.into_iter().next(),
        }
        .ok_or(AppError::NotFound)?;
        let survey = st.survey(conn, id)?;
        Ok(Ctx {
            survey,
            invitation: crate::db::waves::Invitation {
                id: String::new(),
                wave_id: id,
                person: None,
                unit: unit.code.clone(),
                step: "mass".into(),
                token_hash: None,
                used: false,
                reminders: 0,
            },
            unit_name: unit.name,
            wave,
        })
    })
    .await?;
    let html = render_preview(&state, lang_of(&req), &ctx)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}
