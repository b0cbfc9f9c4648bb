//! Building HTML responses with the right caching headers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Who may keep a copy of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// The same for every anonymous reader: any cache may keep it, but must revalidate.
    Public,
    /// Differs for one person (their form values, their held reply) or reports an error:
    /// no cache, shared or not, may store it.
    Private,
}

impl Caching {
    pub fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Public => "public, max-age=0, must-revalidate",
            Self::Private => "private, no-store",
        })
    }
}

pub fn html(status: StatusCode, body: String, caching: Caching) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, caching.header_value());
    response
}

/// A permanent redirect (`301`) to a path on this site.
pub fn moved_permanently(location: &str) -> Response {
    redirect(StatusCode::MOVED_PERMANENTLY, location)
}

pub fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}
