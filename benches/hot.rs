//! `cargo bench`: the functions on the hot paths, measured in isolation. The whole server is
//! measured by `bench/run`; these say which part of a page costs what.

use std::hint::black_box;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use byline::clock::Clock;
use byline::config::{Config, DatabaseUrl};
use byline::domain::reply::{ReplyInput, ReplyLimits};
use byline::domain::{ArticleId, SettingKey, text};
use byline::services::{Services, discussion};
use byline::store::{ArticleReads, Store};
use byline::tools::generate::{Plan, generate};
use byline::web::page_cache::Coding;
use byline::web::{AppState, build_app, thread};
use criterion::{Criterion, criterion_group, criterion_main};
use tower::ServiceExt;

const REPLY: &str = "I was on the quay when the ferry came in & the tide was <b>high</b>.\r\n\
    The council's report is at https://example.com/report?year=2026&page=3 — read it.\n\n\
    Second paragraph: \"quotes\", 'apostrophes' and <script>alert(1)</script> stay text.";

/// A site whose lead article has 200 threaded replies, as `bench/run` makes.
struct Site {
    _dir: tempfile::TempDir,
    store: Store,
    runtime: tokio::runtime::Runtime,
    path: String,
}

fn site() -> Site {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let url = DatabaseUrl::Sqlite(dir.path().join("b.db"));
    let store = runtime.block_on(Store::open(&url, 0)).unwrap();
    let plan = Plan { articles: 20, replies_per_article: 5, lead_replies: 200 };
    runtime.block_on(generate(&store, plan, Clock::system().now())).unwrap();
    let article = runtime.block_on(store.read(|db| db.article(ArticleId(1)))).unwrap().unwrap();
    Site { _dir: dir, path: article.public_path().unwrap(), store, runtime }
}

/// The defaults, but all 200 replies on one page, as `bench/run` shows them.
fn bench_config(page_cache: bool) -> Config {
    let mut config = Config { page_cache, ..Config::default() };
    config.discussion.insert(SettingKey::RepliesPerPage, "200".into());
    config
}

fn state(site: &Site, config: Config) -> AppState {
    let services =
        site.runtime.block_on(Services::new(site.store.clone(), Clock::system(), config));
    // The state starts its live updates' task on the runtime.
    let _runtime = site.runtime.enter();
    AppState::new(Arc::new(services.unwrap()))
}

fn article_page(c: &mut Criterion) {
    let site = site();
    let page = || {
        site.store.read(|db| {
            Box::pin(async move {
                let view = discussion::ThreadView { held_ids: &[], max_depth: 5, per_page: 200 };
                discussion::thread_page(db, ArticleId(1), view, None, 200).await
            })
        })
    };
    let nodes = site.runtime.block_on(page()).unwrap().unwrap().nodes;
    let tz = jiff::tz::TimeZone::UTC;
    let context = thread::Context {
        path: &site.path,
        replies_open: true,
        tz: &tz,
        own: thread::Own::default(),
    };
    c.bench_function("thread of 200 replies to HTML", |b| {
        b.iter(|| thread::render(black_box(&nodes), &context).unwrap())
    });
    c.bench_function("thread of 200 replies from the store", |b| {
        b.iter(|| site.runtime.block_on(page()).unwrap())
    });
    for (name, page_cache) in [
        ("article page, 200 replies, rendered", false),
        ("article page, 200 replies, from the page cache", true),
    ] {
        let app = build_app(state(&site, bench_config(page_cache)));
        c.bench_function(name, |b| {
            b.iter(|| {
                let request = Request::get(&site.path).body(Body::empty()).unwrap();
                let response = site.runtime.block_on(app.clone().oneshot(request)).unwrap();
                assert!(response.status().is_success());
                site.runtime.block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
            })
        });
    }
    // What a page cache fill costs on top of rendering, per coding.
    let request = Request::get(&site.path).body(Body::empty()).unwrap();
    let app = build_app(state(&site, bench_config(false)));
    let response = site.runtime.block_on(app.oneshot(request)).unwrap();
    let page =
        site.runtime.block_on(axum::body::to_bytes(response.into_body(), usize::MAX)).unwrap();
    for coding in [Coding::Gzip, Coding::Brotli] {
        let name = format!(
            "article page, 200 replies, {coding:?} ({} KB → {} KB)",
            page.len() / 1024,
            coding.compress(&page).len() / 1024
        );
        c.bench_function(&name, |b| b.iter(|| coding.compress(black_box(&page))));
    }
}

fn text_to_html(c: &mut Criterion) {
    let markdown = include_str!("../README.md");
    c.bench_function("Markdown to sanitized HTML (README)", |b| {
        b.iter(|| text::markdown_html(black_box(markdown)))
    });
    c.bench_function("a reply's text to HTML", |b| b.iter(|| text::reply_html(black_box(REPLY))));
}

fn form_validation(c: &mut Criterion) {
    let input = ReplyInput {
        comment: REPLY.into(),
        name: "Ana Ferreira".into(),
        email: "ana@example.com".into(),
        website: "https://example.com/ana".into(),
        parent: "12".into(),
        ..ReplyInput::default()
    };
    let limits = ReplyLimits::default();
    c.bench_function("reply form validation", |b| {
        b.iter(|| black_box(&input).validate(&limits).unwrap())
    });
}

criterion_group!(benches, article_page, text_to_html, form_validation);
criterion_main!(benches);
