//! The `object_store` for a location, configured as the tools of each store do.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::http::HttpBuilder;
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};

use crate::hub::{self, ServerDigest};
use crate::location::Location;
use crate::{RemoteError, aws_profile};

/// Seconds a request may take before it is abandoned (and retried).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Retries of a request that failed in a way worth retrying (a timeout, a 5xx, a 429).
pub const DEFAULT_RETRIES: usize = 5;

/// How remote objects are reached.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Time allowed for one request.
    pub timeout: Duration,
    /// Retries of a failed request, with exponential backoff.
    pub retries: usize,
    /// Settings passed to the store as `object_store` names them (`aws_region`,
    /// `aws_endpoint`, `allow_http`, ...), after those read from the environment.
    pub storage_options: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            storage_options: Vec::new(),
        }
    }
}

impl Options {
    /// These options with `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// These options with `retries`.
    pub fn with_retries(mut self, retries: usize) -> Self {
        self.retries = retries;
        self
    }

    /// These options with a store setting added.
    pub fn with_storage_option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.storage_options.push((key.into(), value.into()));
        self
    }

    fn client(&self, allow_http: bool) -> ClientOptions {
        ClientOptions::new()
            .with_timeout(self.timeout)
            .with_connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .with_allow_http(allow_http)
    }

    fn retry(&self) -> RetryConfig {
        RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(15),
                base: 2.0,
            },
            max_retries: self.retries,
            retry_timeout: self
                .timeout
                .saturating_mul(u32::try_from(self.retries + 1).unwrap_or(u32::MAX)),
        }
    }
}

/// How a run stays on one version of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PinMode {
    /// By the ETag (or S3 version id) of the first answer, on every later request.
    FirstAnswer,
    /// By the Hub commit in the path: every request names it.
    Commit(String),
}

/// A store, the object's path in it, and what pins its version.
pub(crate) struct Opened {
    pub store: Arc<dyn ObjectStore>,
    pub path: ObjectPath,
    pub pin: PinMode,
    pub hub: Option<ServerDigest>,
}

/// The store of an S3, GCS or Azure prefix (to list it).
pub(crate) fn open_prefix(
    location: &Location,
    options: &Options,
) -> Result<Arc<dyn ObjectStore>, RemoteError> {
    let placeholder = match location {
        Location::S3 { bucket, .. } => Location::S3 {
            bucket: bucket.clone(),
            key: "_".to_owned(),
        },
        Location::Azure { store, .. } => Location::Azure {
            store: store.clone(),
            path: "_".to_owned(),
        },
        Location::Gcs { bucket, .. } => Location::Gcs {
            bucket: bucket.clone(),
            path: "_".to_owned(),
        },
        _ => {
            return Err(RemoteError::Config {
                location: location.to_string(),
                reason: "only S3, GCS and Azure prefixes are listed through a store".to_owned(),
            });
        }
    };
    Ok(open(&placeholder, options)?.store)
}

/// `builder` with the options' store settings, each key read as `store`'s builder names
/// them (`with_config`); the error names a key it does not know.
fn with_storage_options<B, K: std::str::FromStr>(
    builder: B,
    options: &Options,
    store: &str,
    with_config: impl Fn(B, K, &str) -> B,
) -> Result<B, String> {
    options
        .storage_options
        .iter()
        .try_fold(builder, |builder, (key, value)| {
            let parsed = key
                .parse()
                .map_err(|_| format!("unknown storage option {key:?} for {store}"))?;
            Ok(with_config(builder, parsed, value))
        })
}

/// Whether a setting whose name holds one of `words` is given, in the environment (a
/// non-empty variable named `PREFIX...`) or the options, by the names object_store reads
/// credentials by.
fn credentials_named(prefix: &str, words: &[&str], options: &Options) -> bool {
    let from_env = std::env::vars_os()
        .filter(|(_, value)| !value.is_empty())
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| name.starts_with(prefix));
    let given = options
        .storage_options
        .iter()
        .map(|(key, _)| key.to_ascii_uppercase());
    from_env
        .chain(given)
        .any(|name| words.iter().any(|word| name.contains(word)))
}

/// Whether Azure credentials are given: without any, requests go unsigned (public
/// containers) rather than asking a managed-identity endpoint that is not there.
fn azure_credentials_given(options: &Options) -> bool {
    const WORDS: [&str; 8] = [
        "KEY",
        "SAS",
        "TOKEN",
        "SECRET",
        "EMULATOR",
        "CLI",
        "FEDERATED",
        "MSI",
    ];
    credentials_named("AZURE_", &WORDS, options)
}

/// Whether Google credentials are given: a service account, application credentials or a
/// bearer token, or gcloud's application default credentials file. Without any, requests
/// go unsigned (public buckets) rather than asking an instance metadata server that is not
/// there.
pub(crate) fn google_credentials_given(options: &Options) -> bool {
    const WORDS: [&str; 3] = ["SERVICE_ACCOUNT", "APPLICATION_CREDENTIALS", "BEARER_TOKEN"];
    // Where gcloud writes them (`gcloud auth application-default login`), as object_store
    // looks for them.
    let gcloud = || {
        std::env::var_os("HOME").is_some_and(|home| {
            std::path::Path::new(&home)
                .join(".config/gcloud/application_default_credentials.json")
                .is_file()
        })
    };
    credentials_named("GOOGLE_", &WORDS, options) || gcloud()
}

/// An object of `store` at `path` (either may have failed to be made), pinned to the version
/// of its first answer.
fn first_answer<S: ObjectStore, E: std::fmt::Display>(
    store: object_store::Result<S>,
    path: Result<ObjectPath, E>,
    config: impl Fn(String) -> RemoteError,
) -> Result<Opened, RemoteError> {
    let store = store.map_err(|e| config(crate::error::one_line(&e)))?;
    let path = path.map_err(|e| config(format!("the object's path cannot be read: {e}")))?;
    Ok(Opened {
        store: Arc::new(store),
        path,
        pin: PinMode::FirstAnswer,
        hub: None,
    })
}

pub(crate) fn open(location: &Location, options: &Options) -> Result<Opened, RemoteError> {
    let text = location.to_string();
    let config = |reason: String| RemoteError::Config {
        location: text.clone(),
        reason,
    };
    match location {
        Location::Local(_) => Err(config("a local path is not a remote object".to_owned())),
        Location::Http(url) => {
            let base = format!("{}://{}", url.scheme(), url.authority());
            let path = ObjectPath::from_url_path(url.path());
            let mut builder = HttpBuilder::new()
                .with_url(base)
                .with_client_options(options.client(url.scheme() == "http"))
                .with_retry(options.retry());
            builder = with_storage_options(builder, options, "HTTP", |b, k, v| b.with_config(k, v))
                .map_err(config)?;
            first_answer(builder.build(), path, config)
        }
        Location::S3 { bucket, key } => {
            let profile_name = std::env::var("AWS_PROFILE")
                .ok()
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "default".to_owned());
            let profile = aws_profile::load(&profile_name).map_err(config)?;
            let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
            let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
            let given_keys = options
                .storage_options
                .iter()
                .any(|(k, _)| k.to_ascii_lowercase().ends_with("access_key_id"));
            let env_keys = env("AWS_ACCESS_KEY_ID").is_some() || given_keys;
            let mut signed = env_keys;
            if !env_keys {
                if let (Some(id), Some(secret)) =
                    (&profile.access_key_id, &profile.secret_access_key)
                {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret);
                    if let Some(token) = &profile.session_token {
                        builder = builder.with_token(token);
                    }
                    signed = true;
                } else if let Some(source) = profile.unsupported {
                    return Err(config(format!(
                        "AWS profile {profile_name:?} gets its credentials through {source}, \
                         which this tool does not run: export them first (for example \
                         `eval \"$(aws configure export-credentials --format env)\"`)"
                    )));
                }
            }
            if env("AWS_REGION").is_none() && env("AWS_DEFAULT_REGION").is_none() {
                builder = builder.with_region(profile.region.as_deref().unwrap_or("us-east-1"));
            }
            let endpoint = env("AWS_ENDPOINT_URL_S3")
                .or_else(|| env("AWS_ENDPOINT_URL"))
                .or(profile.endpoint_url.clone());
            if let Some(endpoint) = &endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            // An http:// endpoint is allowed because the user named it.
            let allow_http = endpoint
                .as_deref()
                .is_some_and(|e| e.starts_with("http://"));
            // Without credentials, requests go unsigned (public buckets), rather than asking
            // an instance metadata service that is not there.
            if !signed {
                builder = builder.with_skip_signature(true);
            }
            builder = builder
                .with_client_options(options.client(allow_http))
                .with_retry(options.retry());
            builder = with_storage_options(builder, options, "S3", |b, k, v| b.with_config(k, v))
                .map_err(config)?;
            first_answer(builder.build(), ObjectPath::parse(key), config)
        }
        Location::Azure { store, path } => {
            let mut builder = MicrosoftAzureBuilder::from_env().with_url(store.as_str());
            if !azure_credentials_given(options) {
                builder = builder.with_skip_signature(true);
            }
            // The emulator (AZURE_STORAGE_USE_EMULATOR) allows http:// itself.
            builder = builder
                .with_client_options(options.client(false))
                .with_retry(options.retry());
            builder =
                with_storage_options(builder, options, "Azure", |b, k, v| b.with_config(k, v))
                    .map_err(config)?;
            let account = builder
                .get_config_value(&AzureConfigKey::AccountName)
                .is_some();
            let emulator = builder
                .get_config_value(&AzureConfigKey::UseEmulator)
                .is_some_and(|v| v == "true");
            if !account && !emulator {
                return Err(config(
                    "no storage account: set AZURE_STORAGE_ACCOUNT_NAME, or name it in the \
                     URL (abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH)"
                        .to_owned(),
                ));
            }
            first_answer(builder.build(), ObjectPath::parse(path), config)
        }
        Location::Gcs { bucket, path } => {
            let with_options = |builder: GoogleCloudStorageBuilder| {
                with_storage_options(builder, options, "GCS", |b, k, v| b.with_config(k, v))
            };
            // An http:// endpoint (GOOGLE_BASE_URL) is allowed because the user named it.
            let allow_http = with_options(GoogleCloudStorageBuilder::from_env())
                .map_err(config)?
                .get_config_value(&GoogleConfigKey::BaseUrl)
                .is_some_and(|url| url.starts_with("http://"));
            let mut builder = GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(bucket)
                .with_client_options(options.client(allow_http))
                .with_retry(options.retry());
            if !google_credentials_given(options) {
                builder = builder.with_skip_signature(true);
            }
            first_answer(
                with_options(builder).map_err(config)?.build(),
                ObjectPath::parse(path),
                config,
            )
        }
        Location::Hub(repo) => {
            let endpoint = hub::endpoint();
            let digest = hub::resolve(&text, &endpoint, repo, options.timeout)?;
            let mut client = options.client(endpoint.starts_with("http://"));
            if let Some(token) = hub::token() {
                let mut headers = http::HeaderMap::new();
                let value = format!("Bearer {token}")
                    .parse()
                    .map_err(|_| config("HF_TOKEN is not a valid header value".to_owned()))?;
                headers.insert("authorization", value);
                client = client.with_default_headers(headers);
            }
            let store = HttpBuilder::new()
                .with_url(endpoint)
                .with_client_options(client)
                .with_retry(options.retry())
                .build()
                .map_err(|e| config(crate::error::one_line(&e)))?;
            let path = ObjectPath::parse(repo.resolve_path(&digest.commit))
                .map_err(|e| config(format!("the path cannot be read: {e}")))?;
            Ok(Opened {
                store: Arc::new(store),
                path,
                pin: PinMode::Commit(digest.commit.clone()),
                hub: Some(digest),
            })
        }
    }
}
