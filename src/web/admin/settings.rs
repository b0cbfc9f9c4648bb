//! Discussion settings, for admins. A setting fixed by a `BYLINE_*` variable (or the
//! configuration file) is shown, but cannot be changed here.

use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Nav, Staff, page, see_other};
use crate::domain::{FieldError, SettingKey, message_for};
use crate::services::settings;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::form;
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    fields: Vec<SettingField>,
    saved: bool,
    has_errors: bool,
    /// How readers' mail leaves, or why it does not.
    mail: String,
    /// Mails given up lately: when, about what, and why.
    given_up: Vec<(String, String, String)>,
}

/// What the settings page says of mail.
fn mail_state(mail: &crate::mail::MailSettings) -> String {
    use crate::mail::MailMode;
    match mail.mode {
        MailMode::Off => "Email notifications are off: readers are not offered them, and \
             nothing is mailed. To turn them on, set `mail` (BYLINE_MAIL) to smtp or sendmail, \
             with the SMTP settings and the site's public address (`base_url`); see README."
            .into(),
        MailMode::Smtp => format!(
            "Email notifications are on: mail leaves through {}:{} as {}.",
            mail.smtp_host, mail.smtp_port, mail.from
        ),
        MailMode::Sendmail => {
            format!("Email notifications are on: mail leaves through sendmail as {}.", mail.from)
        }
    }
}

struct SettingField {
    key: &'static str,
    /// Part of the site's identity, shown first and apart.
    identity: bool,
    label: &'static str,
    help: &'static str,
    value: String,
    /// The variable that fixes it, if one does.
    fixed: Option<String>,
    error: Option<String>,
    /// `select`, `textarea` or `input`.
    kind: &'static str,
    choices: &'static [&'static str],
}

/// Label, help and kind of each setting.
fn describe(
    key: SettingKey,
) -> (&'static str, &'static str, &'static str, &'static [&'static str]) {
    match key {
        SettingKey::SiteTitle => (
            "The site's name",
            "In every page's header and title, in feeds and in mail.",
            "input",
            &[],
        ),
        SettingKey::Tagline => ("Tagline", "A line under the name, in the header.", "input", &[]),
        SettingKey::Logo => (
            "Logo",
            "An image of the media library (/media/12) or an https:// address; shown beside the name.",
            "input",
            &[],
        ),
        SettingKey::AccentColour => (
            "Accent colour",
            "Buttons and links, such as #1f3a5f; empty for the usual blue. Check that text on it stays readable.",
            "input",
            &[],
        ),
        SettingKey::FooterText => {
            ("Footer text", "A line at the foot of every page.", "input", &[])
        }
        SettingKey::FooterLinks => (
            "Footer links",
            "One a line: Label | address (a path on this site, such as /about/, or an https:// address).",
            "textarea",
            &[],
        ),
        SettingKey::CustomCss => (
            "Custom CSS",
            "Added after the site's stylesheet, as a file of its own.",
            "textarea",
            &[],
        ),
        SettingKey::Moderation => (
            "Moderation",
            "none: publish at once; first-time: hold a reply unless its email address has an approved one; all: hold every reply.",
            "select",
            &["none", "first-time", "all"],
        ),
        SettingKey::MaxLinks => {
            ("Hold replies with more links than", "A number, or off.", "input", &[])
        }
        SettingKey::HoldList => (
            "Hold list",
            "Words, email addresses or IP addresses, one a line: a reply that contains one is held.",
            "textarea",
            &[],
        ),
        SettingKey::SpamList => (
            "Spam list",
            "One a line: a reply that contains one goes straight to spam.",
            "textarea",
            &[],
        ),
        SettingKey::CloseAfterDays => (
            "Close replies after (days)",
            "Replies close on articles older than this; 0 never closes them.",
            "input",
            &[],
        ),
        SettingKey::ThreadDepth => {
            ("Threading depth", "How deep replies to replies nest (1 to 20).", "input", &[])
        }
        SettingKey::RepliesPerPage => (
            "Replies per page",
            "Top-level replies a page, newest page first; 0 shows all on one page.",
            "input",
            &[],
        ),
        SettingKey::Honeypot => (
            "Honeypot field",
            "A hidden field that robots fill in: their replies go to spam.",
            "select",
            &["on", "off"],
        ),
        SettingKey::MinFillSeconds => (
            "Hold replies sent faster than (seconds)",
            "After the page was served; 0 turns this off.",
            "input",
            &[],
        ),
        SettingKey::RateLimitPerMinute => (
            "Replies a minute from one address",
            "More get “429 Too Many Requests”; 0 turns the limit off.",
            "input",
            &[],
        ),
        SettingKey::DuplicateCheck => (
            "Refuse duplicates",
            "The same text from the same email on the same article within a day.",
            "select",
            &["on", "off"],
        ),
        SettingKey::EditWindowMinutes => (
            "Readers may edit or delete their reply for (minutes)",
            "From the browser that posted it, after posting; 0 never (at most 1440, a day).",
            "input",
            &[],
        ),
        SettingKey::EmbedOrigins => (
            "Sites that may embed replies",
            "One a line, such as https://blog.example: pages there may show a thread and its form with embed.js. Exactly as written: no path, no *.",
            "textarea",
            &[],
        ),
    }
}

/// The mails given up lately, as the page lists them: when, about what (a link to the
/// reply), and the last answer or error.
async fn given_up(state: &AppState) -> Result<Vec<(String, String, String)>, AppError> {
    let zone = &state.config.timezone;
    let found = crate::services::mail::given_up(&state.services).await?;
    Ok(found
        .into_iter()
        .map(|g| {
            let when = crate::domain::time::date_and_time(g.at, zone);
            let about =
                g.reply_id.map(|id| format!("/admin/replies/{id}/edit")).unwrap_or_default();
            (when, about, g.reason)
        })
        .collect())
}

/// A refused form: what was typed, and the message for each bad setting.
type Submitted<'a> = (&'a [(String, String)], &'a [FieldError]);

async fn render(
    state: &AppState,
    staff: &Staff,
    submitted: Option<Submitted<'_>>,
    saved: bool,
) -> Result<Response, AppError> {
    let effective = settings::effective(&state.services).await?;
    let fields = SettingKey::ALL
        .into_iter()
        .map(|key| {
            let (label, help, kind, choices) = describe(key);
            let name = key.name();
            let typed =
                submitted.and_then(|(pairs, _)| form::first(pairs, name).map(str::to_owned));
            SettingField {
                key: name,
                identity: key.is_identity(),
                label,
                help,
                value: typed.unwrap_or_else(|| effective.settings.value(key)),
                fixed: effective.fixed.get(&key).cloned(),
                error: submitted
                    .and_then(|(_, errors)| message_for(errors, name).map(str::to_owned)),
                kind,
                choices,
            }
        })
        .collect::<Vec<_>>();
    let has_errors = fields.iter().any(|f| f.error.is_some());
    let template = SettingsPage {
        layout: Layout::new(&state.config, "Settings"),
        nav: staff.nav(),
        fields,
        saved,
        has_errors,
        mail: mail_state(&state.config.mail),
        given_up: given_up(state).await?,
    };
    let status = if has_errors { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(page(status, template.render()?))
}

pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, AppError> {
    staff.require_admin()?;
    let saved = form::query_value(query.as_deref(), "saved").is_some();
    render(&state, &staff, None, saved).await
}

pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    staff.require_admin()?;
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    match settings::save(&state.services, &staff.user, &pairs).await? {
        Ok(()) => Ok(see_other("/admin/settings?saved=1")),
        Err(errors) => render(&state, &staff, Some((&pairs, &errors)), false).await,
    }
}
