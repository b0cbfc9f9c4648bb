//! Starting the real server on a random port with a fresh database, and talking HTTP to it.
//! Every server starts the way `byline serve` does ([`Application`]), with a hand-set clock
//! the test moves instead of sleeping.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use byline::app::{Application, Options};
use byline::clock::Clock;
use byline::config::{Config, DatabaseUrl};
use byline::domain::reply::{AuthorName, Email, ReplyBody, Website};
use byline::domain::{ArticleId, Headline, ReplyId, ReplyStatus, Slug};
use byline::services::Services;
use byline::services::outbox::Handler;
use byline::services::publishing::{self, Draft, Published};
use byline::store::{
    Article, ArticleReads, BoxFuture, Db, NewReply, QueueQuery, QueuedReply, Reply, ReplyReads,
    ReplyWrites, SettingReads, SettingWrites, SiteSetting, Store, Tx,
};
use byline::web::AppState;
use reqwest::header::{HeaderMap, LOCATION};
use scraper::{ElementRef, Html, Selector};

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub store: Store,
    pub services: Arc<Services>,
    /// The server's clock: it moves only when the test moves it.
    pub clock: Clock,
    pub config: Arc<Config>,
    /// A client that follows no redirects and keeps no cookies.
    pub client: reqwest::Client,
    pub db_path: PathBuf,
    /// The server's state (its page cache, say).
    pub state: AppState,
    /// Reply-form tokens by article path.
    tokens: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// Dropped with the app: the server stops, its tasks end and its connections close
    /// (dozens of servers left running would use up PostgreSQL's connections).
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

/// A server with default settings, except moderation `none` so replies show at once.
pub async fn spawn_app() -> TestApp {
    spawn_with(&[("moderation", "none")]).await
}

/// Which database the tests run on: `BYLINE_TEST_BACKEND` = `sqlite` (default) or `postgres`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_env() -> Self {
        match std::env::var("BYLINE_TEST_BACKEND").as_deref() {
            Ok("postgres") => Self::Postgres,
            Ok("sqlite") | Err(_) => Self::Sqlite,
            Ok(other) => panic!("BYLINE_TEST_BACKEND must be sqlite or postgres, not {other:?}"),
        }
    }
}

/// Whether this run of the suite should run a test that picks its own backends (a copy from
/// SQLite to PostgreSQL, a cluster of its own): the first run does; the second, with every
/// server on PostgreSQL, would repeat it exactly.
pub fn first_run() -> bool {
    Backend::from_env() == Backend::Sqlite
}

/// The PostgreSQL database the tests may use: `BYLINE_TEST_POSTGRES`, or the local server.
pub fn test_postgres() -> String {
    std::env::var("BYLINE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A URL for a new, empty schema of the test database: a fresh PostgreSQL database in all
/// but name, made in milliseconds.
pub async fn fresh_postgres_url() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let base = test_postgres();
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let schema = format!(
        "t{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base} (BYLINE_TEST_POSTGRES) is needed: {e}"));
    tokio::spawn(connection);
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
    // Spaces as %20: the PostgreSQL URL parser does not read `+` as a space.
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

/// A fresh, empty store on `backend`.
pub struct FreshStore {
    pub store: Store,
    /// What the `database` setting would say to reach it.
    pub database: String,
    /// Keeps an SQLite file alive.
    pub dir: tempfile::TempDir,
}

/// The time the tests' clocks start at: now.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

pub async fn fresh_store(backend: Backend) -> FreshStore {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let database = match backend {
        Backend::Sqlite => dir.path().join("byline.db").display().to_string(),
        Backend::Postgres => fresh_postgres_url().await,
    };
    let url = byline::config::parse_database(&database).expect("a database URL");
    let store = Store::open(&url, now()).await.expect("a fresh store");
    FreshStore { store, database, dir }
}

/// How a test server differs from the defaults.
#[derive(Default)]
pub struct Setup<'a> {
    pub settings: &'a [(&'a str, &'a str)],
    pub handlers: Vec<Arc<dyn Handler>>,
    /// The clock to share (a restarted node keeps its predecessor's).
    pub clock: Option<Clock>,
    /// A node that leaves uploaded imports to the others.
    pub no_imports: bool,
}

/// A server with these settings (by their names in the configuration file), on the backend
/// `BYLINE_TEST_BACKEND` names.
pub async fn spawn_with(settings: &[(&str, &str)]) -> TestApp {
    spawn_on(Backend::from_env(), settings).await
}

pub async fn spawn_on(backend: Backend, settings: &[(&str, &str)]) -> TestApp {
    let fresh = fresh_store(backend).await;
    serve(fresh, Setup { settings, ..Setup::default() }).await
}

/// A server set up as `setup` says, on the backend `BYLINE_TEST_BACKEND` names.
pub async fn spawn_setup(setup: Setup<'_>) -> TestApp {
    serve(fresh_store(Backend::from_env()).await, setup).await
}

/// A server on the database named by a `database` setting.
pub async fn spawn_on_database(database: &str, settings: &[(&str, &str)]) -> TestApp {
    spawn_database_with(database, Setup { settings, ..Setup::default() }).await
}

pub async fn spawn_database_with(database: &str, setup: Setup<'_>) -> TestApp {
    let url = byline::config::parse_database(database).expect("a database URL");
    let store = Store::open(&url, now()).await.expect("the database");
    let dir = tempfile::tempdir().unwrap();
    serve(FreshStore { store, database: database.to_owned(), dir }, setup).await
}

/// What the `database` setting says to reach `app`'s database.
pub fn database_of(app: &TestApp) -> String {
    match &app.config.database {
        DatabaseUrl::Sqlite(path) => path.display().to_string(),
        DatabaseUrl::Postgres(url) => url.clone(),
    }
}

/// A second server on the database of `app`, as after a restart (or another node), on the
/// same clock.
pub async fn restart(app: &TestApp, settings: &[(&str, &str)]) -> TestApp {
    restart_with(app, Setup { settings, clock: Some(app.clock.clone()), ..Setup::default() }).await
}

pub async fn restart_with(app: &TestApp, setup: Setup<'_>) -> TestApp {
    let store = Store::open(&app.config.database, app.clock.now()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    serve(FreshStore { store, database: database_of(app), dir }, setup).await
}

async fn serve(fresh: FreshStore, setup: Setup<'_>) -> TestApp {
    let FreshStore { store, database, dir } = fresh;
    let mut values: BTreeMap<String, String> =
        setup.settings.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    // Images go beside an SQLite file; on PostgreSQL each node keeps its own folder unless a
    // test shares one.
    if database.starts_with("postgres") {
        values
            .entry("media_dir".into())
            .or_insert_with(|| dir.path().join("media").display().to_string());
        values
            .entry("page_cache_dir".into())
            .or_insert_with(|| dir.path().join("page-cache").display().to_string());
    }
    values.insert("database".into(), database);
    // The defenses meant for one person's browser are off unless a test is about them.
    // So are pages of replies.
    let quiet = [
        ("min_fill_seconds", "0"),
        ("rate_limit_per_minute", "0"),
        ("duplicate_check", "off"),
        ("replies_per_page", "0"),
        // Tests change the store directly and look at pages at once; the cache has its own.
        ("page_cache", "off"),
        ("listen", "127.0.0.1:0"),
    ];
    for (name, off) in quiet {
        values.entry(name.into()).or_insert_with(|| off.into());
    }
    let config = Config::from_values(&values).expect("valid test settings");
    let clock = setup.clock.unwrap_or_else(|| Clock::manual(now()));
    let options = Options {
        clock: clock.clone(),
        handlers: setup.handlers,
        outbox_poll: std::time::Duration::from_millis(50),
        demo: false,
        run_imports: !setup.no_imports,
    };
    let application =
        Application::with_store(store.clone(), config, options).await.expect("a site");
    let address = format!("http://{}", application.address());
    let state = application.state.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(application.serve(async move {
        let _ = stopped.await;
    }));
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let db_path = match &state.config.database {
        DatabaseUrl::Sqlite(path) => path.clone(),
        DatabaseUrl::Postgres(_) => dir.path().join("byline.db"),
    };
    TestApp {
        address,
        store,
        services: state.services.clone(),
        clock,
        config: state.config.clone(),
        client,
        db_path,
        state,
        tokens: Default::default(),
        _stop: stop,
        _dir: dir,
    }
}

impl TestApp {
    /// Reads from the store directly (to look behind the site).
    pub async fn db<T, F>(&self, op: F) -> T
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Db) -> BoxFuture<'a, byline::store::Result<T>>
            + Send
            + 'static,
    {
        self.store.read(op).await.expect("the store answers")
    }

    /// Writes to the store directly, behind the site's back: nothing is told of it.
    pub async fn db_write<T, F>(&self, op: F) -> T
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, byline::store::Result<T>>
            + Send
            + 'static,
    {
        self.store.write(op).await.expect("the store answers")
    }

    pub async fn article(&self, id: ArticleId) -> Option<Article> {
        self.db(move |db| db.article(id)).await
    }

    pub async fn article_by_slug(&self, slug: &str) -> Option<Article> {
        let slug = slug.to_owned();
        self.db(move |db| Box::pin(async move { db.article_by_slug(&slug).await })).await
    }

    /// A stored reply, as public pages see it.
    pub async fn stored(&self, id: ReplyId) -> Option<Reply> {
        self.db(move |db| db.reply(id)).await
    }

    pub async fn set_reply_status(&self, id: ReplyId, status: ReplyStatus) -> bool {
        self.db_write(move |tx| tx.set_reply_status(id, status)).await
    }

    /// Every reply as the moderation queue shows it, newest first.
    pub async fn queued(&self) -> Vec<QueuedReply> {
        let query = QueueQuery { limit: 10_000, ..Default::default() };
        self.db(move |db| Box::pin(async move { db.queue(&query).await })).await.0
    }

    pub async fn setting(&self, setting: SiteSetting) -> Option<String> {
        self.db(move |db| db.setting(setting)).await
    }

    /// Stores a setting behind the site's back.
    /// Stores a setting as a use case does: what keeps settings or pages hears of it.
    pub async fn set_setting(&self, setting: SiteSetting, value: &str) {
        let value = value.to_owned();
        self.services
            .commit(move |unit| {
                Box::pin(async move {
                    unit.set_setting(setting, Some(&value)).await?;
                    unit.site_changed();
                    Ok::<_, byline::store::StoreError>(())
                })
            })
            .await
            .expect("the store answers")
    }
}
/// A fetched page: status, headers and parsed HTML.
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
    pub html: Html,
}

impl Page {
    pub fn one(&self, css: &str) -> ElementRef<'_> {
        let selector = Selector::parse(css).unwrap();
        self.html
            .select(&selector)
            .next()
            .unwrap_or_else(|| panic!("no `{css}` in:\n{}", self.body))
    }

    pub fn all(&self, css: &str) -> Vec<ElementRef<'_>> {
        self.html.select(&Selector::parse(css).unwrap()).collect()
    }

    pub fn has(&self, css: &str) -> bool {
        !self.all(css).is_empty()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    pub fn location(&self) -> &str {
        self.header(LOCATION.as_str())
    }
}

/// The text of an element, with whitespace collapsed.
pub fn text(element: ElementRef) -> String {
    element.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn attr<'a>(element: ElementRef<'a>, name: &str) -> &'a str {
    element.value().attr(name).unwrap_or_default()
}

/// A form that passes every rule.
pub fn valid_reply() -> Vec<(&'static str, String)> {
    vec![
        ("comment", "A thoughtful reply.".into()),
        ("name", "Ada Reader".into()),
        ("email", "ada@example.com".into()),
        ("website", String::new()),
    ]
}

/// `valid_reply()` with some fields replaced.
pub fn reply_with(changes: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut form = valid_reply();
    for (name, value) in changes {
        match form.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = (*value).to_owned(),
            None => form.push((name, (*value).to_owned())),
        }
    }
    form
}

pub fn encode(form: &[(&str, String)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in form {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn publish(&self, headline: &str) -> Published {
        self.publish_draft(Draft {
            headline: headline.into(),
            standfirst: "A standfirst.".into(),
            author: "Jo Writer".into(),
            body_markdown: "Body text.".into(),
            replies_open: true,
        })
        .await
    }

    pub async fn publish_draft(&self, draft: Draft) -> Published {
        publishing::publish(&self.services, &draft).await.expect("published")
    }

    pub async fn get(&self, path: &str) -> Page {
        self.get_with(path, &[]).await
    }

    /// The status and body, unparsed (for pages too large to parse in a test).
    pub async fn get_raw(&self, path: &str) -> Raw {
        let response = self.client.get(self.url(path)).send().await.expect("a response");
        let status = response.status().as_u16();
        Raw { status, body: response.text().await.unwrap_or_default() }
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut request = self.client.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        page(request.send().await.expect("a response")).await
    }

    /// Posts a form to the article at `path`, with the form token its page gives (unless the
    /// form has one).
    pub async fn post(&self, path: &str, form: &[(&str, String)]) -> Page {
        let mut form = form.to_vec();
        if !form.iter().any(|(name, _)| *name == "token") {
            form.push(("token", self.form_token(path).await));
        }
        self.post_raw(path, encode(&form).into_bytes(), &[]).await
    }

    /// The signed token in the reply form of the article at `path` (empty if it has none).
    /// A token serves many posts, so each article's is fetched once.
    pub async fn form_token(&self, path: &str) -> String {
        let path = path.split(['#', '?']).next().unwrap_or(path).to_owned();
        if let Some(token) = self.tokens.lock().unwrap().get(&path) {
            return token.clone();
        }
        let page = self.get(&path).await;
        let token = page
            .all("input[name=token]")
            .first()
            .map(|i| attr(*i, "value").to_owned())
            .unwrap_or_default();
        if !token.is_empty() {
            self.tokens.lock().unwrap().insert(path, token.clone());
        }
        token
    }

    pub async fn post_raw(&self, path: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> Page {
        let mut request = self.client.post(self.url(path)).body(body);
        if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type")) {
            request = request.header("content-type", "application/x-www-form-urlencoded");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        page(request.send().await.expect("a response")).await
    }

    /// Posts a reply that must be accepted; returns its id.
    pub async fn reply(&self, path: &str, form: &[(&str, String)]) -> ReplyId {
        let response = self.post(path, form).await;
        assert_eq!(response.status, 303, "reply refused:\n{}", response.body);
        comment_id(response.location())
    }

    /// Stores a reply directly, for setting up a thread.
    pub async fn seed_reply(
        &self,
        article_id: ArticleId,
        parent: Option<ReplyId>,
        name: &str,
        status: ReplyStatus,
    ) -> ReplyId {
        let mut reply =
            new_reply(article_id, parent, &format!("Reply by {name}."), self.clock.now());
        reply.author_name = typed::name(name);
        reply.author_email =
            typed::email(&format!("{}@example.com", name.to_lowercase().replace(' ', ".")));
        reply.status = status;
        self.db_write(move |tx| Box::pin(async move { tx.insert_reply(&reply).await })).await
    }
}

pub struct Raw {
    pub status: u16,
    pub body: String,
}

/// An approved reply by a reader, ready to be stored.
pub fn new_reply(article_id: ArticleId, parent: Option<ReplyId>, body: &str, at: i64) -> NewReply {
    NewReply {
        article_id,
        parent_id: parent,
        author_name: typed::name("A Reader"),
        author_email: typed::email("a.reader@example.com"),
        author_url: None,
        body: typed::body(body),
        status: ReplyStatus::Approved,
        ip: None,
        held_reason: String::new(),
        user_id: None,
        created_at: at,
    }
}

async fn page(response: reqwest::Response) -> Page {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    let html = Html::parse_document(&body);
    Page { status, headers, body, html }
}

/// The id in a `…#comment-ID` location.
pub fn comment_id(location: &str) -> ReplyId {
    location
        .rsplit_once("#comment-")
        .and_then(|(_, id)| ReplyId::parse(id))
        .unwrap_or_else(|| panic!("no #comment-ID in {location:?}"))
}

/// The `Set-Cookie` values of a response, as `name=value` pairs for a `Cookie` header.
pub fn cookies_from(page: &Page) -> String {
    page.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A staff member's browser: the session cookie and the CSRF token of its pages.
pub struct StaffClient {
    pub cookie: String,
    pub csrf: String,
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// Creates a staff account with [`PASSWORD`].
    pub async fn add_staff(
        &self,
        email: &str,
        name: &str,
        role: byline::domain::Role,
    ) -> byline::store::User {
        byline::services::staff::add_user(&self.services, email, name, role, PASSWORD)
            .await
            .expect("an account")
    }

    /// Signs in through the real form; panics unless it works.
    pub async fn sign_in(&self, email: &str) -> StaffClient {
        self.sign_in_with(email, PASSWORD).await
    }

    pub async fn sign_in_with(&self, email: &str, password: &str) -> StaffClient {
        let response = self.try_sign_in(email, password).await;
        assert_eq!(response.status, 303, "sign-in failed:\n{}", response.body);
        let cookie = cookies_from(&response)
            .split("; ")
            .find(|c| c.starts_with("byline_session="))
            .expect("a session cookie")
            .to_owned();
        let admin = self.get_with("/admin/", &[("cookie", &cookie)]).await;
        assert_eq!(admin.status, 200, "{}", admin.body);
        let csrf =
            attr(admin.one("form[action='/admin/logout'] input[name=csrf]"), "value").to_owned();
        StaffClient { cookie, csrf }
    }

    /// The sign-in form, filled and sent as a browser would.
    pub async fn try_sign_in(&self, email: &str, password: &str) -> Page {
        self.try_sign_in_from(email, password, None).await
    }

    /// The same, through a proxy that says the browser is at `address` (`X-Forwarded-For`).
    pub async fn try_sign_in_from(
        &self,
        email: &str,
        password: &str,
        address: Option<&str>,
    ) -> Page {
        let form = self.get("/admin/login").await;
        let token = attr(form.one("input[name=login_token]"), "value").to_owned();
        let cookie = cookies_from(&form);
        let body = encode(&[
            ("email", email.to_owned()),
            ("password", password.to_owned()),
            ("login_token", token),
            ("next", "/admin/".to_owned()),
        ]);
        let mut headers = vec![("cookie", cookie.as_str())];
        headers.extend(address.map(|a| ("x-forwarded-for", a)));
        self.post_raw("/admin/login", body.into_bytes(), &headers).await
    }

    pub async fn staff_get(&self, staff: &StaffClient, path: &str) -> Page {
        self.get_with(path, &[("cookie", &staff.cookie)]).await
    }

    /// Posts a staff form, with the session's CSRF token added.
    pub async fn staff_post(&self, staff: &StaffClient, path: &str, form: &[(&str, &str)]) -> Page {
        let mut fields: Vec<(&str, String)> =
            form.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        fields.push(("csrf", staff.csrf.clone()));
        self.post_raw(path, encode(&fields).into_bytes(), &[("cookie", &staff.cookie)]).await
    }

    /// Writes an article in the editor with `action`; returns its id.
    pub async fn write(
        &self,
        staff: &StaffClient,
        fields: &[(&str, &str)],
        action: &str,
    ) -> ArticleId {
        let mut form = vec![("replies_open", "yes"), ("action", action)];
        form.extend_from_slice(fields);
        let response = self.staff_post(staff, "/admin/articles/new", &form).await;
        assert_eq!(response.status, 303, "not saved:\n{}", response.body);
        let location = response.location();
        location
            .trim_start_matches("/admin/articles/")
            .split('/')
            .next()
            .and_then(ArticleId::parse)
            .unwrap_or_else(|| panic!("no article id in {location}"))
    }
}

/// The store takes the domain's checked values; these make them from a test's text.
pub mod typed {
    use super::*;

    pub fn name(s: &str) -> AuthorName {
        AuthorName::parse(s, usize::MAX).expect("a valid name")
    }
    pub fn email(s: &str) -> Email {
        Email::parse(s, usize::MAX).expect("a valid address")
    }
    pub fn body(s: &str) -> ReplyBody {
        ReplyBody::parse(s, usize::MAX).expect("a valid reply")
    }
    pub fn website(s: &str) -> Website {
        Website::parse_optional(s, usize::MAX).expect("a valid website").expect("not empty")
    }
    pub fn headline(s: &str) -> Headline {
        Headline::parse(s).expect("a valid headline")
    }
    pub fn slug(s: &str) -> Slug {
        Slug::parse(s).expect("a valid slug")
    }
}

/// An API answer: status, headers, and the body as JSON (`Null` when it is not JSON).
pub struct Json {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: serde_json::Value,
}

impl Json {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// `body[key]` as a string, or empty.
    pub fn str(&self, key: &str) -> String {
        self.body[key].as_str().unwrap_or_default().to_owned()
    }
}

impl TestApp {
    pub async fn api_get(&self, path: &str) -> Json {
        self.api(reqwest::Method::GET, path, None, &[]).await
    }

    pub async fn api_get_with(&self, path: &str, headers: &[(&str, &str)]) -> Json {
        self.api(reqwest::Method::GET, path, None, headers).await
    }

    /// A request with a JSON body (if any) and these headers.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Json {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        json_of(request.send().await.expect("a response")).await
    }

    /// A personal access token made on the account page, with these scopes.
    pub async fn make_token(&self, staff: &StaffClient, name: &str, scopes: &[&str]) -> String {
        let mut form = vec![("form", "token"), ("token_name", name)];
        form.extend(scopes.iter().map(|s| ("scope", *s)));
        let page = self.staff_post(staff, "/admin/account", &form).await;
        assert_eq!(page.status, 200, "{}", page.body);
        attr(page.one("#new-token"), "value").to_owned()
    }
}

pub async fn json_of(response: reqwest::Response) -> Json {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    Json { status, headers, text, body }
}
