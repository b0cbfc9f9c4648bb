//! What the public pages show, each read in one go (on SQLite one trip to a reading thread;
//! on PostgreSQL one pooled connection): the front page, listings, an article with its
//! thread, search, feeds and sitemaps.

use super::Services;
use super::discussion::{self, ThreadPage, ThreadView};
use super::publishing::lead_id;
use super::settings;
use crate::domain::paths::{author_id, author_path, section_path, tag_path};
use crate::domain::{ArticleStatus, DiscussionSettings, ReplyId, ReplyStatus};
use crate::store::{
    Article, ArticleNote, ArticleReads, ArticleSummary, Db, Listing, Page, PageLink, PageReads,
    Reply, ReplyReads, SearchHit, Section, StoreError, TermKind, TermReads,
};

type Result<T> = std::result::Result<T, StoreError>;

/// Where an article's URL points: `2026/11/24` and the slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleAddress {
    pub date: String,
    pub slug: String,
}

/// Where an article's address leads.
#[derive(Debug)]
pub enum Located {
    Here(Box<Article>),
    /// Right slug, wrong date, or an old slug: the canonical path.
    Elsewhere(String),
    Missing,
}

/// The published article at `address`, or where it moved.
pub async fn locate(db: &mut dyn Db, address: &ArticleAddress) -> Result<Located> {
    let article = match db.article_by_slug(&address.slug).await? {
        Some(article) => article,
        // An old slug of a published article answers with its current address.
        None => {
            let Some(id) = db.slug_redirect(&address.slug).await? else {
                return Ok(Located::Missing);
            };
            return Ok(match db.article(id).await? {
                Some(moved) if moved.status == ArticleStatus::Published => {
                    moved.public_path().map_or(Located::Missing, Located::Elsewhere)
                }
                _ => Located::Missing,
            });
        }
    };
    if article.date_path.as_deref() == Some(address.date.as_str()) {
        Ok(Located::Here(Box::new(article)))
    } else {
        Ok(article.public_path().map_or(Located::Missing, Located::Elsewhere))
    }
}

/// How many of the latest articles the page that answers `404` lists.
const LATEST: usize = 5;

/// What every public page's frame shows from the database: the site's name and look, the
/// sections in its header, the pages in its footer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteNav {
    pub identity: std::sync::Arc<crate::domain::identity::Identity>,
    pub sections: Vec<Section>,
    pub footer: Vec<PageLink>,
}

impl SiteNav {
    /// The sections and footer, read with the page; the identity, as the settings in force
    /// give it (see [`site_identity`]).
    pub async fn read(
        db: &mut dyn Db,
        identity: std::sync::Arc<crate::domain::identity::Identity>,
    ) -> Result<Self> {
        Ok(Self { identity, sections: db.sections().await?, footer: db.footer_pages().await? })
    }
}

/// The site's name and look in force (kept between requests with the other settings).
pub async fn site_identity(
    services: &Services,
) -> Result<std::sync::Arc<crate::domain::identity::Identity>> {
    Ok(super::settings::effective(services).await?.settings.identity)
}

impl Services {
    /// Keeps the frame a page just read, for error pages, which must not wait for the
    /// database (during an outage every one of them would).
    fn remember(&self, nav: &SiteNav) {
        let mut known = self.nav.lock().unwrap_or_else(|p| p.into_inner());
        if *known != *nav {
            *known = nav.clone();
        }
    }

    /// The site's identity as the settings were last read, for what cannot wait for them
    /// (a mail's words, an error page).
    pub fn known_identity(&self) -> std::sync::Arc<crate::domain::identity::Identity> {
        self.identity.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(super) fn remember_identity(
        &self,
        identity: &std::sync::Arc<crate::domain::identity::Identity>,
    ) {
        *self.identity.lock().unwrap_or_else(|p| p.into_inner()) = identity.clone();
    }

    /// The frame as last read.
    pub fn known_nav(&self) -> SiteNav {
        self.nav.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The latest articles (headline, address), for the page that answers `404`, which must
    /// not wait for the database: read at start and again after each site-wide change.
    pub fn known_latest(&self) -> Vec<(String, String)> {
        self.latest.known()
    }
}

/// The latest published articles as last read (see [`Services::known_latest`]).
pub(super) struct LatestArticles(std::sync::Arc<Latest>);

struct Latest {
    store: crate::store::Store,
    known: std::sync::Mutex<Vec<(String, String)>>,
    /// A read is under way; `again`: a change came since it began.
    reading: std::sync::atomic::AtomicBool,
    again: std::sync::atomic::AtomicBool,
}

impl LatestArticles {
    pub(super) fn new(store: crate::store::Store) -> Self {
        Self(std::sync::Arc::new(Latest {
            store,
            known: Default::default(),
            reading: Default::default(),
            again: Default::default(),
        }))
    }

    fn known(&self) -> Vec<(String, String)> {
        self.0.known.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads the list now (at start).
    pub(super) async fn read(&self) {
        self.0.read().await;
    }
}

impl Latest {
    /// A failure leaves the list as it was.
    async fn read(&self) {
        let limit = LATEST as u64;
        let found =
            self.store.read(move |db| Box::pin(db.published_articles(0, limit, None))).await;
        match found {
            Ok(articles) => {
                let latest = articles.iter().filter_map(|a| {
                    let date = a.date_path.as_deref()?;
                    Some((a.headline.clone(), crate::domain::paths::article_path(date, &a.slug)))
                });
                *self.known.lock().unwrap_or_else(|p| p.into_inner()) = latest.collect();
            }
            Err(e) => tracing::debug!(error = %e, "the latest articles were not read again"),
        }
    }
}

impl super::ChangeListener for LatestArticles {
    fn changed(&self, scope: &super::Scope) {
        use std::sync::atomic::Ordering::SeqCst;
        // Replies change counts, not which articles are the latest.
        if *scope != super::Scope::Everything {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        self.0.again.store(true, SeqCst);
        if self.0.reading.swap(true, SeqCst) {
            return;
        }
        let latest = self.0.clone();
        runtime.spawn(async move {
            loop {
                while latest.again.swap(false, SeqCst) {
                    latest.read().await;
                }
                latest.reading.store(false, SeqCst);
                // A change that came after the last read and before `reading` was cleared.
                if !latest.again.load(SeqCst) || latest.reading.swap(true, SeqCst) {
                    break;
                }
            }
        });
    }
}

/// Fills in the library images that featured images name, in one read.
pub(super) async fn with_media<'a>(
    db: &mut dyn Db,
    images: impl Iterator<Item = &'a mut Option<crate::store::Image>>,
) -> Result<()> {
    use crate::store::MediaReads;
    let mut wanted: Vec<&'a mut crate::store::Image> = Vec::new();
    for image in images.flatten() {
        if crate::domain::media::library_id(&image.url).is_some() {
            wanted.push(image);
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let ids: Vec<_> =
        wanted.iter().filter_map(|i| crate::domain::media::library_id(&i.url)).collect();
    let found = db.media_by_ids(&ids).await?;
    for image in wanted {
        let id = crate::domain::media::library_id(&image.url);
        image.media = found.iter().find(|m| Some(m.id) == id).map(crate::store::Media::view);
    }
    Ok(())
}

pub struct FrontPage {
    pub nav: SiteNav,
    /// The lead story, on the first page.
    pub lead: Option<Article>,
    pub articles: Vec<ArticleSummary>,
    pub pages: u64,
}

/// Page `page` of the front page; `None` past the last.
pub async fn front_page(services: &Services, page: u64) -> Result<Option<FrontPage>> {
    let per_page = services.config.articles_per_page;
    let identity = site_identity(services).await?;
    let front = services
        .store
        .read(move |db| {
            Box::pin(async move {
                // The lead story heads the first page, and is left out of the list below it.
                let lead = match lead_id(db).await? {
                    Some(id) => {
                        db.article(id).await?.filter(|a| a.status == ArticleStatus::Published)
                    }
                    None => None,
                };
                let except = lead.as_ref().map(|a| a.id);
                let pages = db.count_published_articles(except).await?.div_ceil(per_page).max(1);
                if page > pages {
                    return Ok(None);
                }
                let mut articles =
                    db.published_articles((page - 1) * per_page, per_page, except).await?;
                let mut lead = lead.filter(|_| page == 1);
                let images = articles.iter_mut().map(|a| &mut a.image);
                with_media(db, images.chain(lead.iter_mut().map(|a| &mut a.image))).await?;
                Ok(Some(FrontPage {
                    nav: SiteNav::read(db, identity).await?,
                    lead,
                    articles,
                    pages,
                }))
            })
        })
        .await?;
    if let Some(front) = &front {
        services.remember(&front.nav);
    }
    Ok(front)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingKind {
    Section,
    Tag,
    Author,
}

/// An author's photo as an image's address: a library image's small size, or the address
/// given; `None` when there is none (or the library image is gone).
async fn photo_src(db: &mut dyn Db, photo: &str) -> Result<Option<String>> {
    use crate::store::MediaReads;
    if photo.is_empty() {
        return Ok(None);
    }
    match crate::domain::media::library_id(photo) {
        Some(id) => Ok(db.media_by_ids(&[id]).await?.first().map(|m| m.view().thumbnail())),
        None => Ok(Some(photo.to_owned())),
    }
}

/// What a listing's address names.
pub struct Listed {
    pub listing: Listing,
    pub heading: String,
    /// An author's bio.
    pub intro: String,
    /// An author's photo, as an image's address.
    pub photo: Option<String>,
    /// `/section/politics/`: the first page's address.
    pub base: String,
}

async fn find_listing(db: &mut dyn Db, kind: ListingKind, key: &str) -> Result<Option<Listed>> {
    Ok(match kind {
        ListingKind::Section => db.term_by_slug(TermKind::Section, key).await?.map(|s| Listed {
            listing: Listing::Section(crate::domain::SectionId(s.id)),
            base: section_path(&s.slug),
            heading: s.name,
            intro: s.description,
            photo: None,
        }),
        ListingKind::Tag => db.term_by_slug(TermKind::Tag, key).await?.map(|t| Listed {
            listing: Listing::Tag(crate::domain::TagId(t.id)),
            base: tag_path(&t.slug),
            heading: t.name,
            intro: t.description,
            photo: None,
        }),
        ListingKind::Author => match author_id(key) {
            Some(id) => match db.author(id).await? {
                Some(a) => Some(Listed {
                    listing: Listing::Author(a.id),
                    base: author_path(a.id, &a.name),
                    photo: photo_src(db, &a.photo).await?,
                    heading: a.name,
                    intro: a.bio,
                }),
                None => None,
            },
            None => None,
        },
    })
}

pub struct ListingPage {
    pub nav: SiteNav,
    pub listed: Listed,
    pub articles: Vec<ArticleSummary>,
    pub total: u64,
}

/// A section's, tag's or author's page of articles; `None` when the key names nothing.
pub async fn listing(
    services: &Services,
    kind: ListingKind,
    key: &str,
    page: u64,
    per_page: u64,
) -> Result<Option<ListingPage>> {
    let identity = site_identity(services).await?;
    let key = key.to_owned();
    let found = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let Some(listed) = find_listing(db, kind, &key).await? else { return Ok(None) };
                let (mut articles, total) =
                    db.published_in(listed.listing, (page - 1) * per_page, per_page).await?;
                with_media(db, articles.iter_mut().map(|a| &mut a.image)).await?;
                Ok(Some(ListingPage {
                    nav: SiteNav::read(db, identity).await?,
                    listed,
                    articles,
                    total,
                }))
            })
        })
        .await?;
    if let Some(found) = &found {
        services.remember(&found.nav);
    }
    Ok(found)
}

/// A date archive's address: `2026`, `2026/11` or `2026/11/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveDate {
    pub year: i16,
    pub month: Option<i8>,
    pub day: Option<i8>,
}

impl ArchiveDate {
    /// The parts of an address, if they name a date (`2026`, `11`, `24`; `1` for January too).
    pub fn parse(year: &str, month: Option<&str>, day: Option<&str>) -> Option<Self> {
        fn number<T: std::str::FromStr>(
            s: &str,
            digits: std::ops::RangeInclusive<usize>,
        ) -> Option<T> {
            let plain = digits.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
            if plain { s.parse().ok() } else { None }
        }
        let year: i16 = number(year, 4..=4)?;
        let month: Option<i8> = match month {
            Some(m) => Some(number(m, 1..=2)?),
            None => None,
        };
        let day: Option<i8> = match day {
            Some(d) => Some(number(d, 1..=2)?),
            None => None,
        };
        jiff::civil::Date::new(year, month.unwrap_or(1), day.unwrap_or(1)).ok()?;
        Some(Self { year, month, day })
    }

    /// `/2026/11/`: the first page's address.
    pub fn path(&self) -> String {
        match (self.month, self.day) {
            (Some(m), Some(d)) => format!("/{:04}/{m:02}/{d:02}/", self.year),
            (Some(m), None) => format!("/{:04}/{m:02}/", self.year),
            _ => format!("/{:04}/", self.year),
        }
    }

    /// The time it covers in the site's time zone, as `[from, until)` Unix seconds.
    fn span(&self, tz: &jiff::tz::TimeZone) -> Option<(i64, i64)> {
        let start =
            jiff::civil::Date::new(self.year, self.month.unwrap_or(1), self.day.unwrap_or(1))
                .ok()?;
        let end = match (self.month, self.day) {
            (Some(_), Some(_)) => start.checked_add(jiff::Span::new().days(1)).ok()?,
            (Some(_), None) => start.checked_add(jiff::Span::new().months(1)).ok()?,
            _ => start.checked_add(jiff::Span::new().years(1)).ok()?,
        };
        let at =
            |d: jiff::civil::Date| d.to_zoned(tz.clone()).ok().map(|z| z.timestamp().as_second());
        Some((at(start)?, at(end)?))
    }

    /// `2026`, `November 2026`, `24 November 2026`.
    fn heading(&self) -> String {
        let date =
            jiff::civil::Date::new(self.year, self.month.unwrap_or(1), self.day.unwrap_or(1))
                .unwrap_or_default();
        match (self.month, self.day) {
            (Some(_), Some(_)) => date.strftime("%-d %B %Y").to_string(),
            (Some(_), None) => date.strftime("%B %Y").to_string(),
            _ => date.strftime("%Y").to_string(),
        }
    }
}

/// A date archive's page of articles; `None` when nothing was published then.
pub async fn date_archive(
    services: &Services,
    date: ArchiveDate,
    page: u64,
    per_page: u64,
) -> Result<Option<ListingPage>> {
    let Some((from, until)) = date.span(&services.config.timezone) else { return Ok(None) };
    let identity = site_identity(services).await?;
    let listed = Listed {
        listing: Listing::Dates { from, until },
        heading: date.heading(),
        intro: String::new(),
        photo: None,
        base: date.path(),
    };
    let found = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let (mut articles, total) =
                    db.published_in(listed.listing, (page - 1) * per_page, per_page).await?;
                with_media(db, articles.iter_mut().map(|a| &mut a.image)).await?;
                if total == 0 {
                    return Ok(None);
                }
                Ok(Some(ListingPage {
                    nav: SiteNav::read(db, identity).await?,
                    listed,
                    articles,
                    total,
                }))
            })
        })
        .await?;
    if let Some(found) = &found {
        services.remember(&found.nav);
    }
    Ok(found)
}

/// What the article page asks for besides the address.
#[derive(Debug, Clone, Default)]
pub struct ArticleRequest {
    /// `?replies=N`; the newest page when absent.
    pub replies_page: Option<usize>,
    /// The poster's own held replies (from their signed cookie).
    pub held_ids: Vec<ReplyId>,
    /// `?replytocom=ID`: the reply the form answers.
    pub reply_to: Option<ReplyId>,
}

pub enum ArticleLookup {
    Found(Box<ArticlePage>),
    Moved(String),
    NotFound,
}

pub struct ArticlePage {
    pub nav: SiteNav,
    pub article: Article,
    pub notes: Vec<ArticleNote>,
    pub related: Vec<ArticleSummary>,
    pub thread: ThreadPage,
    pub settings: DiscussionSettings,
    /// Replies open: by the editor, and by the article's age.
    pub open: bool,
    /// The approved reply of this article the form answers.
    pub reply_to: Option<Reply>,
}

/// What an article's page shows besides its thread: the article with its byline and tags, its
/// notes, the related articles, the sections. None of it changes but with an edit (of this
/// article or another), which touches every page; so it is kept between renders (see `kept`),
/// and a page read while replies pour in reads only its thread (which counts the replies).
#[derive(Debug, Clone)]
pub struct Chrome {
    article: Article,
    notes: Vec<ArticleNote>,
    related: Vec<ArticleSummary>,
    nav: SiteNav,
}

impl Chrome {
    async fn read(
        db: &mut dyn Db,
        mut article: Article,
        identity: std::sync::Arc<crate::domain::identity::Identity>,
    ) -> Result<Self> {
        article.authors = db.authors_of_article(article.id).await?;
        article.tags = db.tags_of_article(article.id).await?;
        let mut related = db.related_articles(article.id, 4).await?;
        let images = related.iter_mut().map(|a| &mut a.image);
        with_media(db, images.chain(std::iter::once(&mut article.image))).await?;
        Ok(Self {
            notes: db.notes(article.id).await?,
            related,
            nav: SiteNav::read(db, identity).await?,
            article,
        })
    }
}

/// Gives a read's closure the signature the store's reads take (inferred from the bound).
fn a_read<T, F>(op: F) -> F
where
    F: for<'a> FnOnce(&'a mut dyn Db) -> crate::store::BoxFuture<'a, Result<T>>,
{
    op
}

/// The article at `address` with one page of its thread, all read at once.
pub async fn article_page(
    services: &Services,
    address: &ArticleAddress,
    request: ArticleRequest,
) -> Result<ArticleLookup> {
    let address = address.clone();
    let now = services.clock.now();
    let settings = settings::effective(services).await?.settings;
    let identity = settings.identity.clone();
    let kept = &services.kept_chrome;
    let (chrome, generation) = (kept.get(&address.slug), kept.generation());
    let slug = address.slug.clone();
    // With the article's text at hand, what is left to read is the thread: its size decides
    // where the read goes.
    let replies = chrome.as_ref().map(|c| c.article.reply_count);
    let read = a_read(move |db| {
        Box::pin(async move {
            let (chrome, read) = match chrome {
                Some(chrome) => (chrome, false),
                None => match locate_alone(db, &address).await? {
                    Located::Here(article) => (Chrome::read(db, *article, identity).await?, true),
                    Located::Elsewhere(path) => return Ok((ArticleLookup::Moved(path), None)),
                    Located::Missing => return Ok((ArticleLookup::NotFound, None)),
                },
            };
            if chrome.article.date_path.as_deref() != Some(address.date.as_str()) {
                let moved = chrome.article.public_path();
                return Ok((moved.map_or(ArticleLookup::NotFound, ArticleLookup::Moved), None));
            }
            let view = ThreadView {
                held_ids: &request.held_ids,
                max_depth: settings.thread_depth,
                per_page: settings.replies_per_page,
            };
            let (id, known) = (chrome.article.id, chrome.article.reply_count);
            let thread = discussion::thread_page(db, id, view, request.replies_page, known);
            let Some(thread) = thread.await? else {
                return Ok((ArticleLookup::NotFound, None));
            };
            let reply_to = match request.reply_to {
                Some(reply) => db
                    .reply(reply)
                    .await?
                    .filter(|r| r.article_id == id && r.status == ReplyStatus::Approved),
                None => None,
            };
            let kept = read.then(|| chrome.clone());
            let Chrome { mut article, notes, related, nav } = chrome;
            // The count of the replies as shown, not as the article was last read.
            article.reply_count = thread.approved as i64;
            let page = ArticlePage {
                nav,
                notes,
                related,
                open: !discussion::replies_closed(&article, &settings, now),
                article,
                thread,
                settings,
                reply_to,
            };
            Ok((ArticleLookup::Found(Box::new(page)), kept))
        })
    });
    let (lookup, read) = services.store.read_page(replies, read).await?;
    if let Some(read) = read {
        kept.put(slug.clone(), read, generation);
    }
    if let ArticleLookup::Found(page) = &lookup {
        // The count the next render decides by (a thread that fits on one page is read whole).
        kept.update(&slug, |c| c.article.reply_count = page.article.reply_count);
        services.remember(&page.nav);
    }
    Ok(lookup)
}

/// As [`locate`], without the byline and tags of the article found (the caller has them).
async fn locate_alone(db: &mut dyn Db, address: &ArticleAddress) -> Result<Located> {
    match db.published_article_alone(&address.slug).await? {
        Some(article) if article.date_path.as_deref() == Some(address.date.as_str()) => {
            Ok(Located::Here(Box::new(article)))
        }
        Some(article) => Ok(article.public_path().map_or(Located::Missing, Located::Elsewhere)),
        None => locate(db, address).await,
    }
}

pub async fn locate_article(services: &Services, address: &ArticleAddress) -> Result<Located> {
    let address = address.clone();
    services.store.read(move |db| Box::pin(async move { locate(db, &address).await })).await
}

pub struct SearchPage {
    pub nav: SiteNav,
    pub hits: Vec<Found>,
    pub total: u64,
}

/// A search result: the article, its headline with the matches marked, and a passage around
/// the first match (marked by `search::MARK_START` and `MARK_END`).
pub struct Found {
    pub article: ArticleSummary,
    pub headline: String,
    pub snippet: String,
}

/// The published articles that match what the reader typed, best first.
pub async fn search(
    services: &Services,
    query: &str,
    offset: u64,
    limit: u64,
) -> Result<SearchPage> {
    let identity = site_identity(services).await?;
    let language = services.config.language.clone();
    let query = crate::domain::search::Query::parse(query, &language);
    let wanted = query.clone();
    let (nav, hits, total) = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let (hits, total) = db.search(&wanted, offset, limit).await?;
                Ok((SiteNav::read(db, identity).await?, hits, total))
            })
        })
        .await?;
    services.remember(&nav);
    let hits = hits
        .into_iter()
        .map(|hit: SearchHit| Found {
            headline: crate::domain::search::mark(&hit.article.headline, &query, &language),
            snippet: crate::domain::search::snippet(&hit.text, &query, &language, 160),
            article: hit.article,
        })
        .collect();
    Ok(SearchPage { nav, hits, total })
}

/// The newest published articles, for the site's feed and the sitemaps.
pub async fn latest(services: &Services, limit: u64) -> Result<Vec<ArticleSummary>> {
    services
        .store
        .read(move |db| {
            Box::pin(async move {
                let mut articles = db.published_articles(0, limit, None).await?;
                with_media(db, articles.iter_mut().map(|a| &mut a.image)).await?;
                Ok(articles)
            })
        })
        .await
}

/// A section's, tag's or author's newest articles, for its feed.
pub async fn listing_feed(
    services: &Services,
    kind: ListingKind,
    key: &str,
    limit: u64,
) -> Result<Option<(Listed, Vec<ArticleSummary>)>> {
    let key = key.to_owned();
    services
        .store
        .read(move |db| {
            Box::pin(async move {
                let Some(listed) = find_listing(db, kind, &key).await? else { return Ok(None) };
                let (mut articles, _) = db.published_in(listed.listing, 0, limit).await?;
                with_media(db, articles.iter_mut().map(|a| &mut a.image)).await?;
                Ok(Some((listed, articles)))
            })
        })
        .await
}

/// An article's newest approved replies, newest first, for its replies' feed.
pub async fn replies_feed(
    services: &Services,
    address: &ArticleAddress,
    limit: u64,
) -> Result<Option<(Article, Vec<Reply>)>> {
    let address = address.clone();
    services
        .store
        .read(move |db| {
            Box::pin(async move {
                let Located::Here(article) = locate(db, &address).await? else { return Ok(None) };
                let replies = db.newest_replies(article.id, limit).await?;
                Ok(Some((*article, replies)))
            })
        })
        .await
}

/// Every published article (up to `limit`), the sections and the published pages, for the
/// sitemap.
pub async fn sitemap(
    services: &Services,
    limit: u64,
) -> Result<(Vec<Section>, Vec<Page>, Vec<ArticleSummary>)> {
    services
        .store
        .read(move |db| {
            Box::pin(async move {
                let articles = db.published_articles(0, limit, None).await?;
                Ok((db.sections().await?, db.published_pages().await?, articles))
            })
        })
        .await
}
