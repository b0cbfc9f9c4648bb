//! The use cases: posting a reply, moderating, writing and publishing, staff accounts,
//! settings, and reading the public pages. The web layer and the command line call these;
//! they call the store.
//!
//! Every use case that writes runs as one unit of work ([`Services::commit`]): one
//! transaction, in which it also says what it changed. Once it has committed, [`changes`]
//! applies that in one place: this node's page cache, the other nodes (a `NOTIFY` sent in the
//! transaction), and the outbox (events written in the transaction, for its handlers).

pub mod api_tokens;
pub mod catalog;
pub mod changes;
pub mod dashboard;
pub mod discussion;
pub mod jobs;
pub mod kept;
pub mod live;
pub mod mail;
pub mod media;
pub mod moderation;
pub mod outbox;
pub mod own_replies;
pub mod pages;
pub mod passwords;
pub mod publishing;
pub mod reader_data;
pub mod reading;
pub mod settings;
pub mod staff;
pub mod terms;
pub mod threads;

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::events::NewEvent;
use crate::domain::signing::{Keys, new_secret};
use crate::domain::{ArticleId, EventKind, ReplyId};
use crate::store::{BoxFuture, SettingWrites, SiteSetting, Store, StoreError, Tx};

pub use changes::{ChangeHub, ChangeListener, Changes, Scope};

/// What every use case needs. One per process, shared.
pub struct Services {
    pub store: Store,
    pub clock: Clock,
    pub config: Arc<Config>,
    /// The site's signing key, the same on every node.
    pub keys: Keys,
    pub changes: Arc<ChangeHub>,
    /// The site's sections and footer as last read (see `reading`), for error pages.
    nav: std::sync::Mutex<reading::SiteNav>,
    /// The latest articles as last read (see `reading`), for `404`s.
    latest: Arc<reading::LatestArticles>,
    /// The site's identity as the settings were last read (see `reading`).
    identity: std::sync::Mutex<std::sync::Arc<crate::domain::identity::Identity>>,
    /// The discussion settings as last read (see `settings::effective`).
    kept_settings: Arc<kept::Kept<(), settings::Effective>>,
    /// What replies need of their articles, by slug, as last read (see `discussion`).
    kept_targets: Arc<kept::Kept<String, crate::store::ReplyTarget>>,
    /// What article pages show besides the article and its thread, by slug (see `reading`).
    kept_chrome: Arc<kept::Kept<String, reading::Chrome>>,
    /// Where the media library's files are kept.
    pub media_files: crate::media::SharedFiles,
    /// The small media files asked for most (`web::media` serves them from here).
    pub hot_files: crate::media::HotFiles,
    /// One permit per image decoded or encoded at once (`image_jobs`).
    image_permits: Arc<tokio::sync::Semaphore>,
    /// How mail leaves (`mail` off: it does not).
    pub mailer: crate::mail::Mailer,
}

impl Services {
    /// Loads the signing secret from the database, creating it on first start, so that every
    /// node signs and checks cookies and form tokens with the same key.
    pub async fn new(store: Store, clock: Clock, config: Config) -> anyhow::Result<Self> {
        let fresh = new_secret();
        let secret = store
            .write(move |tx| {
                Box::pin(async move { tx.setting_or_insert(SiteSetting::Secret, &fresh).await })
            })
            .await?;
        let changes: Arc<ChangeHub> = Arc::default();
        changes::announce(&changes, store.clone());
        let kept_settings = Arc::new(kept::Kept::default());
        let kept_targets = Arc::new(kept::Kept::default());
        let kept_chrome = Arc::new(kept::Kept::default());
        let latest = Arc::new(reading::LatestArticles::new(store.clone()));
        latest.read().await;
        for listener in [
            kept_settings.clone() as Arc<dyn changes::ChangeListener>,
            kept_targets.clone() as Arc<dyn changes::ChangeListener>,
            kept_chrome.clone() as Arc<dyn changes::ChangeListener>,
            latest.clone() as Arc<dyn changes::ChangeListener>,
        ] {
            changes.listen(Arc::downgrade(&listener));
        }
        let media_files = crate::media::files_for(&config)?;
        let image_permits = Arc::new(tokio::sync::Semaphore::new(config.image_jobs));
        let mailer = crate::mail::Mailer::new(&config.mail)
            .map_err(|e| anyhow::anyhow!("setting `smtp_host` (BYLINE_SMTP_HOST): {e}"))?;
        Ok(Self {
            mailer,
            media_files,
            hot_files: crate::media::HotFiles::default(),
            image_permits,
            keys: Keys::new(&secret),
            store,
            clock,
            config: Arc::new(config),
            changes,
            nav: Default::default(),
            latest,
            identity: Default::default(),
            kept_settings,
            kept_targets,
            kept_chrome,
        })
    }

    /// Waits until the other nodes have been told of everything this one committed.
    pub async fn settle(&self) {
        self.changes.settle().await;
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn database_answers(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }

    /// Runs `op` as one unit of work. The events it records are written in the same
    /// transaction; the pages it makes stale are forgotten on this node once it has committed,
    /// and announced to the other nodes right after. When `op` fails, nothing of it remains.
    pub async fn commit<T, E, F>(&self, op: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'a, 't> FnOnce(&'a mut UnitOfWork<'t>) -> BoxFuture<'a, Result<T, E>>
            + Send
            + 'static,
    {
        let now = self.clock.now();
        let (store, hub) = (self.store.clone(), self.changes.clone());
        // On a task of its own, so that a request given up half way (a client gone, a time
        // limit) neither cuts the unit short nor forgets to apply what it changed.
        let task = tokio::spawn(async move {
            let (value, changes) = store
                .write(move |tx| {
                    Box::pin(async move {
                        let mut unit = UnitOfWork { tx, changes: Changes::default(), now };
                        let value = op(&mut unit).await?;
                        let changes = unit.finish().await.map_err(E::from)?;
                        Ok::<_, E>((value, changes))
                    })
                })
                .await?;
            hub.committed(&changes);
            Ok(value)
        });
        task.await.unwrap_or_else(|e| {
            Err(E::from(StoreError::Database(format!("a unit of work failed: {e}"))))
        })
    }
}

/// One transaction of a use case, and what it changed.
pub struct UnitOfWork<'t> {
    tx: &'t mut dyn Tx,
    changes: Changes,
    now: i64,
}

impl<'t> Deref for UnitOfWork<'t> {
    type Target = dyn Tx + 't;

    fn deref(&self) -> &Self::Target {
        self.tx
    }
}

impl DerefMut for UnitOfWork<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.tx
    }
}

impl UnitOfWork<'_> {
    /// The time of this unit of work (the clock's, read once when it began).
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The public replies of the article at `path` changed (or its reply count): its pages and
    /// the listings. `None` for an article that was never published.
    pub fn replies_changed(&mut self, path: Option<String>) {
        if let Some(path) = path {
            self.changes.article(path);
        }
    }

    /// `article`'s public replies changed: its pages, wherever they are shown (a static
    /// page's replies are shown at the page's address).
    pub async fn replies_of_changed(
        &mut self,
        article: &crate::store::Article,
    ) -> Result<(), StoreError> {
        use crate::store::PageReads;
        let path = match article.public_path() {
            Some(path) => Some(path),
            None => self
                .page_of_discussion(article.id)
                .await?
                .map(|p| crate::domain::paths::page_path(&p)),
        };
        self.replies_changed(path);
        Ok(())
    }

    /// Something any public page may show changed (an article's text, a setting, a name on a
    /// byline).
    pub fn site_changed(&mut self) {
        self.changes.everything();
    }

    /// Records an event for the outbox's handlers, in this transaction.
    pub fn record(&mut self, kind: EventKind, article_id: ArticleId, reply_id: Option<ReplyId>) {
        self.changes.record(NewEvent::of_article(kind, article_id, reply_id));
    }

    /// Records an event of a library image.
    pub fn record_media(&mut self, kind: EventKind, media_id: crate::domain::MediaId) {
        self.changes.record(NewEvent::of_media(kind, media_id));
    }

    /// Writes the events, with the commit.
    async fn finish(self) -> Result<Changes, StoreError> {
        use crate::store::OutboxWrites;
        let UnitOfWork { tx, changes, now } = self;
        for event in changes.events() {
            tx.queue_event(event, now)?;
        }
        Ok(changes)
    }
}
