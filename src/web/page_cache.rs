//! Rendered public pages kept in memory, so that a popular article costs about what a static
//! file costs. Only anonymous requests are served from it (a request carrying one of Byline's
//! cookies may get a personal page), only `public` pages enter it, and a committed change drops
//! the pages it touches (see [`PageCache::forget`]): the services say what changed, here and on
//! the other nodes; nothing is guessed from requests. Each page is also kept compressed, gzip and brotli,
//! made once on the first request that accepts them, and served by `Accept-Encoding`.
//!
//! Two tiers: memory (`page_cache_memory_mb`) for the pages rendered lately, and files on
//! disk (`page_cache_disk_mb`, see [`super::page_disk`]) for the whole archive. Every page
//! rendered goes to both; a change forgets it in both at once; a page is looked for in memory,
//! then on disk, then rendered.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::page_disk::DiskTier;
use crate::domain::paths::is_article_path;
use crate::services::{ChangeListener, Scope};

/// Pages kept at most this long, so that their form tokens stay fresh.
const TTL: Duration = Duration::from_secs(60);
/// How long past [`TTL`] an expired page may still be served while one request renders it
/// anew, so that readers never wait for the page to expire all at once.
const GRACE: Duration = Duration::from_secs(10);
const MAX_ENTRIES: usize = 2000;
/// What the kept pages may weigh together by default (`page_cache_memory_mb`), checked as a
/// page is kept (its compressed copies, made later, may take the total somewhat past it).
const MAX_BYTES: usize = 16 << 20;
/// Below this a page is sent as it is: compressing saves less than a packet.
const MIN_COMPRESS: usize = 1024;
/// Brotli's quality 5 compresses a 200 KB article page in about 1.5 ms (`cargo bench`) and
/// still beats gzip; 11 would take a hundred times longer on every cache fill.
const BROTLI_QUALITY: u32 = 5;

pub struct PageCache {
    entries: Mutex<Entries>,
    /// What the pages in memory may weigh together.
    max_bytes: usize,
    /// The second tier, when pages are kept on disk.
    disk: Option<Arc<DiskTier>>,
    /// The latest forgettings, numbered: a page rendered while one that touches it happened
    /// may show what was forgotten, and is not kept.
    forgotten: Mutex<Forgotten>,
    /// One turn a page: while a page is rendered for the cache, other requests for it wait
    /// for that rendering instead of all rendering it at once.
    turns: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// For `/metrics`: pages served from here, pages rendered for it, pages pushed out.
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub evictions: AtomicU64,
}

impl Default for PageCache {
    fn default() -> Self {
        Self::new(MAX_BYTES, None)
    }
}

/// Forgettings remembered, to judge pages rendered across them.
const REMEMBERED: usize = 256;

#[derive(Default)]
struct Forgotten {
    /// How many forgettings there have been.
    count: u64,
    /// The latest ones, oldest first, with their numbers.
    recent: std::collections::VecDeque<(u64, Scope)>,
}

impl Forgotten {
    fn note(&mut self, scope: &Scope) {
        self.count += 1;
        if self.recent.len() == REMEMBERED {
            self.recent.pop_front();
        }
        self.recent.push_back((self.count, scope.clone()));
    }

    /// Whether a forgetting after number `since` touched `key` (or may have: it was long ago).
    fn touched(&self, key: &str, since: u64) -> bool {
        if self.count == since {
            return false;
        }
        match self.recent.front() {
            Some((oldest, _)) if *oldest <= since + 1 => {}
            _ => return true,
        }
        self.recent.iter().filter(|(n, _)| *n > since).any(|(_, scope)| touches(scope, key))
    }
}

/// Whether a change in `scope` makes the page at `key` stale.
fn touches(scope: &Scope, key: &str) -> bool {
    match scope {
        Scope::Everything => true,
        Scope::Articles(paths) => {
            !is_article_path(key) || paths.iter().any(|path| key.starts_with(path.as_str()))
        }
    }
}

/// What the cache holds for a page.
enum Lookup {
    Fresh(Arc<Entry>),
    /// Past its time and being rendered anew by another request: serve it meanwhile.
    Stale(Arc<Entry>),
    /// Absent, or past its time with this request chosen to render it.
    Missing,
}

/// The pages by request path and query, with what each weighed when last counted.
#[derive(Default)]
struct Entries {
    pages: HashMap<String, (Arc<Entry>, usize)>,
    bytes: usize,
}

impl Entries {
    fn insert(&mut self, key: String, entry: Arc<Entry>) {
        let weight = entry.weight();
        self.bytes += weight;
        if let Some((_, old)) = self.pages.insert(key, (entry, weight)) {
            self.bytes -= old;
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&str, &Entry) -> bool) {
        let mut dropped = 0;
        self.pages.retain(|key, (entry, weight)| {
            let kept = keep(key, entry);
            if !kept {
                dropped += *weight;
            }
            kept
        });
        self.bytes -= dropped;
    }

    /// Counts again what `entry` weighs, if it is still the page kept under `key`.
    fn reweigh(&mut self, key: &str, entry: &Arc<Entry>) {
        if let Some((kept, weight)) = self.pages.get_mut(key).filter(|(k, _)| Arc::ptr_eq(k, entry))
        {
            let new = kept.weight();
            self.bytes = self.bytes + new - *weight;
            *weight = new;
        }
    }
}

struct Entry {
    at: Instant,
    headers: HeaderMap,
    body: Bytes,
    /// `None` once tried when compressing does not pay (small or not text).
    /// Compressed copies, made on first use on the blocking pool (brotli can take
    /// milliseconds; no worker thread waits for it, and others asking meanwhile wait their
    /// turn without holding a thread either).
    gzip: OnceCell<Option<Bytes>>,
    brotli: OnceCell<Option<Bytes>>,
    /// Set by the one request that renders this page anew once it expires.
    renewing: std::sync::atomic::AtomicBool,
    /// The route that rendered it, for the metrics of the requests it answers.
    route: Option<super::RouteName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }

    pub fn compress(self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len() / 4);
        match self {
            Coding::Brotli => {
                let params = brotli::enc::BrotliEncoderParams {
                    quality: BROTLI_QUALITY as i32,
                    ..Default::default()
                };
                let mut input = body;
                brotli::BrotliCompress(&mut input, &mut out, &params).expect("writes to memory");
            }
            Coding::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::new(6));
                encoder.write_all(body).expect("writes to memory");
                out = encoder.finish().expect("writes to memory");
            }
        }
        out
    }
}

/// The best coding the client accepts (`q=0` refuses one), brotli first.
fn preferred_coding(headers: &HeaderMap) -> Option<Coding> {
    let mut accepted = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';');
            let name = parts.next()?.trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (q > 0.0).then_some(name)
        });
    let (mut brotli, mut gzip) = (false, false);
    for name in &mut accepted {
        brotli |= name.eq_ignore_ascii_case("br");
        gzip |= name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip");
    }
    if brotli {
        Some(Coding::Brotli)
    } else if gzip {
        Some(Coding::Gzip)
    } else {
        None
    }
}

impl Entry {
    fn weight(&self) -> usize {
        let copy =
            |c: &OnceCell<Option<Bytes>>| c.get().and_then(Option::as_ref).map_or(0, Bytes::len);
        self.body.len() + copy(&self.gzip) + copy(&self.brotli)
    }

    fn slot(&self, coding: Coding) -> &OnceCell<Option<Bytes>> {
        match coding {
            Coding::Brotli => &self.brotli,
            Coding::Gzip => &self.gzip,
        }
    }

    /// The body in `coding`, made on first use; `None` when it is not worth it.
    async fn compressed(&self, coding: Coding) -> Option<Bytes> {
        self.slot(coding)
            .get_or_init(|| async {
                if !worth_compressing(&self.headers, self.body.len()) {
                    return None;
                }
                let body = self.body.clone();
                let out = tokio::task::spawn_blocking(move || coding.compress(&body)).await.ok()?;
                (out.len() < self.body.len()).then(|| Bytes::from(out))
            })
            .await
            .clone()
    }
}

/// Whether a body of `len` bytes with these headers is worth compressing.
pub(super) fn worth_compressing(headers: &HeaderMap, len: usize) -> bool {
    len >= MIN_COMPRESS && compressible(headers)
}

fn compressible(headers: &HeaderMap) -> bool {
    let kind = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    kind.starts_with("text/")
        || kind.starts_with("application/atom+xml")
        || kind.starts_with("application/xml")
        || kind.starts_with("application/javascript")
        || kind.starts_with("image/svg+xml")
}

impl PageCache {
    /// A cache keeping at most `memory_bytes` of pages in memory, and more on `disk`.
    pub fn new(memory_bytes: usize, disk: Option<DiskTier>) -> Self {
        Self {
            entries: Mutex::default(),
            max_bytes: memory_bytes,
            disk: disk.map(Arc::new),
            forgotten: Mutex::default(),
            turns: Mutex::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    /// The second tier, when pages are kept on disk.
    pub fn disk(&self) -> Option<&DiskTier> {
        self.disk.as_deref()
    }

    fn lookup(&self, key: &str) -> Lookup {
        use std::sync::atomic::Ordering;
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let Some((entry, _)) = entries.pages.get(key) else {
            return Lookup::Missing;
        };
        let age = entry.at.elapsed();
        if age < TTL {
            Lookup::Fresh(entry.clone())
        } else if age < TTL + GRACE && entry.renewing.swap(true, Ordering::Relaxed) {
            Lookup::Stale(entry.clone())
        } else {
            Lookup::Missing
        }
    }

    /// The page if it is fresh, or stale while another request renews it; `304` when the
    /// request already has it.
    async fn get(&self, key: &str, request: &HeaderMap) -> Option<Response> {
        match self.lookup(key) {
            Lookup::Fresh(entry) | Lookup::Stale(entry) => {
                Some(self.respond(key, &entry, request).await)
            }
            Lookup::Missing => None,
        }
    }

    /// The page from disk, or `304` when the request already has it.
    async fn serve_from_disk(&self, key: &str, request: &HeaderMap) -> Option<Response> {
        let disk = self.disk.as_ref()?;
        let page = disk.get(key)?;
        let mut headers = page.headers.clone();
        headers.remove(header::CONTENT_LENGTH);
        let etag = headers.get(header::ETAG).and_then(|v| v.to_str().ok());
        let unchanged = etag.is_some_and(|tag| super::caching::unchanged_for(request, tag));
        let mut response = if unchanged {
            let (mut parts, ()) = Response::new(()).into_parts();
            parts.headers = headers;
            super::caching::not_modified(parts)
        } else {
            let (coding, body) = disk.body(key, &page, preferred_coding(request)).await?;
            if let Some(coding) = coding {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding.name()));
            }
            let mut response = (StatusCode::OK, Body::from(body)).into_response();
            *response.headers_mut() = headers;
            response
        };
        if let Some(route) = page.route {
            response.extensions_mut().insert(route);
        }
        disk.hits.fetch_add(1, Ordering::Relaxed);
        Some(response)
    }

    /// Writes a page rendered from what the database held at `generation` to disk, off the
    /// workers, unless a change forgotten meanwhile touches it; the write may be awaited.
    fn put_on_disk(
        self: &Arc<Self>,
        key: &str,
        entry: &Entry,
        generation: u64,
    ) -> Option<tokio::task::JoinHandle<()>> {
        self.disk.as_ref()?;
        let (cache, key) = (self.clone(), key.to_owned());
        let (headers, body, route) = (entry.headers.clone(), entry.body.clone(), entry.route);
        Some(tokio::task::spawn_blocking(move || {
            let Some(disk) = &cache.disk else { return };
            let current = || {
                let forgotten = cache.forgotten.lock().unwrap_or_else(|p| p.into_inner());
                !forgotten.touched(&key, generation)
            };
            disk.put(&key, headers, &body, route, current);
        }))
    }

    /// Whether memory holds a page for `key`, whatever its age.
    fn holds_key(&self, key: &str) -> bool {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).pages.contains_key(key)
    }

    /// Whether memory keeps `entry` as the page for `key`.
    fn holds(&self, key: &str, entry: &Arc<Entry>) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.pages.get(key).is_some_and(|(kept, _)| Arc::ptr_eq(kept, entry))
    }

    /// The lock that lets one request at a time render `key` for the cache.
    fn turn(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
        turns.entry(key.to_owned()).or_default().clone()
    }

    /// Forgets the turn once no other request waits on it.
    fn end_turn(&self, key: &str, turn: Arc<tokio::sync::Mutex<()>>) {
        let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
        // One reference here, one in the map: nobody else holds it.
        if Arc::strong_count(&turn) == 2 {
            turns.remove(key);
        }
    }

    /// Forgets one page (one that can no longer be cached, say).
    fn remove(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|k, _| k != key);
    }

    /// The page in the best coding the client takes, or `304` when it has it already.
    async fn respond(&self, key: &str, entry: &Arc<Entry>, request: &HeaderMap) -> Response {
        let mut headers = entry.headers.clone();
        // The length is the body's as sent (compressed or not): the server sets it.
        headers.remove(header::CONTENT_LENGTH);
        let etag = headers.get(header::ETAG).and_then(|v| v.to_str().ok());
        if etag.is_some_and(|tag| super::caching::unchanged_for(request, tag)) {
            let (mut parts, ()) = Response::new(()).into_parts();
            parts.headers = headers;
            return super::caching::not_modified(parts);
        }
        let coding = preferred_coding(request);
        let fresh = coding.is_some_and(|c| entry.slot(c).get().is_none());
        let compressed = match coding {
            Some(coding) => entry.compressed(coding).await.map(|body| (coding, body)),
            None => None,
        };
        let body = match compressed {
            Some((coding, body)) => {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding.name()));
                body
            }
            None => entry.body.clone(),
        };
        if fresh {
            self.entries.lock().unwrap_or_else(|p| p.into_inner()).reweigh(key, entry);
        }
        let mut response = (StatusCode::OK, Body::from(body)).into_response();
        *response.headers_mut() = headers;
        if let Some(route) = entry.route {
            response.extensions_mut().insert(route);
        }
        response
    }

    /// Keeps the page unless the cache is full; returns it either way.
    #[cfg(test)]
    fn put(&self, key: &str, headers: HeaderMap, body: Bytes) -> Arc<Entry> {
        self.put_at(key, headers, body, Instant::now(), None, None)
    }

    /// How many forgettings there have been, to be given back to [`PageCache::put_rendered`].
    fn generation(&self) -> u64 {
        self.forgotten.lock().unwrap_or_else(|p| p.into_inner()).count
    }

    /// Keeps a page rendered from what the database held at `generation`, unless a change
    /// forgotten since touches it (the page may show what changed).
    fn put_rendered(
        &self,
        key: &str,
        headers: HeaderMap,
        body: Bytes,
        generation: u64,
        route: Option<super::RouteName>,
    ) -> Arc<Entry> {
        self.put_at(key, headers, body, Instant::now(), Some(generation), route)
    }

    fn put_at(
        &self,
        key: &str,
        mut headers: HeaderMap,
        body: Bytes,
        at: Instant,
        generation: Option<u64>,
        route: Option<super::RouteName>,
    ) -> Arc<Entry> {
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        let entry = Arc::new(Entry {
            at,
            headers,
            body,
            gzip: OnceCell::new(),
            brotli: OnceCell::new(),
            renewing: Default::default(),
            route,
        });
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        // Checked under the lock that forgetting takes first.
        let forgotten = self.forgotten.lock().unwrap_or_else(|p| p.into_inner());
        if generation.is_some_and(|g| forgotten.touched(key, g)) {
            return entry;
        }
        drop(forgotten);
        // A page renewed replaces itself: what it weighed makes room for it.
        let full = |e: &Entries| {
            let replaced = e.pages.get(key).map(|(_, weight)| *weight);
            let bytes = e.bytes - replaced.unwrap_or(0) + entry.weight();
            (replaced.is_none() && e.pages.len() >= MAX_ENTRIES) || bytes > self.max_bytes
        };
        if full(&entries) {
            let before = entries.pages.len();
            entries.retain(|_, e| e.at.elapsed() < TTL);
            self.evictions.fetch_add((before - entries.pages.len()) as u64, Ordering::Relaxed);
        }
        if !full(&entries) {
            entries.insert(key.to_owned(), entry.clone());
        }
        entry
    }

    /// Forgets every page.
    pub fn clear(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        self.forgotten.lock().unwrap_or_else(|p| p.into_inner()).note(&Scope::Everything);
        entries.retain(|_, _| false);
        drop(entries);
        if let Some(disk) = &self.disk {
            disk.forget(|_| true);
        }
    }

    /// Forgets what a change in `scope` touches: with articles' paths, those articles' pages
    /// and every page that is not an article's (listings show reply counts); otherwise all.
    pub fn forget(&self, scope: &Scope) {
        let Scope::Articles(_) = scope else {
            return self.clear();
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        self.forgotten.lock().unwrap_or_else(|p| p.into_inner()).note(scope);
        entries.retain(|key, _| !touches(scope, key));
        drop(entries);
        if let Some(disk) = &self.disk {
            disk.forget(|key| touches(scope, key));
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the kept pages weigh, compressed copies included.
    pub fn bytes(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).bytes
    }
}

/// Whether the request carries one of Byline's cookies (and so may get a personal page), or
/// an API token (an account's view of the API).
fn personal(request: &Request) -> bool {
    request.headers().contains_key(header::AUTHORIZATION)
        || request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .any(|v| v.as_bytes().windows(7).any(|w| w == b"byline_"))
}

impl ChangeListener for PageCache {
    fn changed(&self, scope: &Scope) {
        self.forget(scope);
    }
}

/// Whether a page at this address may be kept. Every address could otherwise make an entry
/// (`/robots.txt?junk=1`, `?junk=2`… fill the cache and push the real pages out): only the
/// query parameters a route uses make another page (an article's `replies=N`; listings page
/// by path), pages whose parameters are unbounded (search, `?replytocom=N`) are not kept, and
/// neither is a percent-encoded spelling of a path (the page is served, from its own
/// rendering, but it is not a second copy to forget when the article changes).
fn keepable(uri: &axum::http::Uri) -> bool {
    let path = uri.path();
    // Images are streamed from their store, never held in memory here.
    // Live event streams never end: nothing to keep, and no turn to wait for.
    if path.contains('%')
        || path.starts_with("/search")
        || path.starts_with("/media/")
        || path.ends_with("/events")
    {
        return false;
    }
    match uri.query() {
        None => true,
        Some(query) => {
            // `/2026/11/24/slug/`
            let article = path.split('/').filter(|s| !s.is_empty()).count() == 4
                && path.trim_start_matches('/').starts_with(|c: char| c.is_ascii_digit());
            article
                && query.strip_prefix("replies=").is_some_and(|n| {
                    !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit())
                })
        }
    }
}

/// Whether `request` may be answered from (and its answer kept in) the page cache.
fn cacheable(state: &AppState, request: &Request) -> bool {
    let readable = request.method() == Method::GET || request.method() == Method::HEAD;
    readable && state.config.page_cache && !personal(request) && keepable(request.uri())
}

/// Left on a request whose page the door looked for in memory and did not find fresh.
#[derive(Debug, Clone, Copy)]
struct LookedUp;

/// The kept page for `request`, from memory or disk, answered at the door (see
/// [`super::door`]), or `None` (the request then goes through [`serve`], which need not look
/// again).
pub async fn hit(state: &AppState, request: &mut Request) -> Option<Response> {
    if !cacheable(state, request) {
        return None;
    }
    let key = request.uri().to_string();
    let hit = kept(state, &key, request.headers()).await;
    if hit.is_none() {
        request.extensions_mut().insert(LookedUp);
    }
    hit
}

/// The page at `key` from memory, or else from disk.
async fn kept(state: &AppState, key: &str, asked: &HeaderMap) -> Option<Response> {
    if let Some(hit) = state.pages.get(key, asked).await {
        state.pages.hits.fetch_add(1, Ordering::Relaxed);
        return Some(hit);
    }
    // A page memory holds past its time is rendered anew by this request (the others get
    // memory's copy meanwhile), not read from disk: memory keeps what is read most.
    if state.pages.holds_key(key) {
        return None;
    }
    state.pages.serve_from_disk(key, asked).await
}

pub async fn serve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !cacheable(&state, &request) {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let key = request.uri().to_string();
    if request.extensions().get::<LookedUp>().is_none()
        && let Some(hit) = kept(&state, &key, request.headers()).await
    {
        return hit;
    }
    let renewing = state.pages.holds_key(&key);
    // Wait for whoever is rendering this page, but never longer than a request may take.
    let turn = state.pages.turn(&key);
    let limit = Duration::from_secs(state.config.request_timeout_seconds);
    let mine = tokio::time::timeout(limit, turn.lock()).await.ok();
    let response = match state.pages.lookup(&key) {
        // Whoever rendered it while this request waited has left it here.
        Lookup::Fresh(entry) => {
            state.pages.hits.fetch_add(1, Ordering::Relaxed);
            state.pages.respond(&key, &entry, request.headers()).await
        }
        _ => match if renewing {
            None
        } else {
            state.pages.serve_from_disk(&key, request.headers()).await
        } {
            Some(hit) => hit,
            None => {
                state.pages.misses.fetch_add(1, Ordering::Relaxed);
                fill(&state, &key, method, request, next).await
            }
        },
    };
    drop(mine);
    state.pages.end_turn(&key, turn);
    response
}

/// Renders the page, keeps it if it may be kept, and answers with it.
async fn fill(
    state: &AppState,
    key: &str,
    method: Method,
    mut request: Request,
    next: Next,
) -> Response {
    // The whole page is wanted for the cache; the validators are checked here after.
    let asked = request.headers().clone();
    request.headers_mut().remove(header::IF_NONE_MATCH);
    let generation = state.pages.generation();
    let response = next.run(request).await;
    let public = response
        .headers()
        .get(header::CACHE_CONTROL)
        .is_some_and(|v| v.as_bytes().starts_with(b"public"));
    if response.status() != StatusCode::OK || !public || method != Method::GET {
        if method == Method::GET {
            state.pages.remove(key);
        }
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Kept without a length: each answer's is its own body's (compressed or not).
    parts.headers.remove(header::CONTENT_LENGTH);
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            // Tag it once here, so that a hit need not hash the page again.
            if !parts.headers.contains_key(header::ETAG) {
                let tag = super::caching::etag_of(&bytes);
                parts.headers.insert(header::ETAG, HeaderValue::from_str(&tag).expect("ASCII"));
            }
            let route = parts.extensions.get::<super::RouteName>().copied();
            let entry = state.pages.put_rendered(key, parts.headers, bytes, generation, route);
            let written = state.pages.put_on_disk(key, &entry, generation);
            // Requests waiting their turn for this page look in memory, then on disk: when
            // memory has no room for it, it is on disk before they look.
            if let Some(written) = written.filter(|_| !state.pages.holds(key, &entry)) {
                let _ = written.await;
            }
            state.pages.respond(key, &entry, &asked).await
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[cfg(test)]
mod keeping {
    use super::keepable;

    #[test]
    fn only_the_parameters_a_route_uses_make_another_page() {
        let keeps = |uri: &str| keepable(&uri.parse().unwrap());
        for kept in [
            "/",
            "/robots.txt",
            "/section/local/page/2/",
            "/2026/11/24/a-story/",
            "/2026/11/24/a-story/?replies=3",
        ] {
            assert!(keeps(kept), "{kept}");
        }
        for not in [
            "/robots.txt?junk=1",
            "/?utm_source=x",
            "/2026/11/24/a-story/?replytocom=12",
            "/2026/11/24/a-story/?replies=3&junk=1",
            "/2026/11/24/a-story/?replies=99999999",
            "/search?q=ferry",
            "/%32026/11/24/a-story/",
            "/2026/11/24/%74he-story/",
            "/section/local/?replies=2",
        ] {
            assert!(!keeps(not), "{not}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_forgets_its_article_and_the_listings_only() {
        let cache = PageCache::default();
        for key in [
            "/",
            "/section/local/",
            "/feed.atom",
            "/2026/11/24/a/",
            "/2026/11/24/a/?replytocom=3",
            "/2026/11/24/b/",
        ] {
            cache.put(key, HeaderMap::new(), Bytes::new());
        }
        cache.forget(&Scope::Articles(["/2026/11/24/a/".to_owned()].into()));
        let mut left: Vec<_> = cache.entries.lock().unwrap().pages.keys().cloned().collect();
        left.sort();
        assert_eq!(left, ["/2026/11/24/b/"]);
        cache.forget(&Scope::Everything);
        assert!(cache.is_empty());
    }

    #[test]
    fn an_expired_page_is_renewed_by_one_request_while_the_others_get_it() {
        let cache = PageCache::default();
        let expired = Instant::now() - TTL - Duration::from_secs(1);
        cache.put_at("/a/", HeaderMap::new(), Bytes::from_static(b"old"), expired, None, None);
        assert!(matches!(cache.lookup("/a/"), Lookup::Missing), "the first renders it");
        assert!(matches!(cache.lookup("/a/"), Lookup::Stale(_)), "the others are served");
        assert!(matches!(cache.lookup("/a/"), Lookup::Stale(_)));
        cache.put("/a/", HeaderMap::new(), Bytes::from_static(b"new"));
        assert!(matches!(cache.lookup("/a/"), Lookup::Fresh(e) if e.body == "new"));
        // Long past its time (its renewal failed, say), nobody gets it.
        let long_ago = Instant::now() - TTL - GRACE - Duration::from_secs(1);
        cache.put_at("/b/", HeaderMap::new(), Bytes::new(), long_ago, None, None);
        assert!(matches!(cache.lookup("/b/"), Lookup::Missing));
        assert!(matches!(cache.lookup("/b/"), Lookup::Missing));
    }

    #[tokio::test]
    async fn requests_for_one_page_take_turns_and_the_turns_are_forgotten() {
        let cache = PageCache::default();
        let first = cache.turn("/a/");
        let held = first.lock().await;
        let second = cache.turn("/a/");
        assert!(Arc::ptr_eq(&first, &second));
        assert!(second.try_lock().is_err(), "the second waits for the first");
        assert!(!Arc::ptr_eq(&first, &cache.turn("/b/")));
        drop(held);
        cache.end_turn("/a/", first);
        cache.end_turn("/a/", second);
        cache.end_turn("/b/", cache.turn("/b/"));
        assert!(cache.turns.lock().unwrap().is_empty());
    }

    fn accepting(coding: &'static str) -> HeaderMap {
        HeaderMap::from_iter([(header::ACCEPT_ENCODING, HeaderValue::from_static(coding))])
    }

    #[tokio::test]
    async fn the_weight_counts_compressed_copies_and_drops_with_the_page() {
        let cache = PageCache::default();
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        let page = Bytes::from("<p>The harbour council met on Tuesday.</p>\n".repeat(100));
        let entry = cache.put("/a/", headers.clone(), page.clone());
        assert_eq!(cache.bytes(), page.len());
        let response = cache.respond("/a/", &entry, &accepting("gzip")).await;
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
        let gzip = entry.gzip.get().unwrap().as_ref().unwrap().len();
        assert_eq!(cache.bytes(), page.len() + gzip);
        cache.put("/b/", headers, Bytes::from_static(b"short"));
        let response = cache
            .respond("/b/", &cache.put("/b/", HeaderMap::new(), Bytes::new()), &accepting("br"))
            .await;
        assert!(response.headers().get(header::CONTENT_ENCODING).is_none(), "not worth it");
        cache.forget(&Scope::Everything);
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn a_page_rendered_across_a_change_is_not_kept() {
        let cache = PageCache::default();
        let before = cache.generation();
        cache.forget(&Scope::Articles(["/2026/11/24/a/".to_owned()].into()));
        let page = |text| Bytes::from_static(text);
        cache.put_rendered("/2026/11/24/a/", HeaderMap::new(), page(b"old"), before, None);
        assert!(cache.is_empty(), "rendered from what the change replaced");
        cache.put_rendered("/2026/11/24/b/", HeaderMap::new(), page(b"other"), before, None);
        assert_eq!(cache.len(), 1, "another article's page, untouched by the change, is kept");
        cache.put_rendered("/", HeaderMap::new(), page(b"listing"), before, None);
        assert_eq!(cache.len(), 1, "the listings show reply counts");
        let now = cache.generation();
        cache.put_rendered("/2026/11/24/a/", HeaderMap::new(), page(b"new"), now, None);
        assert_eq!(cache.len(), 2);
        // Long ago (more forgettings than remembered): not kept, to be safe.
        for _ in 0..REMEMBERED + 1 {
            cache.forget(&Scope::Articles(["/2026/11/24/z/".to_owned()].into()));
        }
        cache.put_rendered("/2026/11/24/c/", HeaderMap::new(), page(b"c"), now, None);
        assert!(matches!(cache.lookup("/2026/11/24/c/"), Lookup::Missing));
    }

    #[test]
    fn a_full_cache_still_renews_the_pages_it_holds() {
        let cache = PageCache::default();
        let expired = Instant::now() - TTL + Duration::from_secs(5);
        for n in 0..MAX_ENTRIES {
            cache.put_at(&format!("/{n}/"), HeaderMap::new(), Bytes::new(), expired, None, None);
        }
        cache.put("/new/", HeaderMap::new(), Bytes::new());
        assert!(matches!(cache.lookup("/new/"), Lookup::Missing), "no room for another page");
        cache.put("/7/", HeaderMap::new(), Bytes::from_static(b"renewed"));
        assert!(matches!(cache.lookup("/7/"), Lookup::Fresh(e) if e.body == "renewed"));
        assert_eq!(cache.len(), MAX_ENTRIES);
    }
}
