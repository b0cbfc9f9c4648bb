//! Imports started from the newsroom, run by whichever node is up. The upload and the job's
//! state are in the database (`store::import_jobs`): every node looks for a waiting job every
//! few seconds, one claims it for a lease of [`LEASE_SECONDS`] and renews the lease with its
//! progress as it goes. A node that stops leaves its lease to run out; another (or the same,
//! restarted) takes the job over and runs it again from the start, which brings in only what
//! is not there yet: the import map makes a second run of a file import nothing twice.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::xml::{Source, temp_path};
use super::{Options, Summary, disqus, wordpress};
use crate::domain::{ImportJobId, UserId};
use crate::services::Services;
use crate::store::{
    ImportJob, ImportJobReads, ImportJobWrites, JobProgress, JobState, NewImportJob, StoreError,
};

/// A node that has not renewed its lease for this long is taken for stopped.
pub const LEASE_SECONDS: i64 = 60;
/// A job taken over this many times stops: something in it stops every node that runs it.
const MAX_ATTEMPTS: i64 = 3;
/// Uploads that have sent nothing for this long are given up.
const STALE_UPLOAD_SECONDS: i64 = 3600;
/// How often a node looks for a job, and renews its lease while it runs one.
const POLL: Duration = Duration::from_secs(1);
const RENEW: Duration = Duration::from_secs(2);

/// The formats the newsroom takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Wordpress,
    Disqus,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "wordpress" => Some(Self::Wordpress),
            "disqus" => Some(Self::Disqus),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wordpress => "wordpress",
            Self::Disqus => "disqus",
        }
    }
}

/// What an admin asked for on the Import page.
#[derive(Debug, Clone)]
pub struct Upload {
    pub format: Format,
    pub file_name: String,
    pub user: UserId,
    pub dry_run: bool,
    pub keep_pingbacks: bool,
}

/// Starts a job for an upload; its file follows with [`add_chunk`], then [`finish_upload`].
pub async fn start_upload(services: &Services, upload: &Upload) -> Result<ImportJobId, StoreError> {
    let new = NewImportJob {
        format: upload.format.as_str().to_owned(),
        file_name: upload.file_name.clone(),
        user_id: Some(upload.user),
        dry_run: upload.dry_run,
        keep_pingbacks: upload.keep_pingbacks,
    };
    let now = services.clock.now();
    services
        .store
        .write(move |tx| Box::pin(async move { tx.create_import_job(&new, now).await }))
        .await
}

pub async fn add_chunk(
    services: &Services,
    job: ImportJobId,
    seq: i64,
    data: Vec<u8>,
) -> Result<(), StoreError> {
    let now = services.clock.now();
    services
        .store
        .write(move |tx| Box::pin(async move { tx.add_import_chunk(job, seq, &data, now).await }))
        .await
}

/// The whole file is in: a node will run it.
pub async fn finish_upload(
    services: &Services,
    job: ImportJobId,
    bytes: i64,
) -> Result<(), StoreError> {
    let now = services.clock.now();
    services.store.write(move |tx| tx.finish_upload(job, bytes, now)).await
}

/// An upload that could not be finished (too large, cut off): its job fails with `why`.
pub async fn abandon(services: &Services, job: ImportJobId, why: &str) -> Result<(), StoreError> {
    let (why, now) = (why.to_owned(), services.clock.now());
    services
        .store
        .write(move |tx| {
            Box::pin(async move {
                tx.end_import_job(job, "", JobState::Failed, None, Some(&why), now).await
            })
        })
        .await
        .map(|_| ())
}

/// Every node runs this: it looks for a job, runs it, and looks again.
pub fn spawn(services: Arc<Services>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let runner = runner_name();
        loop {
            match run_one(&services, &runner).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "could not look for imports to run"),
            }
            tokio::time::sleep(POLL).await;
        }
    })
}

/// This process's name on the jobs it runs.
fn runner_name() -> String {
    let mut id = [0u8; 6];
    let _ = getrandom::fill(&mut id);
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{id}", std::process::id())
}

/// Claims one job and runs it to its end; `false` when there was none.
async fn run_one(services: &Services, runner: &str) -> Result<bool, StoreError> {
    let now = services.clock.now();
    let name = runner.to_owned();
    let claimed = services
        .store
        .write(move |tx| {
            Box::pin(async move {
                tx.drop_stale_uploads(now - STALE_UPLOAD_SECONDS).await?;
                tx.claim_import_job(&name, now, now + LEASE_SECONDS).await
            })
        })
        .await?;
    let Some(job) = claimed else { return Ok(false) };
    if job.attempts > MAX_ATTEMPTS {
        let why = format!(
            "The import stopped {MAX_ATTEMPTS} times before it finished, so it was given up. \
             What it brought in stays; run it from the command line (byline import) to see \
             what stops it."
        );
        end(services, runner, job.id, Err(why)).await?;
        return Ok(true);
    }
    tracing::info!(
        job = job.id.get(),
        file = job.file_name,
        attempt = job.attempts,
        "import started"
    );
    let outcome = run(services, runner, &job).await;
    match &outcome {
        Ok(Some(_)) => tracing::info!(job = job.id.get(), "import done"),
        Ok(None) => {
            tracing::warn!(job = job.id.get(), "another node took over the import");
            return Ok(true);
        }
        Err(why) => tracing::warn!(job = job.id.get(), why, "import failed"),
    }
    end(services, runner, job.id, outcome.map(Option::unwrap_or_default)).await?;
    Ok(true)
}

/// Ends the job, if it is still this runner's (one whose lease ran out ends nothing: the node
/// that took it over will).
async fn end(
    services: &Services,
    runner: &str,
    job: ImportJobId,
    outcome: Result<Summary, String>,
) -> Result<(), StoreError> {
    let (runner, now) = (runner.to_owned(), services.clock.now());
    let (state, summary, error) = match outcome {
        Ok(summary) => {
            (JobState::Done, Some(serde_json::to_string(&summary).unwrap_or_default()), None)
        }
        Err(why) => (JobState::Failed, None, Some(why)),
    };
    services
        .store
        .write(move |tx| {
            Box::pin(async move {
                let (summary, error) = (summary.as_deref(), error.as_deref());
                tx.end_import_job(job, &runner, state, summary, error, now).await
            })
        })
        .await
        .map(|_| ())
}

/// The job's file, written out to a temporary file, imported, then removed. `Ok(None)`: the
/// lease was lost to another node, which carries on.
async fn run(
    services: &Services,
    runner: &str,
    job: &ImportJob,
) -> Result<Option<Summary>, String> {
    let path = spool(services, job)
        .await
        .map_err(|e| format!("The uploaded file could not be read back from the database: {e}"))?;
    let outcome = import_file(services, runner, job, &path).await;
    let _ = std::fs::remove_file(&path);
    // Each message names the file, as the admin knows it.
    outcome.map_err(|why| {
        if why.contains(&job.file_name) { why } else { format!("{}: {why}", job.file_name) }
    })
}

/// Writes the job's chunks, in order, to a new temporary file: all of them, or an error.
async fn spool(services: &Services, job: &ImportJob) -> std::io::Result<std::path::PathBuf> {
    let path = temp_path("upload").map_err(|e| std::io::Error::other(e.to_string()))?;
    let written = write_chunks(services, job.id, &path).await;
    match written {
        Ok(bytes) if bytes == job.file_bytes => Ok(path),
        other => {
            let _ = std::fs::remove_file(&path);
            let bytes = other?;
            Err(std::io::Error::other(format!(
                "{bytes} of its {} bytes are there (another node ended the job meanwhile?)",
                job.file_bytes
            )))
        }
    }
}

async fn write_chunks(
    services: &Services,
    job: ImportJobId,
    path: &std::path::Path,
) -> std::io::Result<i64> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut bytes = 0;
    for seq in 0.. {
        let chunk = services
            .store
            .read(move |db| Box::pin(async move { db.import_chunk(job, seq).await }))
            .await
            .map_err(std::io::Error::other)?;
        let Some(data) = chunk else { break };
        file.write_all(&data)?;
        bytes += data.len() as i64;
    }
    file.flush()?;
    Ok(bytes)
}

async fn import_file(
    services: &Services,
    runner: &str,
    job: &ImportJob,
    path: &std::path::Path,
) -> Result<Option<Summary>, String> {
    let named = |e: super::xml::ReadError| {
        e.to_string().replace(&path.display().to_string(), &job.file_name)
    };
    let source = Source::open(path).map_err(named)?;
    let source = Arc::new(source.named(&job.file_name));
    let (sender, progress) = watch::channel(JobProgress::default());
    let options = Options {
        watch: Some(sender),
        dry_run: job.dry_run,
        keep_pingbacks: job.keep_pingbacks,
        ..Options::default()
    };
    let format = Format::parse(&job.format).unwrap_or(Format::Wordpress);
    let import = async {
        match format {
            Format::Wordpress => {
                wordpress::import(services, source, &options).await.map_err(|e| e.to_string())
            }
            Format::Disqus => {
                disqus::import(services, source, &options).await.map_err(|e| e.to_string())
            }
        }
    };
    let last = progress.clone();
    let summary = tokio::select! {
        summary = import => summary,
        () = keep_lease(services, runner, job.id, progress) => return Ok(None),
    };
    // The last counts, for the job's page (the lease task may not have written them yet).
    let (runner, done, now) = (runner.to_owned(), *last.borrow(), services.clock.now());
    let id = job.id;
    let _ = services
        .store
        .write(move |tx| {
            Box::pin(async move {
                tx.renew_import_job(id, &runner, done, now + LEASE_SECONDS, now).await
            })
        })
        .await;
    summary.map(Some)
}

/// Renews the lease with the progress every few seconds; returns once the job is no longer
/// this runner's.
async fn keep_lease(
    services: &Services,
    runner: &str,
    job: ImportJobId,
    progress: watch::Receiver<JobProgress>,
) {
    loop {
        tokio::time::sleep(RENEW).await;
        let now = services.clock.now();
        let (runner, done) = (runner.to_owned(), *progress.borrow());
        let renewed = services
            .store
            .write(move |tx| {
                Box::pin(async move {
                    tx.renew_import_job(job, &runner, done, now + LEASE_SECONDS, now).await
                })
            })
            .await;
        match renewed {
            Ok(true) => {}
            Ok(false) => return,
            // The database away for a moment: the lease has a minute in hand.
            Err(e) => tracing::warn!(error = %e, "could not renew an import's lease"),
        }
    }
}
