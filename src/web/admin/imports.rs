//! The newsroom's Import page, for admins: upload a WordPress or Disqus export (streamed
//! into the database in chunks, never held whole), follow the job any node runs, read its
//! summary; and the whole site's downloads, as a JSON dump or a WordPress file.

use askama::Template;
use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::{Nav, Staff, page, parse_id, see_other};
use crate::domain::{ImportJobId, time};
use crate::store::{ImportJob, ImportJobReads, JobState};
use crate::tools::import::jobs::{self, Format};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::layout::Layout;

/// Chunks of the upload as stored: large enough to be few, small enough to hold.
const CHUNK_BYTES: usize = 1024 * 1024;
/// The longest a field before the file may be.
const SMALL_FIELD: usize = 4096;

fn admins_only(staff: &Staff) -> Result<(), AppError> {
    if staff.user.role.manages_users() {
        Ok(())
    } else {
        Err(AppError::Forbidden("Only admins import and export the site.".into()))
    }
}

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    jobs: Vec<JobRow>,
    max_bytes: String,
    error: Option<String>,
}

struct JobRow {
    id: ImportJobId,
    file_name: String,
    format: &'static str,
    state: &'static str,
    when: String,
    progress: String,
}

fn format_label(format: &str) -> &'static str {
    match format {
        "disqus" => "Disqus",
        _ => "WordPress",
    }
}

fn state_label(state: JobState) -> &'static str {
    match state {
        JobState::Uploading => "uploading",
        JobState::Waiting => "waiting for a node",
        JobState::Running => "running",
        JobState::Done => "done",
        JobState::Failed => "failed",
    }
}

/// `1 GB`, `250 MB`: a size as people say it.
fn size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)];
    for (unit, one) in UNITS {
        if bytes >= one {
            let n = bytes as f64 / one as f64;
            return if n.fract() < 0.05 {
                format!("{n:.0} {unit}")
            } else {
                format!("{n:.1} {unit}")
            };
        }
    }
    format!("{bytes} bytes")
}

fn progress_text(job: &ImportJob) -> String {
    match job.state {
        JobState::Running | JobState::Done if job.items_total > 0 => {
            let mut text = format!("{} of {} items", job.items_done, job.items_total);
            if job.replies_total > 0 {
                text.push_str(&format!(", {} of {} replies", job.replies_done, job.replies_total));
            }
            text
        }
        JobState::Uploading => format!("{} received", size(job.file_bytes.max(0) as u64)),
        _ => String::new(),
    }
}

async fn render_list(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let found = state.services.store.read(|db| db.import_jobs(20)).await?;
    let tz = &state.config.timezone;
    let jobs = found
        .iter()
        .map(|j| JobRow {
            id: j.id,
            file_name: j.file_name.clone(),
            format: format_label(&j.format),
            state: state_label(j.state),
            when: time::date_and_time(j.created_at, tz),
            progress: progress_text(j),
        })
        .collect();
    let template = ImportPage {
        layout: Layout::new(&state.config, "Import and export"),
        nav: staff.nav(),
        jobs,
        max_bytes: size(state.config.max_import_bytes as u64),
        error,
    };
    Ok(page(status, template.render()?))
}

/// `GET /admin/import`
pub async fn show(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    admins_only(&staff)?;
    render_list(&state, &staff, None, StatusCode::OK).await
}

/// `POST /admin/import`: the form's fields in order (the token, the format, then the file),
/// the file streamed into the database a chunk at a time; then `303` to the job's page.
pub async fn upload(
    State(state): State<AppState>,
    staff: Staff,
    mut form: Multipart,
) -> Result<Response, AppError> {
    admins_only(&staff)?;
    let refuse = |message: &str| {
        render_list(&state, &staff, Some(message.to_owned()), StatusCode::UNPROCESSABLE_ENTITY)
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(unreadable(&state, e)),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name != "file" {
            let value = small_field(&state, field).await?;
            pairs.push((name, value));
            continue;
        }
        staff.check_csrf(&pairs)?;
        let chosen = |name| crate::web::form::first(&pairs, name);
        let Some(format) = chosen("format").and_then(Format::parse) else {
            return refuse("Choose what the file is: a WordPress export or a Disqus export.").await;
        };
        let file_name = field.file_name().unwrap_or_default().trim().to_owned();
        if file_name.is_empty() {
            return refuse("Choose the file to import.").await;
        }
        let upload = jobs::Upload {
            format,
            file_name,
            user: staff.user.id,
            dry_run: chosen("dry_run").is_some(),
            keep_pingbacks: chosen("pingbacks") == Some("keep"),
        };
        return receive(&state, &staff, &upload, field).await;
    }
    staff.check_csrf(&pairs)?;
    refuse("Choose the file to import.").await
}

/// A form field before the file (the token, the choices): a few bytes, never more than
/// [`SMALL_FIELD`], read before the token is checked.
async fn small_field(
    state: &AppState,
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<String, AppError> {
    let mut value = Vec::new();
    while let Some(bytes) = field.chunk().await.map_err(|e| unreadable(state, e))? {
        value.extend_from_slice(&bytes);
        if value.len() > SMALL_FIELD {
            return Err(AppError::BadRequest(
                "The upload could not be read: a field of the form was far too long. Try again from the Import page.",
            ));
        }
    }
    String::from_utf8(value).map_err(|_| AppError::BadRequest(crate::web::form::NOT_UTF8))
}

/// The file's bytes into a new job, chunk by chunk.
async fn receive(
    state: &AppState,
    staff: &Staff,
    upload: &jobs::Upload,
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<Response, AppError> {
    let services = &state.services;
    let job = jobs::start_upload(services, upload).await?;
    let (mut buffer, mut seq, mut total) = (Vec::with_capacity(CHUNK_BYTES), 0i64, 0u64);
    loop {
        let bytes = match field.chunk().await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => break,
            Err(e) => {
                let error = unreadable(state, e);
                let why = match &error {
                    AppError::TooLarge => {
                        "The file was larger than the import limit (max_import_bytes)."
                    }
                    _ => "The upload stopped before the whole file arrived.",
                };
                jobs::abandon(services, job, why).await?;
                return Err(error);
            }
        };
        total += bytes.len() as u64;
        buffer.extend_from_slice(&bytes);
        if buffer.len() >= CHUNK_BYTES {
            let full = std::mem::replace(&mut buffer, Vec::with_capacity(CHUNK_BYTES));
            jobs::add_chunk(services, job, seq, full).await?;
            seq += 1;
        }
    }
    if total == 0 {
        jobs::abandon(services, job, "The file was empty.").await?;
        return render_list(
            state,
            staff,
            Some("The file is empty: choose the export file again.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if !buffer.is_empty() {
        jobs::add_chunk(services, job, seq, buffer).await?;
    }
    jobs::finish_upload(services, job, total as i64).await?;
    Ok(see_other(&format!("/admin/import/{job}")))
}

/// A multipart body that stopped making sense: too large (the route's limit cut it off), or
/// cut short or malformed.
fn unreadable(state: &AppState, error: axum::extract::multipart::MultipartError) -> AppError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::TooLarge;
    }
    let text = error.body_text();
    if text.contains("length limit") {
        return AppError::TooLarge;
    }
    tracing::info!(error = %text, max = state.config.max_import_bytes, "an import upload could not be read");
    AppError::BadRequest(
        "The upload could not be read: it stopped before the end, or it was not sent by the Import form. Try again from the Import page.",
    )
}

#[derive(Template)]
#[template(path = "admin/import_job.html")]
struct JobPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    job: &'a ImportJob,
    format: &'static str,
    state: &'static str,
    /// Still going: the page reloads itself.
    going: bool,
    size: String,
    progress: String,
    /// `(kind, status, count)`
    imported: Vec<(String, String, u64)>,
    already: Vec<(String, String, u64)>,
    skipped: Vec<(String, u64)>,
    notes: Vec<String>,
}

fn rows(value: &Value) -> Vec<(String, String, u64)> {
    let mut rows = Vec::new();
    for (kind, statuses) in value.as_object().into_iter().flatten() {
        for (status, n) in statuses.as_object().into_iter().flatten() {
            rows.push((kind.clone(), status.clone(), n.as_u64().unwrap_or(0)));
        }
    }
    rows
}

/// `GET /admin/import/{id}`: how the job stands; once done, its summary.
pub async fn job(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    admins_only(&staff)?;
    let id: ImportJobId = parse_id(&id)?;
    let job =
        state.services.store.read(move |db| db.import_job(id)).await?.ok_or(AppError::NotFound)?;
    let summary: Value =
        job.summary.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
    let skipped = summary["skipped"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(reason, n)| (reason.clone(), n.as_u64().unwrap_or(0)))
        .collect();
    let mut notes: Vec<String> = summary["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect();
    if let Some(more) = summary["more_notes"].as_u64().filter(|n| *n > 0) {
        notes.push(format!("…and {more} more notes."));
    }
    let template = JobPage {
        layout: Layout::new(&state.config, &format!("Import: {}", job.file_name)),
        nav: staff.nav(),
        format: format_label(&job.format),
        state: state_label(job.state),
        going: matches!(job.state, JobState::Uploading | JobState::Waiting | JobState::Running),
        size: size(job.file_bytes.max(0) as u64),
        progress: progress_text(&job),
        imported: rows(&summary["imported"]),
        already: rows(&summary["already_there"]),
        skipped,
        notes,
        job: &job,
    };
    Ok(page(StatusCode::OK, template.render()?))
}

/// `GET /admin/export/site.jsonl` and `/admin/export/site.xml`: the whole site, written to a
/// temporary file first (the dump reads the database in pages), then sent from it.
pub async fn download(
    State(state): State<AppState>,
    staff: Staff,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    admins_only(&staff)?;
    let wxr = match name.as_str() {
        "site.jsonl" => false,
        "site.xml" => true,
        _ => return Err(AppError::NotFound),
    };
    let path = crate::tools::import::xml::temp_path("export")
        .map_err(|e| AppError::Store(crate::store::StoreError::Database(e.to_string())))?;
    let written = write_export(&state, &path, wxr).await;
    let file = written.and_then(|()| std::fs::File::open(&path).map_err(|e| e.to_string()));
    // Unlinked now: the open file is read to its end all the same, and nothing is left behind.
    let _ = std::fs::remove_file(&path);
    let file = file.map_err(|e| AppError::Store(crate::store::StoreError::Database(e)))?;
    let today =
        time::date_path(state.services.clock.now(), &state.config.timezone).replace('/', "-");
    let (kind, extension) =
        if wxr { ("application/xml", "xml") } else { ("application/x-ndjson", "jsonl") };
    let mut response =
        Response::new(Body::from_stream(stream_file(tokio::fs::File::from_std(file))));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"byline-{today}.{extension}\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

async fn write_export(state: &AppState, path: &std::path::Path, wxr: bool) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut out = std::io::BufWriter::new(file);
    let store = &state.services.store;
    if wxr {
        let config = &state.config;
        let site = crate::tools::wxr::Site {
            title: &config.site_title,
            base_url: &config.base_url,
            tz: &config.timezone,
        };
        crate::tools::wxr::export(store, &site, &mut out).await.map_err(|e| e.to_string())?;
    } else {
        crate::tools::export::export(store, &mut out).await.map_err(|e| e.to_string())?;
    }
    std::io::Write::flush(&mut out).map_err(|e| e.to_string())
}

/// A file's bytes as a body, 64 KiB at a time.
fn stream_file(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> {
    use tokio::io::AsyncReadExt;
    futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buffer = vec![0u8; 64 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(bytes::Bytes::from(buffer)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

/// `/admin/import/` → `/admin/import`
pub async fn to_page() -> Response {
    see_other("/admin/import")
}
