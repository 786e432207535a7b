//! Page templates and static assets, compiled into the binary (`templates/`).

use actix_web::http::header;
use actix_web::{HttpResponse, web as aw};
use handlebars::Handlebars;
use rust_embed::RustEmbed;
use serde::Serialize;

use crate::error::AppError;

#[derive(RustEmbed)]
#[folder = "templates/"]
#[include = "*.hbs"]
struct TemplateFiles;

#[derive(RustEmbed)]
#[folder = "templates/static/"]
struct StaticFiles;

/// All templates, named by path without `.hbs` (`pages/home`), in strict mode so a missing
/// field is an error, not an empty string.
pub fn registry() -> anyhow::Result<Handlebars<'static>> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_embed_templates_with_extension::<TemplateFiles>(".hbs")?;
    Ok(hb)
}

/// The names of every template (for the test that renders them all).
pub fn names() -> Vec<String> {
    TemplateFiles::iter()
        .map(|f| f.trim_end_matches(".hbs").to_owned())
        .collect()
}

/// Renders a page as an HTML response with `status`.
pub fn page<T: Serialize>(
    hb: &Handlebars<'_>,
    status: actix_web::http::StatusCode,
    name: &str,
    ctx: &T,
) -> Result<HttpResponse, AppError> {
    let body = hb.render(name, ctx)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// `GET /static/{file}`: a compiled-in asset.
pub async fn asset(file: aw::Path<String>) -> Result<HttpResponse, AppError> {
    let file = file.into_inner();
    let asset = StaticFiles::get(&file).ok_or(AppError::NotFound)?;
    let mime = match file.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("js") => "text/javascript; charset=utf-8",
        _ => "application/octet-stream",
    };
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(asset.data.into_owned()))
}
