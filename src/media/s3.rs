//! The media files in an S3-compatible bucket (AWS S3, MinIO, Garage, Ceph, R2...), for
//! several nodes: each sees every upload at once. `object_store` speaks the protocol; the
//! endpoint, region and credentials come from the usual `AWS_*` variables.

use std::io;

use async_trait::async_trait;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{Attribute, Attributes, ObjectStore, PutOptions, PutPayload};

use super::files::{FileBody, MediaFiles};
use crate::domain::media::ImageFormat;

/// The `AWS_*` variables read for the bucket (lower-cased, they are `object_store`'s keys).
pub const ENVIRONMENT: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT",
    "AWS_ALLOW_HTTP",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
];

/// Where in which bucket: `s3://bucket/prefix` read apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketPlace {
    pub bucket: String,
    /// Without slashes at either end; empty for the bucket's top.
    pub prefix: String,
}

impl BucketPlace {
    /// `s3://bucket` or `s3://bucket/some/prefix`.
    pub fn parse(raw: &str) -> Option<Self> {
        let rest = raw.trim().strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        // S3's rule for bucket names, loosely: what a URL's host part may hold.
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        let prefix = prefix.trim_matches('/');
        let prefix_ok = prefix
            .split('/')
            .all(|part| prefix.is_empty() || (!part.is_empty() && part != "." && part != ".."))
            && !prefix.chars().any(|c| c.is_control() || c == '\\');
        (bucket_ok && prefix_ok)
            .then(|| Self { bucket: bucket.to_owned(), prefix: prefix.to_owned() })
    }

    pub fn describe(&self) -> String {
        match self.prefix.as_str() {
            "" => format!("s3://{}", self.bucket),
            prefix => format!("s3://{}/{prefix}", self.bucket),
        }
    }
}

pub struct S3Files {
    store: AmazonS3,
    place: BucketPlace,
}

impl S3Files {
    /// The bucket, reached with these `aws_*` settings (lower-cased variable names).
    pub fn new(place: BucketPlace, settings: &[(String, String)]) -> Result<Self, String> {
        let mut builder = AmazonS3Builder::new().with_bucket_name(&place.bucket);
        let mut http_endpoint = false;
        for (name, value) in settings {
            let key: AmazonS3ConfigKey = name
                .parse()
                .map_err(|_| format!("{} is not a setting of S3", name.to_uppercase()))?;
            if matches!(key, AmazonS3ConfigKey::Endpoint) {
                http_endpoint = value.starts_with("http://");
            }
            builder = builder.with_config(key, value);
        }
        if http_endpoint && !settings.iter().any(|(n, _)| n == "aws_allow_http") {
            // A local MinIO or Garage answers on plain HTTP: naming it so is consent enough.
            builder = builder.with_allow_http(true);
        }
        // A store that does not answer fails a request (and the start-up check) in seconds,
        // not after object_store's default three minutes of retries.
        let retry = object_store::RetryConfig {
            max_retries: 3,
            retry_timeout: std::time::Duration::from_secs(10),
            ..object_store::RetryConfig::default()
        };
        let store = builder.with_retry(retry).build().map_err(|e| e.to_string())?;
        Ok(Self { store, place })
    }

    fn path(&self, key: &str) -> Path {
        match self.place.prefix.as_str() {
            "" => Path::from(key),
            prefix => Path::from(format!("{prefix}/{key}")),
        }
    }
}

fn failed(e: object_store::Error) -> io::Error {
    io::Error::other(e.to_string())
}

/// What a file is, from its key's extension: a public bucket serves it with this.
fn attributes(key: &str) -> Attributes {
    let mut attributes = Attributes::new();
    let format = key.rsplit_once('.').and_then(|(_, ext)| ImageFormat::from_extension(ext));
    if let Some(format) = format {
        attributes.insert(Attribute::ContentType, format.mime().into());
    }
    attributes.insert(Attribute::CacheControl, "public, max-age=31536000, immutable".into());
    attributes
}

#[async_trait]
impl MediaFiles for S3Files {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> io::Result<()> {
        // A PUT is whole or nothing: a reader never sees half an object.
        let options = PutOptions { attributes: attributes(key), ..PutOptions::default() };
        self.store
            .put_opts(&self.path(key), PutPayload::from(bytes), options)
            .await
            .map(|_| ())
            .map_err(failed)
    }

    async fn read(&self, key: &str) -> io::Result<Option<Vec<u8>>> {
        match self.store.get(&self.path(key)).await {
            Ok(got) => Ok(Some(got.bytes().await.map_err(failed)?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(failed(e)),
        }
    }

    async fn open(&self, key: &str) -> io::Result<Option<FileBody>> {
        match self.store.get(&self.path(key)).await {
            Ok(got) => {
                let len = got.meta.size;
                let chunks = got.into_stream().map(|chunk| chunk.map_err(failed));
                Ok(Some(FileBody::streamed(len, chunks)))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(failed(e)),
        }
    }

    async fn delete(&self, keys: &[String]) -> io::Result<()> {
        for key in keys {
            match self.store.delete(&self.path(key)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(failed(e)),
            }
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("the bucket {}", self.place.describe())
    }

    /// Writes and removes a small file: reading alone would not show that uploads can work.
    async fn check(&self) -> io::Result<()> {
        // A name of this node's own: nodes starting together do not remove each other's.
        let probe = self.path(&format!(".byline-check-{}", crate::domain::signing::new_secret()));
        self.store.put(&probe, PutPayload::from_static(b"ok")).await.map_err(failed)?;
        self.store.delete(&probe).await.map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_places_are_read_apart_and_odd_ones_refused() {
        let place = BucketPlace::parse("s3://news-photos/site/a/").unwrap();
        assert_eq!((place.bucket.as_str(), place.prefix.as_str()), ("news-photos", "site/a"));
        assert_eq!(BucketPlace::parse("s3://news-photos").unwrap().prefix, "");
        for bad in
            ["news-photos", "s3://", "s3://A_B", "s3://ok-bucket/../x", "s3://ok-bucket/a//b"]
        {
            assert_eq!(BucketPlace::parse(bad), None, "{bad}");
        }
    }
}
