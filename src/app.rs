//! Starting Byline: the one path `byline serve` and the tests take from a configuration to a
//! running site (store opened and migrated, services, background work, router, listener).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::clock::Clock;
use crate::config::Config;
use crate::server::{self, ConnectionLimits};
use crate::services::outbox::{self, Handler};
use crate::services::{Services, changes, jobs};
use crate::store::Store;
use crate::web::{self, AppState};

/// What may differ between a production start and a test's.
pub struct Options {
    pub clock: Clock,
    /// What the outbox hands events to besides the built-in handlers (tests add their own).
    pub handlers: Vec<Arc<dyn Handler>>,
    /// How often the outbox looks for work no commit on this node announced.
    pub outbox_poll: Duration,
    /// Fill an empty database with sample articles and replies.
    pub demo: bool,
    /// Run the imports uploaded in the newsroom (every node does, unless a test says not).
    pub run_imports: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clock: Clock::system(),
            handlers: Vec::new(),
            outbox_poll: Duration::from_secs(1),
            demo: false,
            run_imports: true,
        }
    }
}

/// A site ready to serve.
pub struct Application {
    listener: tokio::net::TcpListener,
    pub state: AppState,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Opens (creating or migrating) the configured database, then as [`Application::with_store`].
    pub async fn build(config: Config, options: Options) -> anyhow::Result<Self> {
        let store = Store::open(&config.database, options.clock.now())
            .await
            .with_context(|| format!("cannot open the database {}", config.database.redacted()))?;
        Self::with_store(store, config, options).await
    }

    /// Builds the site on an open store: binds `listen` (port 0 takes a free one, and a
    /// `base_url` left to its default follows it), starts the scheduler, the outbox and the
    /// listener for other nodes' changes.
    pub async fn with_store(
        store: Store,
        mut config: Config,
        options: Options,
    ) -> anyhow::Result<Self> {
        let listen = config.listen;
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| {
            format!("cannot listen on {listen} (setting `listen`, BYLINE_LISTEN)")
        })?;
        let bound = listener.local_addr()?;
        if config.base_url == format!("http://{listen}") {
            config.base_url = format!("http://{bound}");
            if !listen.ip().is_loopback() {
                tracing::warn!(
                    base_url = config.base_url,
                    "base_url is not set while listening beyond this machine: replies whose \
                     page was at another address will be refused as sent from another site \
                     (set base_url, BYLINE_BASE_URL, to the site's public address)"
                );
            }
        }
        config.listen = bound;
        let services = Arc::new(Services::new(store.clone(), options.clock, config).await?);
        check_media_store(&services).await?;
        if crate::services::publishing::fill_body_text(&services).await? > 0 {
            tracing::info!("filled in the searchable text of articles saved before it was kept");
        }
        let rendered = crate::services::publishing::render_again(&services).await?;
        if rendered > 0 {
            tracing::info!(articles = rendered, "rendered the bodies again with this version");
        }
        // What error pages show of the site (its sections, its latest articles) is what a page
        // last read; read the front page once so that it is there from the start.
        crate::services::reading::front_page(&services, 1).await?;
        if options.demo && crate::tools::demo::seed_if_empty(&services).await? {
            tracing::info!("seeded the database with demo content");
        }
        // Every node makes images' variants; tests add handlers of their own.
        let mut handlers = options.handlers.clone();
        handlers.extend(builtin_handlers(Arc::downgrade(&services), services.mailer.is_on()));
        outbox::register(&services, &handlers).await?;
        let state = AppState::with_pages(services.clone(), page_cache_for(&services.config)?);
        let (listening, heard) = tokio::sync::oneshot::channel();
        let mut tasks = vec![
            jobs::spawn(services.clone(), handlers.iter().map(|h| h.name()).collect()),
            changes::forward_remote(&store, services.clone(), listening),
        ];
        if options.run_imports {
            tasks.push(crate::tools::import::jobs::spawn(services.clone()));
        }
        if store.dialect() == crate::store::Dialect::Postgres {
            // Serve cached pages only once this node hears the others' changes.
            if tokio::time::timeout(Duration::from_secs(5), heard).await.is_err() {
                tracing::warn!("not yet listening for other nodes' changes");
            }
        }
        tasks.extend(outbox::spawn(services, handlers, options.outbox_poll));
        Ok(Self { listener, state, tasks })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.state.config.listen
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets the requests in flight
    /// finish and closes idle connections; connections still open after `shutdown_seconds`
    /// (a client sending a byte a second) are closed then, whatever they are doing. A reply
    /// acknowledged was committed before its answer, so none is lost.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self { listener, state, tasks } = self;
        let grace = Duration::from_secs(state.config.shutdown_seconds);
        let limits = ConnectionLimits {
            header: Duration::from_secs(state.config.header_timeout_seconds),
            keepalive: Duration::from_secs(state.config.keepalive_seconds),
            max_connections: state.config.max_connections,
        };
        let refused = state.metrics.connections_refused.clone();
        // Live streams never end by themselves: a stop ends them.
        let live = state.live.clone();
        let shutdown = async move {
            shutdown.await;
            live.close();
        };
        server::serve(listener, web::build_app(state), limits, refused, shutdown, grace).await;
        for task in tasks {
            task.abort();
        }
        Ok(())
    }
}

/// The media files' store must take files before the site opens, or the setting that names
/// it is wrong.
async fn check_media_store(services: &Services) -> anyhow::Result<()> {
    let files = &services.media_files;
    files.check().await.map_err(|e| {
        let setting = match services.config.media_store {
            crate::config::MediaStore::Folder => "`media_dir` (BYLINE_MEDIA_DIR)",
            crate::config::MediaStore::S3(_) => "`media_store` (BYLINE_MEDIA_STORE)",
        };
        anyhow::anyhow!("setting {setting}: cannot keep files in {}: {e}", files.describe())
    })
}

/// Registers the handlers every node runs, for a process that records events without running
/// them (a command): a server started later delivers them.
pub async fn register_builtin_handlers(services: &Services) -> anyhow::Result<()> {
    let mail = services.mailer.is_on();
    outbox::register(services, &builtin_handlers(std::sync::Weak::new(), mail)).await?;
    Ok(())
}

/// The handlers every node runs (tests add their own beside them).
fn builtin_handlers(services: std::sync::Weak<Services>, mail: bool) -> Vec<Arc<dyn Handler>> {
    let mut handlers: Vec<Arc<dyn Handler>> =
        vec![Arc::new(crate::services::media::VariantMaker { services: services.clone() })];
    handlers.extend(crate::services::mail::handlers(services, mail));
    handlers
}

/// The page cache the settings ask for, its folder on disk taken at start-up.
fn page_cache_for(config: &Config) -> anyhow::Result<web::page_cache::PageCache> {
    let disk = if config.page_cache && config.page_cache_disk_bytes > 0 {
        let dir = &config.page_cache_dir;
        let tier = web::page_disk::DiskTier::open(dir, config.page_cache_disk_bytes);
        Some(tier.with_context(|| {
            format!(
                "cannot keep pages in {} (setting `page_cache_dir`, BYLINE_PAGE_CACHE_DIR)",
                dir.display()
            )
        })?)
    } else {
        None
    };
    Ok(web::page_cache::PageCache::new(config.page_cache_memory_bytes, disk))
}
