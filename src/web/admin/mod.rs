//! The newsroom: sign-in, the article list and editor, revisions, staff accounts. Every page
//! is `private, no-store`; every state-changing form carries the session's CSRF token.

mod account;
mod articles;
mod dashboard;
mod imports;
mod login;
mod media;
mod pages;
mod replies;
mod reset;
mod revisions;
mod settings;
mod terms;
mod threads;
mod users;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};

use super::cookies;
use super::error::AppError;
use super::form;
use super::response::{Caching, html};
use super::{AppState, Limits, Route, route};
use crate::services::staff;
use crate::store::{Session, User};

pub const SESSION_COOKIE: &str = "byline_session";

/// An article's form: a long story is larger than a reply.
const ARTICLE_FORM: Limits = Limits::body(2 * 1024 * 1024);

/// Sign-in and sign-out: an address and a password, before anyone is known.
const SIGN_IN_FORM: Limits = Limits::body(16 * 1024);

/// The newsroom's routes.
pub fn routes() -> Vec<Route> {
    vec![
        Route {
            path: "/admin/login",
            methods: get(login::form).post(login::submit),
            limits: SIGN_IN_FORM,
        },
        Route { path: "/admin/logout", methods: post(login::logout), limits: SIGN_IN_FORM },
        Route {
            path: "/admin/forgot",
            methods: get(reset::forgot_form).post(reset::forgot),
            limits: SIGN_IN_FORM,
        },
        Route {
            path: "/admin/reset/{token}",
            methods: get(reset::reset_form).post(reset::reset),
            limits: SIGN_IN_FORM,
        },
        route("/admin/", get(dashboard::show)),
        route("/admin/articles/", get(articles::list)),
        Route {
            path: "/admin/media",
            methods: get(media::list).post(media::upload),
            limits: Limits::UPLOAD,
        },
        route("/admin/media/{id}/", get(media::show).post(media::save)),
        Route {
            path: "/admin/media/{id}/replace",
            methods: post(media::replace),
            limits: Limits::UPLOAD,
        },
        route("/admin/media/{id}/delete", post(media::delete)),
        route("/admin", get(articles::to_list)),
        // The editor's form may carry an image (its Upload button).
        Route {
            path: "/admin/articles/new",
            methods: get(articles::new).post(articles::create),
            limits: Limits::UPLOAD,
        },
        Route {
            path: "/admin/articles/{id}/",
            methods: get(articles::edit).post(articles::save),
            limits: Limits::UPLOAD,
        },
        route("/admin/articles/{id}/preview", get(articles::preview)),
        route("/admin/articles/{id}/notes", post(articles::add_note)),
        route("/admin/articles/{id}/trash", post(articles::trash)),
        route("/admin/articles/{id}/restore", post(articles::untrash)),
        route("/admin/articles/{id}/delete", get(articles::delete_page).post(articles::delete)),
        route("/admin/articles/{id}/revisions/", get(revisions::list)),
        route(
            "/admin/articles/{id}/revisions/{revision}/",
            get(revisions::show).post(revisions::restore),
        ),
        Route {
            path: "/admin/preview",
            methods: post(articles::live_preview),
            limits: ARTICLE_FORM,
        },
        route("/admin/pages/", get(pages::list)),
        Route {
            path: "/admin/pages/new",
            methods: get(pages::new).post(pages::create),
            limits: ARTICLE_FORM,
        },
        Route {
            path: "/admin/pages/{id}/",
            methods: get(pages::edit).post(pages::save),
            limits: ARTICLE_FORM,
        },
        route("/admin/pages/{id}/preview", get(pages::preview)),
        route("/admin/pages/{id}/delete", post(pages::delete)),
        route("/admin/pages/{id}/revisions/", get(pages::revisions)),
        route("/admin/pages/{id}/revisions/{revision}/", get(pages::revision).post(pages::restore)),
        route("/admin/sections/", get(terms::sections)),
        route("/admin/sections/{id}", post(terms::change_section)),
        route("/admin/tags/", get(terms::tags)),
        route("/admin/tags/{id}", post(terms::change_tag)),
        route("/admin/threads/", get(threads::list)),
        route("/admin/threads/{id}", post(threads::save)),
        route("/admin/users/", get(users::list).post(users::add)),
        route("/admin/users/{id}", post(users::update)),
        route("/admin/account", get(account::show).post(account::save)),
        route("/admin/replies/", get(replies::queue).post(replies::decide)),
        route("/admin/replies/address", post(replies::address)),
        route("/admin/replies/{id}/edit", get(replies::edit).post(replies::save_edit)),
        route("/admin/replies/{id}/reply", get(replies::answer).post(replies::save_answer)),
        route("/admin/settings", get(settings::show).post(settings::save)),
        Route {
            path: "/admin/import",
            methods: get(imports::show)
                .post(imports::upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
            limits: Limits::IMPORT,
        },
        route("/admin/import/", get(imports::to_page)),
        route("/admin/import/{id}", get(imports::job)),
        Route {
            path: "/admin/export/{name}",
            methods: get(imports::download),
            limits: Limits::seconds(3600),
        },
    ]
}

/// A signed-in staff member, from the session cookie. Pages that need one take this as an
/// argument: without a live session, a `GET` is sent to sign in, anything else is refused.
pub struct Staff {
    pub user: User,
    pub session: Session,
    /// Replies waiting for this person to moderate, as the frame shows them.
    pub held: u64,
    /// The site's name, as the settings in force give it.
    pub site_title: String,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = cookies::cookie(&parts.headers, SESSION_COOKIE).unwrap_or_default();
        match staff::session(&state.services, token).await? {
            Some((session, user)) => {
                let held = crate::services::dashboard::held_count(&state.services, &user).await?;
                let identity = crate::services::reading::site_identity(&state.services).await?;
                let site_title = identity.site_title.clone();
                Ok(Staff { user, session, held, site_title })
            }
            None if parts.method == Method::GET || parts.method == Method::HEAD => {
                let next = parts.uri.path_and_query().map_or("/admin/", |p| p.as_str());
                Err(AppError::SignIn { next: next.to_owned() })
            }
            None => Err(AppError::Forbidden(
                "You are not signed in, or your session has ended. Sign in again, then repeat \
                 what you were doing."
                    .into(),
            )),
        }
    }
}

impl Staff {
    /// Refuses a form whose `csrf` field is not this session's token.
    pub fn check_csrf(&self, pairs: &[(String, String)]) -> Result<(), AppError> {
        let sent = form::first(pairs, "csrf").unwrap_or_default();
        if constant_time_eq(sent.as_bytes(), self.session.csrf_token.as_bytes()) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "This form has expired or did not come from this site. Go back, reload the \
                 page, and try again."
                    .into(),
            ))
        }
    }

    /// Refuses anyone but an admin (staff accounts and settings).
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.user.role.manages_users() {
            Ok(())
        } else {
            Err(AppError::Forbidden("Only admins manage staff accounts and settings.".into()))
        }
    }

    /// What every staff page's frame shows.
    pub fn nav(&self) -> Nav {
        Nav {
            name: self.user.author.name.clone(),
            role: self.user.role.as_str(),
            manages_users: self.user.role.manages_users(),
            edits_pages: self.user.role.edits_all_articles(),
            csrf: self.session.csrf_token.clone(),
            held: self.held,
            site_title: self.site_title.clone(),
        }
    }
}

/// The staff pages' frame: who is signed in, and the CSRF token for the sign-out button.
pub struct Nav {
    pub name: String,
    pub role: &'static str,
    pub manages_users: bool,
    /// Editors and admins look after the site's pages.
    pub edits_pages: bool,
    pub csrf: String,
    /// Replies waiting for this person to moderate.
    pub held: u64,
    pub site_title: String,
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A staff page: never cached, and allowed to run the site's own scripts (the live preview).
pub fn page(status: StatusCode, body: String) -> Response {
    let mut response = html(status, body, Caching::Private);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' https: data:; \
             script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
             frame-ancestors 'none'",
        ),
    );
    response
}

/// `303` to a staff page, never cached.
pub fn see_other(location: &str) -> Response {
    let mut response = super::response::redirect(StatusCode::SEE_OTHER, location);
    response.headers_mut().insert(header::CACHE_CONTROL, Caching::Private.header_value());
    response
}

/// A path id (`ArticleId`, `ReplyId`…), or 404.
pub fn parse_id<T: From<i64>>(raw: &str) -> Result<T, AppError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).map(T::from).ok_or(AppError::NotFound)
}

/// A page that asks before an action that cannot be undone (or that changes much): it says
/// what will happen, and its button sends the form that does it.
#[derive(askama::Template)]
#[template(path = "admin/confirm.html")]
pub struct Confirm<'a> {
    pub layout: super::layout::Layout<'a>,
    pub nav: Nav,
    pub title: &'a str,
    pub lines: Vec<String>,
    /// Where the form is sent, and what it carries besides the CSRF token.
    pub action: String,
    pub hidden: Vec<(String, String)>,
    pub button: &'a str,
    /// The red button of what cannot be undone.
    pub danger: bool,
    pub cancel: String,
}

impl Confirm<'_> {
    pub fn response(&self) -> Result<Response, AppError> {
        use askama::Template;
        Ok(page(StatusCode::OK, self.render()?))
    }
}
