//! The media library: a grid of the images, newest first, with search and a filter for the
//! unused ones; an upload form that works without JavaScript (and answers the editor's
//! script with JSON); each image's page with its sizes, where it is shown, its words, a
//! replacement and deletion (editors and admins).

use askama::Template;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Nav, Staff, page, parse_id, see_other};
use crate::domain::media::{MediaFile, planned_widths};
use crate::domain::{MediaId, time};
use crate::services::media::{MediaError, MediaText, Upload, files_of};
use crate::store::{Media, MediaQuery, MediaReads, MediaUse};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::form;
use crate::web::layout::Layout;

const PER_PAGE: u64 = 48;

/// A text field of an upload form: the editor's body is the longest.
const TEXT_FIELD: usize = crate::web::UPLOAD_FORM_ROOM;

/// A form that carried files: its text fields, and its files as sent.
pub struct UploadForm {
    pub pairs: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

fn unreadable(error: axum::extract::multipart::MultipartError) -> AppError {
    let text = error.body_text();
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE || text.contains("length limit") {
        return AppError::TooLarge;
    }
    tracing::info!(error = %text, "an upload could not be read");
    AppError::BadRequest(
        "The upload could not be read: it stopped before the end, or it was not sent by one of the newsroom's forms. Try again.",
    )
}

/// Reads a multipart form: each file (a field with a file name) whole, up to
/// `max_upload_bytes` each; a file input left empty is no file.
pub async fn read_upload_form(
    state: &AppState,
    mut multipart: Multipart,
) -> Result<UploadForm, AppError> {
    let max = state.config.max_upload_bytes;
    let mut form = UploadForm { pairs: Vec::new(), files: Vec::new() };
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let limit = if file_name.is_some() { max } else { TEXT_FIELD };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > limit {
                return Err(match &file_name {
                    Some(file) => AppError::FileTooLarge(format!(
                        "{} is larger than {} MB, the most an image may be (max_upload_bytes).",
                        if file.is_empty() { "The file" } else { file },
                        max / 1_000_000
                    )),
                    None => AppError::TooLarge,
                });
            }
        }
        match file_name {
            Some(file_name) if file_name.is_empty() && bytes.is_empty() => {}
            Some(file_name) => form.files.push(Upload { file_name, bytes }),
            None => {
                let value =
                    String::from_utf8(bytes).map_err(|_| AppError::BadRequest(form::NOT_UTF8))?;
                form.pairs.push((name, value));
            }
        }
    }
    Ok(form)
}

struct Tile {
    id: MediaId,
    thumbnail: String,
    file_name: String,
    alt: String,
    size: String,
    uses: i64,
    uploaded: String,
}

fn tile(m: &Media, tz: &jiff::tz::TimeZone) -> Tile {
    Tile {
        id: m.id,
        thumbnail: m.view().thumbnail(),
        file_name: m.file_name.clone(),
        alt: m.alt.clone(),
        size: format!("{} × {}", m.width, m.height),
        uses: m.uses,
        uploaded: time::date_and_time(m.created_at, tz),
    }
}

#[derive(Template)]
#[template(path = "admin/media.html")]
struct LibraryPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    tiles: Vec<Tile>,
    total: u64,
    q: String,
    unused: bool,
    newer: Option<String>,
    older: Option<String>,
    error: Option<String>,
    notice: Option<&'static str>,
    alt: String,
    max_mb: usize,
}

fn list_url(q: &str, unused: bool, page: u64) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if !q.is_empty() {
        query.append_pair("q", q);
    }
    if unused {
        query.append_pair("unused", "1");
    }
    query.append_pair("page", &page.to_string());
    format!("/admin/media?{}", query.finish())
}

/// `GET /admin/media`
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let notice = match form::query_value(query.as_deref(), "done").as_deref() {
        Some("deleted") => Some("The image was deleted."),
        _ => None,
    };
    render_list(&state, &staff, query.as_deref(), None, notice, String::new(), StatusCode::OK).await
}

async fn render_list(
    state: &AppState,
    staff: &Staff,
    query: Option<&str>,
    error: Option<String>,
    notice: Option<&'static str>,
    alt: String,
    status: StatusCode,
) -> Result<Response, AppError> {
    let q = form::query_value(query, "q").unwrap_or_default();
    let unused = form::query_value(query, "unused").is_some_and(|v| v == "1");
    let page_number: u64 = form::query_value(query, "page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let search = MediaQuery {
        search: Some(q.clone()).filter(|q| !q.trim().is_empty()),
        unused,
        limit: PER_PAGE,
        offset: (page_number - 1) * PER_PAGE,
    };
    let (items, total) = state
        .services
        .store
        .read(move |db| Box::pin(async move { db.media_list(&search).await }))
        .await?;
    let tz = &state.config.timezone;
    let template = LibraryPage {
        layout: Layout::new(&state.config, "Media"),
        nav: staff.nav(),
        tiles: items.iter().map(|m| tile(m, tz)).collect(),
        total,
        newer: (page_number > 1).then(|| list_url(&q, unused, page_number - 1)),
        older: (page_number * PER_PAGE < total).then(|| list_url(&q, unused, page_number + 1)),
        q,
        unused,
        error,
        notice,
        alt,
        max_mb: state.config.max_upload_bytes / 1_000_000,
    };
    Ok(page(status, template.render()?))
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn json(status: StatusCode, value: serde_json::Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

/// The Markdown that shows a library image.
pub fn markdown_for(m: &Media, alt: &str) -> String {
    let alt = alt.replace(['[', ']', '\n'], " ");
    format!("![{}]({})", alt.trim(), crate::domain::media::library_path(m.id))
}

/// `POST /admin/media`: one or more images. A browser's form gets `303` to the image's page
/// (or the library, for several); the editor's script gets JSON.
pub async fn upload(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let as_json = wants_json(&headers);
    let form = match read_upload_form(&state, multipart).await {
        Ok(form) => form,
        Err(AppError::FileTooLarge(message)) if as_json => {
            return Ok(json(
                StatusCode::PAYLOAD_TOO_LARGE,
                serde_json::json!({ "error": message }),
            ));
        }
        Err(e) => return Err(e),
    };
    staff.check_csrf(&form.pairs)?;
    let text = MediaText {
        alt: form::first(&form.pairs, "alt").unwrap_or_default().to_owned(),
        caption: form::first(&form.pairs, "caption").unwrap_or_default().to_owned(),
        credit: form::first(&form.pairs, "credit").unwrap_or_default().to_owned(),
    };
    if form.files.is_empty() {
        let message = "Choose an image to upload.".to_owned();
        if as_json {
            return Ok(json(
                StatusCode::UNPROCESSABLE_ENTITY,
                serde_json::json!({ "error": message }),
            ));
        }
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return render_list(&state, &staff, None, Some(message), None, text.alt, status).await;
    }
    let count = form.files.len();
    let mut uploaded = Vec::new();
    for file in form.files {
        let file_name = file.file_name.clone();
        match state.services.upload_image(Some(staff.user.id), file, &text).await {
            Ok(m) => uploaded.push(m),
            Err(e @ (MediaError::Refused(_) | MediaError::Fields(_))) => {
                let message =
                    if file_name.is_empty() { e.to_string() } else { format!("{file_name}: {e}") };
                if as_json {
                    return Ok(json(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        serde_json::json!({ "error": message, "file": file_name }),
                    ));
                }
                let status = StatusCode::UNPROCESSABLE_ENTITY;
                return render_list(&state, &staff, None, Some(message), None, text.alt, status)
                    .await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if as_json {
        let items: Vec<serde_json::Value> = uploaded
            .iter()
            .map(|m| {
                serde_json::json!({
                    "id": m.id.get(),
                    "file_name": m.file_name,
                    "markdown": markdown_for(m, &m.alt),
                    "thumbnail": m.view().thumbnail(),
                    "alt": m.alt,
                    "page": format!("/admin/media/{}/", m.id),
                })
            })
            .collect();
        return Ok(json(StatusCode::CREATED, serde_json::json!({ "images": items })));
    }
    match (count, uploaded.first()) {
        (1, Some(m)) => Ok(see_other(&format!("/admin/media/{}/?done=uploaded", m.id))),
        _ => Ok(see_other("/admin/media")),
    }
}

struct Variant {
    label: String,
    url: String,
}

#[derive(Template)]
#[template(path = "admin/media_item.html")]
struct ItemPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    item: &'a Media,
    preview: String,
    markdown: String,
    variants: Vec<Variant>,
    pending: Vec<u32>,
    uses: Vec<MediaUse>,
    text: MediaText,
    error: Option<String>,
    notice: Option<&'static str>,
    may_delete: bool,
    uploaded: String,
    kilobytes: i64,
}

async fn render_item(
    state: &AppState,
    staff: &Staff,
    id: MediaId,
    text: Option<MediaText>,
    error: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (item, uses) = state
        .services
        .store
        .read(move |db| {
            Box::pin(async move {
                let item = db.media(id).await?;
                let uses = db.media_uses(id).await?;
                Ok((item, uses))
            })
        })
        .await?;
    let item = item.ok_or(AppError::NotFound)?;
    let variants = files_of(&item)
        .into_iter()
        .map(|f: MediaFile| Variant {
            label: match f.width {
                Some(w) => format!("{w} px wide, {}", f.format.as_str().to_uppercase()),
                None => format!(
                    "original, {} × {}, {}",
                    item.width,
                    item.height,
                    f.format.as_str().to_uppercase()
                ),
            },
            url: f.url(),
        })
        .collect();
    let pending = planned_widths(item.format, item.width)
        .into_iter()
        .filter(|w| !item.widths.contains(w))
        .collect();
    let text = text.unwrap_or_else(|| MediaText {
        alt: item.alt.clone(),
        caption: item.caption.clone(),
        credit: item.credit.clone(),
    });
    let template = ItemPage {
        layout: Layout::new(&state.config, &format!("Image: {}", item.file_name)),
        nav: staff.nav(),
        preview: item.view().thumbnail(),
        markdown: markdown_for(&item, &item.alt),
        variants,
        pending,
        uses,
        text,
        error,
        notice,
        may_delete: staff.user.role.edits_all_articles(),
        uploaded: time::date_and_time(item.created_at, &state.config.timezone),
        kilobytes: (item.bytes + 1023) / 1024,
        item: &item,
    };
    Ok(page(status, template.render()?))
}

/// `GET /admin/media/{id}/`
pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let id: MediaId = parse_id(&id)?;
    let notice = match form::query_value(query.as_deref(), "done").as_deref() {
        Some("uploaded") => Some("Uploaded. Its other sizes are being made."),
        Some("saved") => Some("Saved."),
        Some("replaced") => Some("Replaced: articles that show it show the new picture."),
        _ => None,
    };
    render_item(&state, &staff, id, None, None, notice, StatusCode::OK).await
}

/// `POST /admin/media/{id}/`: alt text, caption, credit.
pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, AppError> {
    let id: MediaId = parse_id(&id)?;
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let value = |name| form::first(&pairs, name).unwrap_or_default().to_owned();
    let text = MediaText { alt: value("alt"), caption: value("caption"), credit: value("credit") };
    match state.services.update_media_text(&staff.user, id, &text).await {
        Ok(()) => Ok(see_other(&format!("/admin/media/{id}/?done=saved"))),
        Err(MediaError::Fields(errors)) => {
            let message = errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" ");
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_item(&state, &staff, id, Some(text), Some(message), None, status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/media/{id}/replace`: new files for the same library entry.
pub async fn replace(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let id: MediaId = parse_id(&id)?;
    let form = read_upload_form(&state, multipart).await?;
    staff.check_csrf(&form.pairs)?;
    let Some(file) = form.files.into_iter().next() else {
        let message = Some("Choose the picture to replace it with.".to_owned());
        return render_item(
            &state,
            &staff,
            id,
            None,
            message,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match state.services.replace_image(&staff.user, id, file).await {
        Ok(()) => Ok(see_other(&format!("/admin/media/{id}/?done=replaced"))),
        Err(e @ (MediaError::Refused(_) | MediaError::Fields(_))) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_item(&state, &staff, id, None, Some(e.to_string()), None, status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/media/{id}/delete`
pub async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, AppError> {
    let id: MediaId = parse_id(&id)?;
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    match state.services.delete_image(&staff.user, id).await {
        Ok(()) => Ok(see_other("/admin/media?done=deleted")),
        Err(MediaError::InUse(uses)) => {
            let names: Vec<String> = uses.iter().map(|u| format!("“{}”", u.headline)).collect();
            let message = format!(
                "This image cannot be deleted: it is shown by {}. Take it out of {} first.",
                names.join(", "),
                if uses.len() == 1 { "that article" } else { "those articles" }
            );
            render_item(&state, &staff, id, None, Some(message), None, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}
