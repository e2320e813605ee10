//! Object stores: the `stores` section of `datajoint.json` (datajoint-storage.md §3), each store
//! reached through the `object_store` crate, and the one tokio runtime the core owns.
//!
//! Every object request goes through [`Store`], which counts requests and bytes so tests and
//! benchmarks can assert what was transferred.

pub mod cache;
pub mod objpath;
pub mod tree;

use crate::cache::CacheSettings;
use crate::error::{Error, ErrorCode, Result};
use bytes::Bytes;
use futures::StreamExt;
use object_store::{
    path::Path as ObjPath, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::runtime::{block_on, runtime};

/// Counters of object-store traffic.
#[derive(Debug, Default)]
pub struct StoreStats {
    pub requests: AtomicU64,
    pub bytes_read: AtomicU64,
    pub bytes_written: AtomicU64,
}

impl StoreStats {
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.bytes_read.load(Ordering::Relaxed),
            self.bytes_written.load(Ordering::Relaxed),
        )
    }
}

/// A store's settings (protocol, location and layout options).
#[derive(Debug, Clone, PartialEq)]
pub struct StoreSpec {
    pub name: String,
    pub protocol: String,
    pub location: String,
    pub options: Map<String, Value>,
    pub subfolding: Option<Vec<usize>>,
    pub partition_pattern: Option<String>,
    pub token_length: usize,
    pub hash_prefix: String,
    pub schema_prefix: String,
    pub filepath_prefix: Option<String>,
}

const COMMON_KEYS: [&str; 8] = [
    "protocol",
    "location",
    "subfolding",
    "partition_pattern",
    "token_length",
    "hash_prefix",
    "schema_prefix",
    "filepath_prefix",
];

fn strip_slashes(s: &str) -> String {
    s.trim_matches('/').to_string()
}

impl StoreSpec {
    /// Validate one entry of `stores` as the reference does (unknown keys are rejected).
    pub fn parse(name: &str, v: &Value) -> Result<StoreSpec> {
        let err = |m: String| Error::new(ErrorCode::Config, format!("store '{name}': {m}"));
        let obj = v
            .as_object()
            .ok_or_else(|| err("must be a JSON object".into()))?;
        let protocol = obj
            .get("protocol")
            .and_then(|p| p.as_str())
            .ok_or_else(|| err("missing 'protocol'".into()))?
            .to_ascii_lowercase();
        let (required, optional): (&[&str], &[&str]) = match protocol.as_str() {
            "file" => (&["location"], &[]),
            "s3" => (
                &["endpoint", "bucket", "location"],
                &["access_key", "secret_key", "secure", "proxy_server"],
            ),
            "gcs" => (&["bucket", "location"], &["token", "project"]),
            "azure" => (
                &["container", "location"],
                &["account_name", "account_key", "connection_string"],
            ),
            other => {
                return Err(err(format!(
                    "unknown protocol '{other}' (file, s3, gcs, azure)"
                )))
            }
        };
        for r in required {
            if !obj.contains_key(*r) {
                return Err(err(format!("missing '{r}' for protocol {protocol}")));
            }
        }
        for k in obj.keys() {
            if !(COMMON_KEYS.contains(&k.as_str())
                || required.contains(&k.as_str())
                || optional.contains(&k.as_str())
                || k == "stage")
            {
                return Err(err(format!("unknown key '{k}' for protocol {protocol}")));
            }
        }
        if protocol == "s3" && obj.contains_key("access_key") != obj.contains_key("secret_key") {
            return Err(err("give both access_key and secret_key, or neither".into()));
        }
        let str_of = |k: &str, d: &str| -> Result<String> {
            match obj.get(k) {
                None | Some(Value::Null) => Ok(d.to_string()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(err(format!("'{k}' must be a string"))),
            }
        };
        let subfolding = match obj.get("subfolding") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|x| x.as_u64().filter(|&n| n > 0).map(|n| n as usize))
                    .collect::<Option<Vec<usize>>>()
                    .ok_or_else(
                        || err("'subfolding' must be a list of positive integers".into()),
                    )?,
            ),
            Some(_) => {
                return Err(err(
                    "'subfolding' must be a list of positive integers".into()
                ))
            }
        };
        let token_length = match obj.get("token_length") {
            None | Some(Value::Null) => 8,
            Some(v) => v
                .as_u64()
                .ok_or_else(|| err("'token_length' must be an integer".into()))?
                .clamp(4, 16) as usize,
        };
        let spec = StoreSpec {
            name: name.to_string(),
            protocol,
            location: str_of("location", "")?,
            options: obj.clone(),
            subfolding,
            partition_pattern: match obj.get("partition_pattern") {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            },
            token_length,
            hash_prefix: strip_slashes(&str_of("hash_prefix", "_hash")?),
            schema_prefix: strip_slashes(&str_of("schema_prefix", "_schema")?),
            filepath_prefix: match obj.get("filepath_prefix") {
                Some(Value::String(s)) => Some(strip_slashes(s)),
                _ => None,
            },
        };
        // The prefixes must not overlap (compared with a trailing '/', both ways).
        let mut prefixes = vec![
            ("hash_prefix", &spec.hash_prefix),
            ("schema_prefix", &spec.schema_prefix),
        ];
        if let Some(f) = &spec.filepath_prefix {
            prefixes.push(("filepath_prefix", f));
        }
        for i in 0..prefixes.len() {
            for j in i + 1..prefixes.len() {
                let (a, b) = (format!("{}/", prefixes[i].1), format!("{}/", prefixes[j].1));
                if a.starts_with(&b) || b.starts_with(&a) {
                    return Err(err(format!(
                        "{} and {} overlap",
                        prefixes[i].0, prefixes[j].0
                    )));
                }
            }
        }
        Ok(spec)
    }

    fn opt(&self, k: &str) -> Option<String> {
        match self.options.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Display URL (`file:///abs`, `s3://bucket/location`).
    pub fn url(&self) -> String {
        match self.protocol.as_str() {
            "file" => format!("file://{}", self.location),
            "s3" => format!(
                "s3://{}/{}",
                self.opt("bucket").unwrap_or_default(),
                self.location
            ),
            "gcs" => format!(
                "gs://{}/{}",
                self.opt("bucket").unwrap_or_default(),
                self.location
            ),
            _ => format!(
                "az://{}/{}",
                self.opt("container").unwrap_or_default(),
                self.location
            ),
        }
    }
}

fn retry_settings() -> (usize, Duration) {
    let retries = std::env::var("DJ_STORE_RETRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let timeout = std::env::var("DJ_STORE_TIMEOUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30u64);
    (retries, Duration::from_secs(timeout))
}

/// One configured store, connected.
pub struct Store {
    pub spec: StoreSpec,
    inner: Arc<dyn ObjectStore>,
    /// Key prefix inside the object store (the location for cloud stores; empty for files).
    root: String,
    /// For `file` stores: the folder, so objects can be memory-mapped in place.
    local_root: Option<PathBuf>,
    pub stats: Arc<StoreStats>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("name", &self.spec.name)
            .field("url", &self.spec.url())
            .finish()
    }
}

impl Store {
    pub fn connect(spec: StoreSpec) -> Result<Store> {
        let err = |m: String| Error::new(ErrorCode::Store, format!("store '{}': {m}", spec.name));
        let (retries, timeout) = retry_settings();
        let retry = object_store::RetryConfig {
            max_retries: retries,
            retry_timeout: timeout,
            ..Default::default()
        };
        let client = object_store::ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(300))
            .with_allow_http(true);
        let (inner, root, local_root): (Arc<dyn ObjectStore>, String, Option<PathBuf>) =
            match spec.protocol.as_str() {
                "file" => {
                    let dir = PathBuf::from(&spec.location);
                    if !dir.is_dir() {
                        return Err(Error::new(
                            ErrorCode::Store,
                            format!(
                                "store '{}': location '{}' is not an existing folder",
                                spec.name, spec.location
                            ),
                        ));
                    }
                    let dir = dir
                        .canonicalize()
                        .map_err(|e| err(format!("location: {e}")))?;
                    let fs = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                        .map_err(|e| err(format!("opening '{}': {e}", dir.display())))?
                        .with_automatic_cleanup(true);
                    (Arc::new(fs), String::new(), Some(dir))
                }
                "s3" => {
                    let secure = !matches!(spec.options.get("secure"), Some(Value::Bool(false)));
                    let mut endpoint = spec.opt("endpoint").unwrap_or_default();
                    if !endpoint.contains("://") {
                        endpoint =
                            format!("{}://{endpoint}", if secure { "https" } else { "http" });
                    }
                    let mut b = object_store::aws::AmazonS3Builder::from_env()
                        .with_endpoint(endpoint)
                        .with_bucket_name(spec.opt("bucket").unwrap_or_default())
                        .with_virtual_hosted_style_request(false)
                        .with_retry(retry)
                        .with_client_options(client);
                    if std::env::var("AWS_REGION").is_err()
                        && std::env::var("AWS_DEFAULT_REGION").is_err()
                    {
                        b = b.with_region("us-east-1");
                    }
                    if let (Some(k), Some(s)) = (spec.opt("access_key"), spec.opt("secret_key")) {
                        b = b.with_access_key_id(k).with_secret_access_key(s);
                    }
                    if let Some(p) = spec.opt("proxy_server") {
                        b = b.with_proxy_url(p);
                    }
                    // Messages of the builder never contain the secret; keep ours free of it too.
                    let s3 = b.build().map_err(|e| err(format!("configuring S3: {e}")))?;
                    (Arc::new(s3), strip_slashes(&spec.location), None)
                }
                "gcs" => {
                    let mut b = object_store::gcp::GoogleCloudStorageBuilder::from_env()
                        .with_bucket_name(spec.opt("bucket").unwrap_or_default())
                        .with_retry(retry)
                        .with_client_options(client);
                    if let Some(t) = spec.opt("token") {
                        b = b.with_service_account_path(t);
                    }
                    let g = b
                        .build()
                        .map_err(|e| err(format!("configuring GCS: {e}")))?;
                    (Arc::new(g), strip_slashes(&spec.location), None)
                }
                _ => {
                    let mut b = object_store::azure::MicrosoftAzureBuilder::from_env()
                        .with_container_name(spec.opt("container").unwrap_or_default())
                        .with_retry(retry)
                        .with_client_options(client);
                    if let Some(a) = spec.opt("account_name") {
                        b = b.with_account(a);
                    }
                    if let Some(k) = spec.opt("account_key") {
                        b = b.with_access_key(k);
                    }
                    let a = b
                        .build()
                        .map_err(|e| err(format!("configuring Azure: {e}")))?;
                    (Arc::new(a), strip_slashes(&spec.location), None)
                }
            };
        Ok(Store {
            spec,
            inner,
            root,
            local_root,
            stats: Arc::new(StoreStats::default()),
        })
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    fn key(&self, rel: &str) -> Result<ObjPath> {
        let full = if self.root.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.root)
        };
        ObjPath::parse(&full).map_err(|e| {
            Error::new(
                ErrorCode::Store,
                format!(
                    "store '{}': invalid object path '{rel}': {e}",
                    self.spec.name
                ),
            )
        })
    }

    fn not_found(&self, rel: &str) -> Error {
        Error::new(
            ErrorCode::NotFound,
            format!("store '{}': object '{rel}' does not exist", self.spec.name),
        )
    }

    fn map_err(&self, rel: &str, e: object_store::Error) -> Error {
        match e {
            object_store::Error::NotFound { .. } => self.not_found(rel),
            other => Error::new(
                ErrorCode::Store,
                format!(
                    "store '{}' ({}): object '{rel}': {other}",
                    self.spec.name,
                    self.spec.url()
                ),
            ),
        }
    }

    fn count(&self, read: u64, written: u64) {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        self.stats.bytes_read.fetch_add(read, Ordering::Relaxed);
        self.stats
            .bytes_written
            .fetch_add(written, Ordering::Relaxed);
    }

    /// Local file of an object, for `file` stores.
    pub fn local_path(&self, rel: &str) -> Option<PathBuf> {
        self.local_root.as_ref().map(|r| r.join(rel))
    }

    pub fn is_local(&self) -> bool {
        self.local_root.is_some()
    }

    /// Write an object from parts (e.g. an .npy header and the array's bytes) without copying
    /// them: a `file` store writes one staged file that is renamed into place; cloud stores use
    /// one PUT up to 16 MiB and a multipart upload of 16 MiB slices above.
    pub fn put_parts(&self, rel: &str, parts: Vec<Bytes>) -> Result<u64> {
        block_on(self.put_parts_async(rel, parts))
    }

    async fn put_parts_async(&self, rel: &str, parts: Vec<Bytes>) -> Result<u64> {
        const CHUNK: usize = 16 << 20;
        let key = self.key(rel)?;
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let store = self.inner.clone();
        let res = if self.is_local() || total <= CHUNK {
            self.count(0, total as u64);
            store
                .put(&key, PutPayload::from_iter(parts))
                .await
                .map(|_| ())
        } else {
            async {
                let upload = store.put_multipart(&key).await?;
                let mut w = WriteMultipart::new_with_chunk_size(upload, CHUNK);
                for mut p in parts {
                    while !p.is_empty() {
                        let piece = p.split_to(p.len().min(CHUNK));
                        w.wait_for_capacity(4).await?;
                        self.count(0, piece.len() as u64);
                        w.put(piece);
                    }
                }
                w.finish().await.map(|_| ())
            }
            .await
        };
        res.map_err(|e| self.map_err(rel, e))?;
        Ok(total as u64)
    }

    /// Write many objects, up to 8 at a time. On error, some may have been written: the
    /// caller deletes every path it asked for.
    pub fn put_all(jobs: Vec<(Arc<Store>, String, Vec<Bytes>)>) -> Result<()> {
        use futures::TryStreamExt;
        block_on(async move {
            futures::stream::iter(jobs.into_iter().map(Ok))
                .try_for_each_concurrent(8, |(store, rel, parts)| async move {
                    store.put_parts_async(&rel, parts).await.map(|_| ())
                })
                .await
        })
    }

    /// Read many objects, up to 8 at a time, in order. Each object is collected into one buffer
    /// whose start is 3 bytes past an 8-byte boundary: the data of a top-level blob array
    /// (which starts at 21 + 8·ndim bytes) is then aligned and needs no copy to be viewed.
    pub fn get_all(jobs: Vec<(Arc<Store>, String)>) -> Result<Vec<Bytes>> {
        use futures::{StreamExt, TryStreamExt};
        block_on(async move {
            futures::stream::iter(jobs)
                .map(|(store, rel)| async move {
                    let key = store.key(&rel)?;
                    if let Some(path) = store.local_path(&rel) {
                        // local files: one read straight into the aligned buffer
                        let b = tokio::task::spawn_blocking(move || padded_read(&path))
                            .await
                            .map_err(|e| Error::internal(e.to_string()))?
                            .map_err(|e| {
                                if e.kind() == std::io::ErrorKind::NotFound {
                                    store.not_found(&rel)
                                } else {
                                    Error::new(
                                        ErrorCode::Store,
                                        format!("store '{}': reading '{rel}': {e}", store.name()),
                                    )
                                }
                            })?;
                        store.count(b.len() as u64, 0);
                        return Ok(b);
                    }
                    let r = async {
                        let got = store.inner.get(&key).await?;
                        let size = got.meta.size as usize;
                        let mut buf: Vec<u8> = Vec::with_capacity(size + 16);
                        let pad = (8 - (buf.as_ptr() as usize + 5) % 8) % 8;
                        buf.resize(pad, 0);
                        let mut s = got.into_stream();
                        while let Some(chunk) = s.next().await {
                            buf.extend_from_slice(&chunk?);
                        }
                        Ok::<Bytes, object_store::Error>(Bytes::from(buf).slice(pad..))
                    }
                    .await;
                    let b = r.map_err(|e| store.map_err(&rel, e))?;
                    store.count(b.len() as u64, 0);
                    Ok::<Bytes, Error>(b)
                })
                .buffered(8)
                .try_collect()
                .await
        })
    }

    /// Whether each object exists (one HEAD each, up to 8 at a time), in order.
    pub fn exist_all(jobs: Vec<(Arc<Store>, String)>) -> Result<Vec<bool>> {
        use futures::{StreamExt, TryStreamExt};
        block_on(async move {
            futures::stream::iter(jobs)
                .map(|(store, rel)| async move {
                    let key = store.key(&rel)?;
                    store.count(0, 0);
                    match store.inner.head(&key).await {
                        Ok(_) => Ok(true),
                        Err(object_store::Error::NotFound { .. }) => Ok(false),
                        Err(e) => Err(store.map_err(&rel, e)),
                    }
                })
                .buffered(8)
                .try_collect()
                .await
        })
    }

    pub fn get(&self, rel: &str) -> Result<Bytes> {
        let key = self.key(rel)?;
        let store = self.inner.clone();
        let b = block_on(async move { store.get(&key).await?.bytes().await })
            .map_err(|e| self.map_err(rel, e))?;
        self.count(b.len() as u64, 0);
        Ok(b)
    }

    /// Bytes `range` of an object (one ranged GET).
    pub fn get_range(&self, rel: &str, range: Range<u64>) -> Result<Bytes> {
        let key = self.key(rel)?;
        let store = self.inner.clone();
        let b = block_on(async move { store.get_range(&key, range).await })
            .map_err(|e| self.map_err(rel, e))?;
        self.count(b.len() as u64, 0);
        Ok(b)
    }

    pub fn size(&self, rel: &str) -> Result<u64> {
        Ok(self.head(rel)?.ok_or_else(|| self.not_found(rel))?.size)
    }

    /// Delete one object (missing is not an error).
    pub fn delete(&self, rel: &str) -> Result<()> {
        self.delete_many(&[rel.to_string()])
    }

    /// Stream an object into a local file (for the download cache).
    pub fn download_to(&self, rel: &str, dest: &std::path::Path) -> Result<u64> {
        use std::io::Write;
        let key = self.key(rel)?;
        let store = self.inner.clone();
        let mut file = std::fs::File::create(dest).map_err(|e| {
            Error::new(ErrorCode::Io, format!("creating '{}': {e}", dest.display()))
        })?;
        let n = block_on(async {
            let mut stream = store.get(&key).await?.into_stream();
            let mut n = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                n += chunk.len() as u64;
                file.write_all(&chunk)
                    .map_err(|e| object_store::Error::Generic {
                        store: "local cache",
                        source: Box::new(e),
                    })?;
            }
            Ok::<u64, object_store::Error>(n)
        })
        .map_err(|e| self.map_err(rel, e))?;
        self.count(n, 0);
        Ok(n)
    }
}

/// A whole file in a buffer that starts 3 bytes past an 8-byte boundary (see `Store::get_all`).
fn padded_read(path: &std::path::Path) -> std::io::Result<Bytes> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let size = f.metadata()?.len() as usize;
    let mut buf: Vec<u8> = Vec::with_capacity(size + 16);
    let pad = (8 - (buf.as_ptr() as usize + 5) % 8) % 8;
    buf.resize(pad, 0);
    f.read_to_end(&mut buf)?;
    Ok(Bytes::from(buf).slice(pad..))
}

/// The stores of a configuration, connected on first use.
pub struct Stores {
    specs: Map<String, Value>,
    default: Option<String>,
    connected: Mutex<HashMap<String, Arc<Store>>>,
    cache: CacheSettings,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores")
            .field("names", &self.specs.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Stores {
    /// Stores and download-cache settings of a configuration (`stores`, `npy_cache.path`,
    /// `npy_cache.max_bytes`, env `DJ_NPY_CACHE`).
    pub fn from_config(cfg: &crate::config::Config) -> Result<Stores> {
        let mut stores = Self::from_value(cfg.get("stores"))?;
        if let Some(p) = std::env::var_os("DJ_NPY_CACHE")
            .map(PathBuf::from)
            .or_else(|| cfg.get_str("npy_cache.path").map(PathBuf::from))
        {
            stores.cache.dir = p;
        }
        if let Some(v) = cfg.get("npy_cache.max_bytes") {
            stores.cache.max_bytes = v
                .as_u64()
                .ok_or_else(|| Error::config("npy_cache.max_bytes must be a number of bytes"))?;
        }
        Ok(stores)
    }

    pub fn cache_settings(&self) -> &CacheSettings {
        &self.cache
    }

    pub fn from_value(stores: Option<&Value>) -> Result<Stores> {
        let specs = match stores {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(Error::config("'stores' must be a JSON object")),
        };
        let default = match specs.get("default") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(Error::config("stores.default must be a store name")),
        };
        Ok(Stores {
            specs,
            default,
            connected: Mutex::new(HashMap::new()),
            cache: CacheSettings::default(),
        })
    }

    /// Resolve a declared store name: `""` (a bare `@`) means `stores.default`.
    pub fn resolve_name(&self, declared: &str) -> Result<String> {
        if declared.is_empty() {
            return self.default.clone().ok_or_else(|| {
                Error::new(
                    ErrorCode::Store,
                    "'@' names the default store, but stores.default is not configured",
                )
            });
        }
        Ok(declared.to_string())
    }

    /// The store named `name` (after resolving a bare `@`), connected.
    pub fn get(&self, declared: &str) -> Result<Arc<Store>> {
        let name = self.resolve_name(declared)?;
        let mut map = self.connected.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = map.get(&name) {
            return Ok(s.clone());
        }
        let v = self
            .specs
            .get(&name)
            .filter(|_| name != "default" && name != "filepath_default")
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Store,
                    format!("store '{name}' is not configured (see 'stores' in datajoint.json)"),
                )
            })?;
        let store = Arc::new(Store::connect(StoreSpec::parse(&name, v)?)?);
        map.insert(name, store.clone());
        Ok(store)
    }

    /// The store of a `<filepath@>` attribute: a bare `@` means `stores.filepath_default`
    /// (then `stores.default`), as in the reference.
    pub fn get_filepath(&self, declared: &str) -> Result<Arc<Store>> {
        if declared.is_empty() {
            if let Some(Value::String(s)) = self.specs.get("filepath_default") {
                return self.get(&s.clone());
            }
        }
        self.get(declared)
    }

    /// Names of the configured stores.
    pub fn names(&self) -> Vec<String> {
        self.specs
            .keys()
            .filter(|k| *k != "default" && *k != "filepath_default")
            .cloned()
            .collect()
    }

    /// Check that a store name can be used, without connecting (for declarations).
    pub fn check(&self, declared: &str) -> Result<String> {
        let name = self.resolve_name(declared)?;
        let v = self.specs.get(&name).ok_or_else(|| {
            Error::new(
                ErrorCode::Store,
                format!("store '{name}' is not configured (see 'stores' in datajoint.json)"),
            )
        })?;
        StoreSpec::parse(&name, v)?;
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn specs_are_validated_like_the_reference() {
        let ok =
            StoreSpec::parse("main", &json!({"protocol": "FILE", "location": "/tmp"})).unwrap();
        assert_eq!(
            (
                ok.protocol.as_str(),
                ok.schema_prefix.as_str(),
                ok.hash_prefix.as_str(),
                ok.token_length
            ),
            ("file", "_schema", "_hash", 8)
        );
        let s3 = StoreSpec::parse(
            "s3",
            &json!({"protocol": "s3", "endpoint": "localhost:9000", "bucket": "b", "location": "p/q", "token_length": 30}),
        )
        .unwrap();
        assert_eq!(s3.token_length, 16);
        assert_eq!(s3.url(), "s3://b/p/q");
        for bad in [
            json!({"protocol": "file"}),
            json!({"protocol": "ftp", "location": "x"}),
            json!({"protocol": "file", "location": "x", "colour": "red"}),
            json!({"protocol": "s3", "endpoint": "e", "bucket": "b", "location": "l", "access_key": "k"}),
            json!({"protocol": "file", "location": "x", "hash_prefix": "data", "schema_prefix": "data/npy"}),
            json!({"protocol": "file", "location": "x", "subfolding": [2, 0]}),
        ] {
            let e = StoreSpec::parse("bad", &bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::Config, "{bad}");
            assert!(e.message.contains("'bad'"));
        }
        let stores = Stores::from_value(Some(
            &json!({"main": {"protocol": "file", "location": "/nonexistent/dir"}}),
        ))
        .unwrap();
        assert_eq!(stores.get("").unwrap_err().code, ErrorCode::Store);
        assert_eq!(stores.get("other").unwrap_err().code, ErrorCode::Store);
        let e = stores.get("main").unwrap_err();
        assert!(e.message.contains("/nonexistent/dir"), "{}", e.message);
    }
}
