//! The command line: `byline serve`, `byline article add`, `byline reply approve`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::{Application, Options};
use crate::clock::Clock;
use crate::config::{self, Config, DatabaseUrl, LogFormat};
use crate::domain::{ReplyId, Role};
use crate::services::Services;
use crate::services::moderation::{self, ModerationError};
use crate::services::publishing::{self, Draft};
use crate::store::{ArticleReads, Store};
use crate::tools::import::Options as ImportOptions;

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
    /// The media library.
    #[command(subcommand)]
    Media(MediaCommand),
    /// Mail: check that the settings reach a server.
    #[command(subcommand)]
    Mail(MailCommand),
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
    /// Write a consistent copy of an SQLite site to a new file, while it serves.
    Backup {
        /// The new file.
        file: PathBuf,
    },
    /// Bring in a site from another system: articles, authors, sections, tags and replies,
    /// with the old addresses answering with a redirect.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write the whole site (all but secrets and sessions) to one file, which
    /// `byline import json` reads back into an empty database.
    Export {
        /// json: Byline's own format, documented in README; wxr: a WordPress export (WXR 1.2).
        #[arg(long, value_parser = ["json", "wxr"])]
        format: String,
        /// The file to write; standard output when absent.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Copy a whole site into an empty database, keeping every id and URL.
    Copy {
        /// The source: a file path, sqlite://PATH or postgres://…
        #[arg(long, value_name = "DATABASE")]
        from: String,
        /// The target, which must be empty: a file path, sqlite://PATH or postgres://…
        #[arg(long, value_name = "DATABASE")]
        to: String,
        /// Where the source's images are: a folder or s3://BUCKET/PREFIX (default: the
        /// `media` folder beside an SQLite source, `media` here for PostgreSQL).
        #[arg(long, value_name = "PLACE")]
        from_media: Option<String>,
        /// Where the target's images go, likewise (default: beside an SQLite target).
        #[arg(long, value_name = "PLACE")]
        to_media: Option<String>,
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
enum ImportCommand {
    /// A WordPress export (Tools → Export): WXR 1.0 to 1.2, plain, gzip or zip, or - for
    /// standard input. Running it again brings in only what is new.
    Wordpress {
        file: PathBuf,
        /// Report what would happen and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// Pingbacks and trackbacks: skipped and counted, or kept as link-backs shown under
        /// their articles.
        #[arg(long, value_enum, default_value_t = Pingbacks::Skip)]
        pingbacks: Pingbacks,
        /// A copy of the old site's wp-content/uploads: its images join the media library
        /// (alt text and captions from the export), and the bodies and featured images that
        /// show them are given the library's addresses.
        #[arg(long, value_name = "DIR")]
        uploads: Option<PathBuf>,
    },
    /// A file of `byline export --format json`, into an empty database: the same site, every
    /// id and address kept.
    Json {
        /// The file, or - for standard input.
        file: PathBuf,
    },
    /// A Disqus export (plain or gzip, or - for standard input): its replies onto the
    /// articles whose addresses its threads name. Running it again brings in only what is new.
    Disqus {
        file: PathBuf,
        /// Report what would happen and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Pingbacks {
    Skip,
    Keep,
}

#[derive(Subcommand)]
enum MailCommand {
    /// Send one message to ADDRESS with the mail settings, and print what the server said.
    Test {
        /// Where to send it.
        address: String,
    },
}

#[derive(Subcommand)]
enum MediaCommand {
    /// Add images to the library, with all their sizes made at once, and print the Markdown
    /// that shows each.
    Add {
        /// JPEG, PNG, WebP or GIF files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The description (alt text) given to each.
        #[arg(long, default_value = "")]
        alt: String,
        #[arg(long, default_value = "")]
        caption: String,
        /// The photographer or agency.
        #[arg(long, default_value = "")]
        credit: String,
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

/// `byline mail test ADDRESS`: one message through the configured transport; the server's
/// answer (or why it refused) is printed, so that the settings can be checked before readers
/// depend on them.
async fn mail_test(config: &Config, address: &str) -> anyhow::Result<()> {
    use crate::mail::message::{Content, Letter, build};
    anyhow::ensure!(
        config.mail.mode != crate::mail::MailMode::Off,
        "mail is off: set `mail` (BYLINE_MAIL) to smtp or sendmail first"
    );
    let mailer = crate::mail::Mailer::new(&config.mail).map_err(anyhow::Error::msg)?;
    let site = config.site_title.clone();
    let content = Content {
        subject: format!("A test message from {site}"),
        intro: format!("{site} can send mail: this message came through the mail settings."),
        reason: "It was sent by `byline mail test`.".into(),
        site,
        ..Content::default()
    };
    let (text, html) = content.render();
    let now = Clock::system().now();
    let host = config::host_of(&config.base_url);
    let letter = Letter {
        to: address.trim().to_owned(),
        subject: content.subject,
        text,
        html,
        message_id: format!("<test.{now}.{}@{host}>", &crate::domain::signing::new_secret()[..8]),
        thread: None,
        unsubscribe: None,
        date: now,
    };
    let message = build(&mailer.from, &letter)?;
    let answer = mailer.send(message).await?;
    println!("Sent to {}: the server said {answer}", letter.to);
    Ok(())
}

/// Logs go to standard error: coloured only when it is a terminal (a log file full of escape
/// codes helps nobody), as JSON lines with `log_format = "json"`.
fn init_logging(quiet: bool, format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let default = if quiet { "warn" } else { "info" };
    let filter = EnvFilter::try_from_env("BYLINE_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut overrides = Vec::new();
    if let Some(database) = cli.database {
        overrides.push(("database", database));
    }
    if let Command::Serve { listen: Some(listen), .. } = &cli.command {
        overrides.push(("listen", listen.clone()));
    }
    let quiet = !matches!(cli.command, Command::Serve { .. });
    if let Command::Copy { from, to, from_media, to_media } = &cli.command {
        init_logging(quiet, LogFormat::Text);
        return copy(from, to, from_media.as_deref(), to_media.as_deref()).await;
    }
    let file = cli.config.or_else(|| std::env::var_os("BYLINE_CONFIG").map(PathBuf::from));
    let config = Config::load(file.as_deref(), |name| std::env::var(name).ok(), &overrides)?;
    init_logging(quiet, config.log_format);
    if let Command::Mail(MailCommand::Test { address }) = &cli.command {
        return mail_test(&config, address).await;
    }
    if let Command::Backup { file } = &cli.command {
        crate::tools::backup::backup(&config.database, file).await?;
        println!("Backed up {} to {}.", config.database.redacted(), file.display());
        let media = crate::tools::backup::backup_media(&config, file).await?;
        println!(
            "Copied {} media files ({} bytes) to {}.",
            media.copied,
            media.bytes,
            crate::tools::backup::media_folder(file).display()
        );
        for key in &media.missing {
            eprintln!("warning: {key} is named by the library but missing from its store");
        }
        return Ok(());
    }
    if let Command::Serve { demo, .. } = cli.command {
        return serve(config, demo).await;
    }
    let clock = Clock::system();
    let store = open_database(&config.database, &clock).await?;
    let services = Services::new(store, clock, config).await?;
    // What a command records (an imported photo's sizes to make) is due to the site's own
    // handlers even before a server has ever run on this database.
    crate::app::register_builtin_handlers(&services).await?;
    let config = services.config.clone();
    let result = command(cli.command, &services, &config).await;
    // The change is on disk; the running nodes hear of it before this process ends.
    services.settle().await;
    result
}

async fn command(command: Command, services: &Services, config: &Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { .. }
        | Command::Copy { .. }
        | Command::Backup { .. }
        | Command::Mail(_) => {
            unreachable!("handled above")
        }
        Command::Article(ArticleCommand::Add { headline, standfirst, author, body, closed }) => {
            let body_markdown = read_body(&body)?;
            let draft =
                Draft { headline, standfirst, author, body_markdown, replies_open: !closed };
            let published = publishing::publish(services, &draft).await?;
            println!("{}{}", config.base_url, published.path);
            Ok(())
        }
        Command::Media(MediaCommand::Add { files, alt, caption, credit }) => {
            let text = crate::services::media::MediaText { alt, caption, credit };
            for path in files {
                add_image(services, &path, &text).await?;
            }
            Ok(())
        }
        Command::User(UserCommand::Add { email, name, role }) => {
            let role = Role::parse(&role).context("--role: expected admin, editor or author")?;
            let password = read_password()?;
            let user =
                crate::services::staff::add_user(services, &email, &name, role, &password).await?;
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
            let existing = services.store.read(|db| db.count_published_articles(None)).await?;
            anyhow::ensure!(
                existing == 0,
                "the database already has articles: generate only into an empty one"
            );
            let plan = crate::tools::generate::Plan { articles, replies_per_article, lead_replies };
            crate::tools::generate::generate(&services.store, plan, services.clock.now()).await?;
            println!(
                "Generated {articles} articles and {} replies.",
                replies_per_article * (articles - 1).max(0) + lead_replies
            );
            Ok(())
        }
        Command::Import(ImportCommand::Wordpress { file, dry_run, json, pingbacks, uploads }) => {
            let keep_pingbacks = pingbacks == Pingbacks::Keep;
            if let Some(dir) = &uploads {
                anyhow::ensure!(dir.is_dir(), "--uploads: {} is not a folder", dir.display());
            }
            let options =
                ImportOptions { dry_run, keep_pingbacks, uploads, ..ImportOptions::default() };
            import_file(services, &file, options, json, Format::Wordpress).await
        }
        Command::Import(ImportCommand::Disqus { file, dry_run, json }) => {
            let options = ImportOptions { dry_run, ..ImportOptions::default() };
            import_file(services, &file, options, json, Format::Disqus).await
        }
        Command::Import(ImportCommand::Json { file }) => {
            let stdin = file.as_os_str() == "-";
            let path = if stdin { crate::tools::import::xml::spool_stdin()? } else { file.clone() };
            let open = || -> std::io::Result<Box<dyn std::io::BufRead>> {
                Ok(Box::new(std::io::BufReader::new(std::fs::File::open(&path)?)))
            };
            let counts = crate::tools::export::import(&services.store, &open).await;
            if stdin {
                let _ = std::fs::remove_file(&path);
            }
            let counts = counts.with_context(|| format!("cannot import {}", file.display()))?;
            // Nodes already serving this database forget what they kept.
            services
                .commit(|unit| {
                    Box::pin(async move {
                        unit.site_changed();
                        Ok::<_, crate::store::StoreError>(())
                    })
                })
                .await?;
            for (table, rows) in counts {
                println!("{table:>15}: {rows} rows");
            }
            Ok(())
        }
        Command::Export { format, output } => {
            let mut out: Box<dyn std::io::Write + Send> = match &output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot write {}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout())),
            };
            let rows = if format == "wxr" {
                let site = crate::tools::wxr::Site {
                    title: &config.site_title,
                    base_url: &config.base_url,
                    tz: &config.timezone,
                };
                crate::tools::wxr::export(&services.store, &site, &mut out).await?
            } else {
                crate::tools::export::export(&services.store, &mut out).await?
            };
            drop(out);
            if let Some(path) = output {
                let what = if format == "wxr" { "posts" } else { "rows" };
                println!("Wrote {rows} {what} to {}.", path.display());
            }
            Ok(())
        }
        Command::Migrate => {
            println!("The database {} is up to date.", config.database.redacted());
            Ok(())
        }
        Command::Reply(ReplyCommand::Approve { id }) => {
            // The command line acts as the command line: any account's reach.
            let approved = moderation::approve_from_command_line(services, ReplyId(id)).await;
            match approved {
                Ok(()) => {
                    println!("Reply {id} approved.");
                    Ok(())
                }
                Err(ModerationError::NotFound) => anyhow::bail!("there is no reply with id {id}"),
                Err(e) => Err(e.into()),
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Format {
    Wordpress,
    Disqus,
}

async fn import_file(
    services: &Services,
    file: &std::path::Path,
    mut options: ImportOptions,
    json: bool,
    format: Format,
) -> anyhow::Result<()> {
    use crate::tools::import::{disqus, wordpress, xml::Source};
    use std::io::IsTerminal;
    let source = std::sync::Arc::new(Source::open(file)?);
    options.progress = !json && std::io::stderr().is_terminal();
    let summary = match format {
        Format::Wordpress => wordpress::import(services, source, &options).await?,
        Format::Disqus => disqus::import(services, source, &options).await?,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", summary.table());
    }
    Ok(())
}

/// Opens the database, creating or migrating its schema.
async fn open_database(database: &DatabaseUrl, clock: &Clock) -> anyhow::Result<Store> {
    Store::open(database, clock.now())
        .await
        .with_context(|| format!("cannot open the database {}", database.redacted()))
}

async fn copy(
    from: &str,
    to: &str,
    from_media: Option<&str>,
    to_media: Option<&str>,
) -> anyhow::Result<()> {
    let parse = |raw: &str, flag: &str| {
        config::parse_database(raw).with_context(|| {
            format!("--{flag}: expected a file path, sqlite://PATH or postgres://…")
        })
    };
    let (from, to) = (parse(from, "from")?, parse(to, "to")?);
    if from == to {
        anyhow::bail!("--from and --to name the same database");
    }
    let clock = Clock::system();
    let (source, target) = (open_database(&from, &clock).await?, open_database(&to, &clock).await?);
    let counts = crate::tools::copy::copy_site(&source, &target).await?;
    println!("Copied {} → {}", from.redacted(), to.redacted());
    for counted in counts {
        println!(
            "{:>15}: {} rows in the source, {} in the target",
            counted.table, counted.from, counted.to
        );
    }
    use crate::tools::media_files::{copy_files, default_place, files_at};
    let from_media = from_media.map_or_else(|| default_place(&from), str::to_owned);
    let to_media = to_media.map_or_else(|| default_place(&to), str::to_owned);
    if same_place(&from_media, &to_media) {
        println!("The media files stay where they are: {from_media}");
        return Ok(());
    }
    let files = copy_files(&target, &*files_at(&from_media)?, &*files_at(&to_media)?).await?;
    println!(
        "{:>15}: {} files ({} bytes), {from_media} → {to_media}",
        "media", files.copied, files.bytes
    );
    for key in &files.missing {
        eprintln!("warning: {key} is named by the library but missing from {from_media}");
    }
    Ok(())
}

/// Two media places are one when they name the same bucket place or the same folder.
fn same_place(a: &str, b: &str) -> bool {
    let folder = |p: &str| std::fs::canonicalize(p).ok();
    a == b || (!a.starts_with("s3://") && folder(a).is_some() && folder(a) == folder(b))
}

async fn add_image(
    services: &Services,
    path: &std::path::Path,
    text: &crate::services::media::MediaText,
) -> anyhow::Result<()> {
    use crate::services::media::Upload;
    let refused = |why: String| anyhow::anyhow!("{}: {why}", path.display());
    let limit = services.config.max_upload_bytes;
    let bytes = crate::services::media::read_limited(path, limit)
        .await
        .map_err(|e| refused(e.to_string()))?;
    let file_name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let upload = Upload { file_name, bytes };
    let item =
        services.upload_image(None, upload, text).await.map_err(|e| refused(e.to_string()))?;
    services.make_variants(item.id).await.map_err(refused)?;
    let item = services.media_item(item.id).await?.context("the image was deleted meanwhile")?;
    let files = crate::services::media::files_of(&item).len();
    println!(
        "{}: /media/{} ({}×{}, {files} files): ![{}](/media/{})",
        path.display(),
        item.id,
        item.width,
        item.height,
        item.alt,
        item.id
    );
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

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    crate::server::raise_file_limit(config.max_connections);
    let app = Application::build(config, Options { demo, ..Options::default() }).await?;
    let (address, base_url) = (app.address(), app.state.config.base_url.clone());
    tracing::info!(%address, base_url, "serving");
    app.serve(shutdown_signal()).await
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
