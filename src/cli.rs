//! The command line: `byline serve`, `byline article add`, `byline reply approve`.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{self, Config, DatabaseUrl};
use crate::domain::{ReplyStatus, Role};
use crate::publishing::{self, Draft};
use crate::store::{PostgresStore, SqliteStore, Store};
use crate::web::{self, AppState};

#[derive(Parser)]
#[command(name = "byline", version, about = "A self-hosted news site")]
struct Cli {
    /// A TOML configuration file (also BYLINE_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The database: a file path or sqlite://PATH (also BYLINE_DATABASE).
    #[arg(long, global = true, value_name = "DATABASE")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site, creating or migrating the database first.
    Serve {
        /// Address and port to listen on (also BYLINE_LISTEN).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Fill an empty database with a sample article and replies.
        #[arg(long)]
        demo: bool,
    },
    /// Manage articles.
    #[command(subcommand)]
    Article(ArticleCommand),
    /// Manage readers' replies.
    #[command(subcommand)]
    Reply(ReplyCommand),
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Create or bring the database's schema up to date, then exit.
    Migrate,
    /// Fill an empty database with a generated site, for benchmarks and load tests.
    Generate {
        #[arg(long, default_value_t = 100)]
        articles: i64,
        /// Replies on each article but the first.
        #[arg(long, default_value_t = 10)]
        replies_per_article: i64,
        /// Threaded replies on the first article.
        #[arg(long, default_value_t = 200)]
        lead_replies: i64,
    },
    /// Copy a whole site into an empty database, keeping every id and URL.
    Copy {
        /// The source: a file path, sqlite://PATH or postgres://…
        #[arg(long, value_name = "DATABASE")]
        from: String,
        /// The target, which must be empty: a file path, sqlite://PATH or postgres://…
        #[arg(long, value_name = "DATABASE")]
        to: String,
    },
}

#[derive(Subcommand)]
enum ArticleCommand {
    /// Publish an article now and print its URL.
    Add {
        #[arg(long)]
        headline: String,
        #[arg(long, default_value = "")]
        standfirst: String,
        /// The author's name; a new name creates an author record.
        #[arg(long)]
        author: String,
        /// A Markdown file with the body, or - for standard input.
        #[arg(long, value_name = "FILE")]
        body: PathBuf,
        /// Publish with replies closed.
        #[arg(long)]
        closed: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff account; the password is asked for, or read from standard input when
    /// that is not a terminal.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, editor or author.
        #[arg(long, value_parser = ["admin", "editor", "author"])]
        role: String,
    },
}

#[derive(Subcommand)]
enum ReplyCommand {
    /// Approve a held reply, making it public.
    Approve { id: i64 },
}

/// Runs the command line; the process exits with the returned code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = !matches!(cli.command, Command::Serve { .. });
    init_logging(quiet);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if quiet { "warn" } else { "info" };
    let filter = EnvFilter::try_from_env("BYLINE_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut overrides = Vec::new();
    if let Some(database) = cli.database {
        overrides.push(("database", database));
    }
    if let Command::Serve { listen: Some(listen), .. } = &cli.command {
        overrides.push(("listen", listen.clone()));
    }
    if let Command::Copy { from, to } = &cli.command {
        return copy(from, to).await;
    }
    let file = cli.config.or_else(|| std::env::var_os("BYLINE_CONFIG").map(PathBuf::from));
    let config = Config::load(file.as_deref(), |name| std::env::var(name).ok(), &overrides)?;
    let store = open_store(&config).await?;
    match cli.command {
        Command::Serve { demo, .. } => serve(store, config, demo).await,
        Command::Article(ArticleCommand::Add { headline, standfirst, author, body, closed }) => {
            let body_markdown = read_body(&body)?;
            let draft =
                Draft { headline, standfirst, author, body_markdown, replies_open: !closed };
            let published = publishing::publish(&*store, &config.timezone, &draft).await?;
            println!("{}{}", config.base_url, published.path);
            Ok(())
        }
        Command::User(UserCommand::Add { email, name, role }) => {
            let role = Role::parse(&role).context("--role: expected admin, editor or author")?;
            let password = read_password()?;
            let user = crate::staff::add_user(&*store, &email, &name, role, &password).await?;
            println!(
                "Created {} ({}) as {}. Sign in at {}/admin/login",
                user.author.name,
                user.email,
                role.as_str(),
                config.base_url
            );
            Ok(())
        }
        Command::Generate { articles, replies_per_article, lead_replies } => {
            anyhow::ensure!(
                store.count_published_articles(None).await? == 0,
                "the database already has articles: generate only into an empty one"
            );
            let plan = crate::generate::Plan { articles, replies_per_article, lead_replies };
            crate::generate::generate(&*store, plan).await?;
            println!(
                "Generated {articles} articles and {} replies.",
                replies_per_article * (articles - 1).max(0) + lead_replies
            );
            Ok(())
        }
        Command::Migrate => {
            println!("The database {} is up to date.", config.database.redacted());
            Ok(())
        }
        Command::Copy { .. } => unreachable!("handled before the configuration is read"),
        Command::Reply(ReplyCommand::Approve { id }) => {
            if !store.set_comment_status(id, ReplyStatus::Approved).await? {
                anyhow::bail!("there is no reply with id {id}");
            }
            println!("Reply {id} approved.");
            Ok(())
        }
    }
}

/// Opens the configured database, creating or migrating its schema.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    open_database(&config.database).await
}

async fn open_database(database: &DatabaseUrl) -> anyhow::Result<Arc<dyn Store>> {
    let context = || format!("cannot open the database {}", database.redacted());
    Ok(match database {
        DatabaseUrl::Sqlite(path) => Arc::new(SqliteStore::open(path).with_context(context)?),
        DatabaseUrl::Postgres(url) => {
            Arc::new(PostgresStore::connect(url).await.with_context(context)?)
        }
    })
}

async fn copy(from: &str, to: &str) -> anyhow::Result<()> {
    let parse = |raw: &str, flag: &str| {
        config::parse_database(raw).with_context(|| {
            format!("--{flag}: expected a file path, sqlite://PATH or postgres://…")
        })
    };
    let (from, to) = (parse(from, "from")?, parse(to, "to")?);
    if from == to {
        anyhow::bail!("--from and --to name the same database");
    }
    let (source, target) = (open_database(&from).await?, open_database(&to).await?);
    let counts = crate::copy::copy_site(&*source, &*target).await?;
    println!("Copied {} → {}", from.redacted(), to.redacted());
    for counted in counts {
        println!(
            "{:>15}: {} rows in the source, {} in the target",
            counted.table, counted.from, counted.to
        );
    }
    Ok(())
}

/// From the terminal without echo (asked twice), or the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let password = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        anyhow::ensure!(password == again, "the two passwords differ");
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("cannot read the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn read_body(path: &PathBuf) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut body = String::new();
        std::io::stdin().read_to_string(&mut body).context("cannot read the body from stdin")?;
        return Ok(body);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

async fn serve(store: Arc<dyn Store>, config: Config, demo: bool) -> anyhow::Result<()> {
    if demo && crate::demo::seed_if_empty(&*store, &config.timezone).await? {
        tracing::info!("seeded the database with demo content");
    }
    let listen = config.listen;
    let base_url = config.base_url.clone();
    let state = AppState::new(store, config).await?;
    crate::jobs::spawn(state.clone());
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (setting `listen`, BYLINE_LISTEN)"))?;
    tracing::info!(address = %listen, base_url, "serving");
    axum::serve(listener, web::build_app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the server stopped")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
