//! Imports started from the newsroom: the uploaded file, in chunks, and the job's state, kept
//! in the database so that every node sees them. One node at a time runs a job, for a lease
//! it renews as it goes; a job whose lease ran out (its node stopped) is taken over.

use async_trait::async_trait;

use super::{Db, Dialect, Result, Row, StoreError, Tx};
use crate::domain::{ImportJobId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// The file is still arriving.
    Uploading,
    /// Uploaded; no node runs it yet.
    Waiting,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uploading => "uploading",
            Self::Waiting => "waiting",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "uploading" => Self::Uploading,
            "waiting" => Self::Waiting,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJob {
    pub id: ImportJobId,
    /// `wordpress` or `disqus`.
    pub format: String,
    pub file_name: String,
    pub file_bytes: i64,
    /// Report what would happen, write nothing.
    pub dry_run: bool,
    pub keep_pingbacks: bool,
    pub state: JobState,
    pub items_done: i64,
    pub items_total: i64,
    pub replies_done: i64,
    pub replies_total: i64,
    /// The import's summary (JSON), once done.
    pub summary: Option<String>,
    /// Why it failed, for the person who started it.
    pub error: Option<String>,
    pub runner: Option<String>,
    pub lease_until: Option<i64>,
    pub attempts: i64,
    pub user_id: Option<UserId>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An upload about to arrive, and what its import is to do.
#[derive(Debug, Clone, Default)]
pub struct NewImportJob {
    pub format: String,
    pub file_name: String,
    pub user_id: Option<UserId>,
    pub dry_run: bool,
    pub keep_pingbacks: bool,
}

/// How far a running import has got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobProgress {
    pub items_done: i64,
    pub items_total: i64,
    pub replies_done: i64,
    pub replies_total: i64,
}

const COLUMNS: &str = "id, format, file_name, file_bytes, state, items_done, items_total, \
                       replies_done, replies_total, summary, error, runner, lease_until, attempts, \
                       user_id, created_at, updated_at, dry_run, keep_pingbacks";

fn job_of(r: &mut Row) -> Result<ImportJob> {
    Ok(ImportJob {
        id: r.id(0)?,
        format: r.text(1)?,
        file_name: r.text(2)?,
        file_bytes: r.int(3)?,
        state: r.parsed(4, JobState::parse)?,
        items_done: r.int(5)?,
        items_total: r.int(6)?,
        replies_done: r.int(7)?,
        replies_total: r.int(8)?,
        summary: r.opt_text(9)?,
        error: r.opt_text(10)?,
        runner: r.opt_text(11)?,
        lease_until: r.opt_int(12)?,
        attempts: r.int(13)?,
        user_id: r.opt_id(14)?,
        created_at: r.int(15)?,
        updated_at: r.int(16)?,
        dry_run: r.bool(17)?,
        keep_pingbacks: r.bool(18)?,
    })
}

#[async_trait]
pub trait ImportJobReads: Db {
    async fn import_job(&mut self, id: ImportJobId) -> Result<Option<ImportJob>> {
        let sql = format!("SELECT {COLUMNS} FROM import_jobs WHERE id = $1");
        self.query(&sql, &[id.into()]).await?.first(job_of)
    }

    /// The latest jobs, newest first.
    async fn import_jobs(&mut self, limit: u64) -> Result<Vec<ImportJob>> {
        let sql = format!("SELECT {COLUMNS} FROM import_jobs ORDER BY id DESC LIMIT $1");
        self.query(&sql, &[limit.into()]).await?.map(job_of)
    }

    /// One chunk of a job's file, by its number from 0.
    async fn import_chunk(&mut self, job: ImportJobId, seq: i64) -> Result<Option<Vec<u8>>> {
        let sql = "SELECT data FROM import_chunks WHERE job_id = $1 AND seq = $2";
        self.query(sql, &[job.into(), seq.into()]).await?.first(|r| r.bytes(0))
    }
}

impl<T: Db + ?Sized> ImportJobReads for T {}

#[async_trait]
pub trait ImportJobWrites: Tx {
    async fn create_import_job(&mut self, new: &NewImportJob, now: i64) -> Result<ImportJobId> {
        let sql = "INSERT INTO import_jobs (format, file_name, state, user_id, dry_run,
                       keep_pingbacks, created_at, updated_at)
                   VALUES ($1, $2, 'uploading', $3, $4, $5, $6, $6) RETURNING id";
        let params = [
            new.format.as_str().into(),
            new.file_name.as_str().into(),
            new.user_id.into(),
            new.dry_run.into(),
            new.keep_pingbacks.into(),
            now.into(),
        ];
        let rows = self.query(sql, &params).await?;
        rows.first(|r| r.id(0))?.ok_or(StoreError::NotFound("the new import"))
    }

    async fn add_import_chunk(
        &mut self,
        job: ImportJobId,
        seq: i64,
        data: &[u8],
        now: i64,
    ) -> Result<()> {
        let sql = "INSERT INTO import_chunks (job_id, seq, data) VALUES ($1, $2, $3)";
        self.execute(sql, &[job.into(), seq.into(), super::Param::Bytes(data)]).await?;
        let sql = "UPDATE import_jobs SET updated_at = $2 WHERE id = $1";
        self.execute(sql, &[job.into(), now.into()]).await?;
        Ok(())
    }

    /// The whole file has arrived: any node may run it now.
    async fn finish_upload(&mut self, job: ImportJobId, bytes: i64, now: i64) -> Result<()> {
        let sql = "UPDATE import_jobs SET state = 'waiting', file_bytes = $2, updated_at = $3
                    WHERE id = $1 AND state = 'uploading'";
        self.execute(sql, &[job.into(), bytes.into(), now.into()]).await?;
        Ok(())
    }

    /// Takes the oldest job no node runs (waiting, or running under a lease that ran out)
    /// for `runner`, until `lease_until`.
    async fn claim_import_job(
        &mut self,
        runner: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<ImportJob>> {
        let lock = match self.dialect() {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let sql = format!(
            "SELECT id FROM import_jobs
              WHERE state = 'waiting' OR (state = 'running' AND lease_until < $1)
              ORDER BY id LIMIT 1{lock}"
        );
        let Some(id) = self.query(&sql, &[now.into()]).await?.first(|r| r.int(0))? else {
            return Ok(None);
        };
        let sql = format!(
            "UPDATE import_jobs SET state = 'running', runner = $2, lease_until = $3,
                    attempts = attempts + 1, updated_at = $4
              WHERE id = $1 RETURNING {COLUMNS}"
        );
        let params = [id.into(), runner.into(), lease_until.into(), now.into()];
        self.query(&sql, &params).await?.first(job_of)
    }

    /// Records progress and renews the lease; `false` if the job is no longer this runner's.
    async fn renew_import_job(
        &mut self,
        job: ImportJobId,
        runner: &str,
        progress: JobProgress,
        lease_until: i64,
        now: i64,
    ) -> Result<bool> {
        let sql = "UPDATE import_jobs SET items_done = $3, items_total = $4, replies_done = $5,
                       replies_total = $6, lease_until = $7, updated_at = $8
                    WHERE id = $1 AND runner = $2 AND state = 'running'";
        let params = [
            job.into(),
            runner.into(),
            progress.items_done.into(),
            progress.items_total.into(),
            progress.replies_done.into(),
            progress.replies_total.into(),
            lease_until.into(),
            now.into(),
        ];
        Ok(self.execute(sql, &params).await? == 1)
    }

    /// Ends a job, done (with its summary) or failed (with the reason), and lets its file go:
    /// only while `runner` runs it (a node that lost its lease ends nothing), or while it is
    /// still being uploaded. `false` when it was not ended.
    async fn end_import_job(
        &mut self,
        job: ImportJobId,
        runner: &str,
        state: JobState,
        summary: Option<&str>,
        error: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        let sql = "UPDATE import_jobs SET state = $2, summary = $3, error = $4,
                       lease_until = NULL, updated_at = $5
                    WHERE id = $1
                      AND ((state = 'running' AND runner = $6) OR state = 'uploading')";
        let params = [
            job.into(),
            state.as_str().into(),
            summary.into(),
            error.into(),
            now.into(),
            runner.into(),
        ];
        if self.execute(sql, &params).await? == 0 {
            return Ok(false);
        }
        self.execute("DELETE FROM import_chunks WHERE job_id = $1", &[job.into()]).await?;
        Ok(true)
    }

    /// Uploads abandoned half way (the browser closed) before `before`: their chunks go.
    async fn drop_stale_uploads(&mut self, before: i64) -> Result<u64> {
        let sql = "DELETE FROM import_chunks WHERE job_id IN
                     (SELECT id FROM import_jobs WHERE state = 'uploading' AND updated_at < $1)";
        self.execute(sql, &[before.into()]).await?;
        let sql = "UPDATE import_jobs SET state = 'failed',
                       error = 'The upload stopped before the whole file arrived.'
                    WHERE state = 'uploading' AND updated_at < $1";
        self.execute(sql, &[before.into()]).await
    }
}

impl<T: Tx + ?Sized> ImportJobWrites for T {}
