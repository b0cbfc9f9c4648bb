//! The pages behind the links in readers' mail: confirming an address, unsubscribing (RFC
//! 8058's one-click POST, and a button for people), and the list of what an address follows.
//! A GET never changes anything: mail scanners follow links. Every page is personal (never
//! cached, never sent as a referrer), and a token that is not genuine changes nothing.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::AppState;
use super::error::AppError;
use super::layout::Layout;
use super::response::{Caching, html};
use crate::mail::message::Link;
use crate::services::mail::{self, Unsubscribed};
use crate::store::{MailAddress, Subscription};

#[derive(Template)]
#[template(path = "mail_page.html")]
struct MailPage<'a> {
    layout: Layout<'a>,
    title: &'a str,
    lines: Vec<String>,
    /// The page's actions, each a POST (the first the main one).
    buttons: Vec<Link>,
    follows: Vec<Follow>,
    links: Vec<Link>,
}

/// One subscription as the manage page lists it.
struct Follow {
    title: String,
    url: Option<String>,
    what: &'static str,
    unsubscribe: String,
}

fn page(
    state: &AppState,
    status: StatusCode,
    title: &str,
    lines: Vec<String>,
    buttons: Vec<Link>,
    follows: Vec<Follow>,
    links: Vec<Link>,
) -> Result<Response, AppError> {
    let layout = Layout::public(&state.config, title, state.services.known_nav());
    let body = MailPage { layout, title, lines, buttons, follows, links }.render()?;
    let mut response = html(status, body, Caching::Private);
    // The address holds a token: it must not travel to the sites the page links to.
    response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    Ok(response)
}

fn not_genuine(state: &AppState) -> Result<Response, AppError> {
    page(
        state,
        StatusCode::NOT_FOUND,
        "This link does not work",
        vec![
            "The link is not one this site sent, or what it was for has ended (an address \
             that was never confirmed is forgotten after 30 days). Nothing was changed."
                .into(),
        ],
        Vec::new(),
        Vec::new(),
        Vec::new(),
    )
}

/// `a…@example.com`: enough for the owner to recognise, little for anyone looking over a
/// shoulder.
fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => "your address".into(),
    }
}

/// The button that forgets the address with everything it follows.
fn stop_everything(state: &AppState, address: &MailAddress) -> Link {
    let token = mail::address_token(&state.services, address);
    Link::new("Stop every email from this site to this address", format!("/unsubscribe/{token}"))
}

fn manage_link(state: &AppState, address: &MailAddress) -> Link {
    let token = mail::address_token(&state.services, address);
    Link::new("See and manage what this address follows", format!("/subscriptions/{token}"))
}

/// `GET /mail/confirm/{token}`: a button that confirms (a link alone must not).
pub async fn confirm_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let Some(address) = mail::address_of_token(&state.services, &token).await? else {
        return not_genuine(&state);
    };
    if address.confirmed_at.is_some() {
        return confirmed(&state, &address);
    }
    let site = &state.services.known_identity().site_title.clone();
    let lines = vec![format!(
        "Press the button to let {site} send {} an email when there are new replies it asked \
         to follow.",
        masked(&address.email)
    )];
    let button = Link::new("Confirm my address", format!("/mail/confirm/{token}"));
    page(&state, StatusCode::OK, "Confirm your address", lines, vec![button], vec![], vec![])
}

/// `POST /mail/confirm/{token}`
pub async fn confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    match mail::confirm(&state.services, &token).await? {
        Some(address) => confirmed(&state, &address),
        None => not_genuine(&state),
    }
}

fn confirmed(state: &AppState, address: &MailAddress) -> Result<Response, AppError> {
    let lines = vec![format!(
        "{} will get an email when there are new replies it follows. Every email has a link \
         to stop them.",
        masked(&address.email)
    )];
    let links = vec![manage_link(state, address)];
    page(state, StatusCode::OK, "Your address is confirmed", lines, vec![], vec![], links)
}

/// `GET /unsubscribe/{token}`: says what the button ends; ends nothing itself.
pub async fn unsubscribe_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let services = &state.services;
    let (what, address) = if mail::author_of_token(services, &token).is_some() {
        ("new replies on your articles (your account page turns them on again)".to_owned(), None)
    } else if let Some(address) = mail::address_of_token(services, &token).await? {
        (format!("every subscription of {}", masked(&address.email)), None)
    } else if let Some(subscription) = mail::subscription_of_token(services, &token).await? {
        (describe(&subscription), mail::address_of(services, &subscription).await?)
    } else {
        return not_genuine(&state);
    };
    let lines = vec![format!("Press the button to stop emails about {what}.")];
    let mut buttons = vec![Link::new("Unsubscribe", format!("/unsubscribe/{token}"))];
    let mut links = Vec::new();
    if let Some(address) = address {
        buttons.push(stop_everything(&state, &address));
        links.push(manage_link(&state, &address));
    }
    page(&state, StatusCode::OK, "Unsubscribe", lines, buttons, vec![], links)
}

fn describe(subscription: &Subscription) -> String {
    match subscription.reply_id {
        Some(_) => format!("replies to your comment on “{}”", subscription.title),
        None => format!("new replies to “{}”", subscription.title),
    }
}

/// `POST /unsubscribe/{token}`: the mail client's one-click (`List-Unsubscribe=One-Click`,
/// RFC 8058) or the page's button; either way the token alone decides.
pub async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let services = &state.services;
    let (mut buttons, mut links) = (Vec::new(), Vec::new());
    let lines = match mail::unsubscribe(services, &token).await? {
        None => return not_genuine(&state),
        Some(Unsubscribed::All) => {
            vec!["This address is forgotten, with everything it followed. No more emails.".into()]
        }
        Some(Unsubscribed::Author) => vec![
            "No more emails about new replies on your articles. Your account page turns them \
             on again."
                .into(),
        ],
        Some(Unsubscribed::One(subscription)) => {
            // The rest of what the address follows stays: say how to end it too.
            if let Some(address) = mail::address_of(services, &subscription).await? {
                buttons.push(stop_everything(&state, &address));
                links.push(manage_link(&state, &address));
            }
            vec![format!("No more emails about {}.", describe(&subscription))]
        }
    };
    page(&state, StatusCode::OK, "You are unsubscribed", lines, buttons, vec![], links)
}

/// `GET /subscriptions/{token}`: what an address follows, each with its own button.
pub async fn manage(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let services = &state.services;
    let Some(address) = mail::address_of_token(services, &token).await? else {
        return not_genuine(&state);
    };
    let follows: Vec<Follow> = mail::subscriptions(services, &address)
        .await?
        .iter()
        .map(|s| Follow {
            title: s.title.clone(),
            url: s.path.clone(),
            what: if s.reply_id.is_some() { "replies to your comment" } else { "every new reply" },
            unsubscribe: format!(
                "/unsubscribe/{}",
                mail::subscription_token(services, s.id, s.created_at)
            ),
        })
        .collect();
    let mut lines = vec![format!(
        "What {} follows on {}:",
        masked(&address.email),
        state.services.known_identity().site_title
    )];
    if follows.is_empty() {
        lines = vec![format!("{} follows nothing.", masked(&address.email))];
    }
    if address.confirmed_at.is_none() {
        lines.push("The address is not confirmed yet: nothing is sent until it is.".into());
    }
    let everything = Link::new(
        "Unsubscribe from everything and forget this address",
        format!("/unsubscribe/{token}"),
    );
    page(&state, StatusCode::OK, "Your subscriptions", lines, vec![everything], follows, vec![])
}

/// `GET /moderate/{token}`: a held-reply mail's button, shown before it acts (mail scanners
/// follow links; a GET changes nothing).
pub async fn moderation_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let services = &state.services;
    let Some(link) = mail::moderation_link(services, &token) else {
        return expired(&state);
    };
    let Some(news) = mail::reply_news(services, link.reply).await? else {
        return expired(&state);
    };
    let label = mail::LINK_DECISIONS
        .iter()
        .find(|(verb, _)| *verb == link.decision)
        .map_or("Go on", |(_, label)| *label);
    let mut lines = vec![format!("{} wrote, on “{}”:", news.author_name, news.title)];
    lines.extend(news.body.lines().map(str::to_owned));
    lines.push(format!("It is {} now.", news.status.as_str()));
    let button = Link::new(label, format!("/moderate/{token}"));
    let title = format!("{label}: are you sure?");
    page(&state, StatusCode::OK, &title, lines, vec![button], vec![], vec![queue_link()])
}

fn queue_link() -> Link {
    Link::new("Open the moderation queue", "/admin/replies/".into())
}

fn expired(state: &AppState) -> Result<Response, AppError> {
    page(
        state,
        StatusCode::NOT_FOUND,
        "This link does not work",
        vec![format!(
            "The link is not one this site sent, or it is older than {} days. Nothing was \
             changed: moderate the reply from the queue.",
            mail::LINK_DAYS
        )],
        vec![],
        vec![],
        vec![queue_link()],
    )
}

/// `POST /moderate/{token}`: the decision, once, as the moderator the mail went to.
pub async fn moderate(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let Some(link) = mail::moderation_link(&state.services, &token) else {
        return expired(&state);
    };
    let (status, title, line) = match mail::use_moderation_link(&state.services, &link).await? {
        mail::LinkOutcome::Done => {
            let done = match link.decision {
                "approve" => "The reply is approved: it is public now.",
                "spam" => "The reply is marked as spam.",
                _ => "The reply is in the trash.",
            };
            (StatusCode::OK, "Done", done.to_owned())
        }
        mail::LinkOutcome::Used => (
            StatusCode::CONFLICT,
            "This link was used already",
            "Each button of the email works once. Nothing more was changed.".to_owned(),
        ),
        mail::LinkOutcome::Refused(why) => (StatusCode::FORBIDDEN, "Nothing was changed", why),
    };
    page(&state, status, title, vec![line], vec![], vec![], vec![queue_link()])
}
