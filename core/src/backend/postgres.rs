//! PostgreSQL backend: tokio-postgres on the core's runtime. Bulk inserts use binary `COPY`;
//! values travel in PostgreSQL's binary formats, encoded and decoded here by the server's
//! column types. TLS follows libpq's `sslmode`: `prefer` by default (encrypted when the server
//! offers it), `require` with `use_tls = true`, `disable` with `use_tls = false`; like libpq's
//! prefer/require, the server certificate is not verified.

use super::Backend;
use crate::config::ServerSettings;
use crate::error::{Error, ErrorCode, Result};
use crate::heading::Attribute;
use crate::runtime::block_on;
use crate::sql::{dml, Dialect, Target};
use crate::types::{AttrType, ValueClass};
use crate::value::{
    format_date, format_datetime, format_time, parse_date, parse_datetime, parse_time, Column,
    ColumnBuilder, Elem, Value,
};
use bytes::{BufMut, BytesMut};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, Kind as PgKind, ToSql, Type};

type BoxErr = Box<dyn std::error::Error + Sync + Send>;

/// Days and microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
const PG_EPOCH_DAYS: i32 = 10_957;
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

pub struct PgBackend {
    settings: ServerSettings,
    client: Option<Arc<tokio_postgres::Client>>,
    /// this session's prepared statements, by SQL text
    stmts: StmtCache,
}

/// Prepared statements by SQL text: a statement run again costs one round trip, not two
/// (prepare, execute). Cleared on reconnect and after DDL; a statement the server finds
/// stale (a table changed under it) is prepared again.
type StmtCache =
    Arc<std::sync::Mutex<std::collections::HashMap<String, tokio_postgres::Statement>>>;

const STMT_CACHE_MAX: usize = 512;

/// Batches of at most this many values go as one INSERT rather than a binary COPY.
const SMALL_INSERT_PARAMS: usize = 512;

fn is_ddl(sql: &str) -> bool {
    let head = sql.trim_start().get(..6).unwrap_or("").to_ascii_uppercase();
    head.starts_with("CREATE") || head.starts_with("DROP") || head.starts_with("ALTER")
}

async fn prepared(
    client: &tokio_postgres::Client,
    cache: &StmtCache,
    sql: &str,
) -> std::result::Result<tokio_postgres::Statement, tokio_postgres::Error> {
    if let Some(s) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(sql) {
        return Ok(s.clone());
    }
    let s = client.prepare(sql).await?;
    let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
    if c.len() >= STMT_CACHE_MAX {
        c.clear();
    }
    c.insert(sql.to_string(), s.clone());
    Ok(s)
}

/// The server no longer accepts a cached statement (its table was altered or replaced).
fn is_stale(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::FEATURE_NOT_SUPPORTED || *c == SqlState::INVALID_SQL_STATEMENT_NAME
    })
}

/// Run `f` with the cached statement of `sql`; once more with a fresh one if it was stale.
async fn with_stmt<T, F, Fut>(
    client: &tokio_postgres::Client,
    cache: &StmtCache,
    sql: &str,
    f: F,
) -> std::result::Result<T, tokio_postgres::Error>
where
    F: Fn(tokio_postgres::Statement) -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, tokio_postgres::Error>>,
{
    let stmt = prepared(client, cache, sql).await?;
    match f(stmt).await {
        Err(e) if is_stale(&e) => {
            cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
            f(prepared(client, cache, sql).await?).await
        }
        r => r,
    }
}

fn map_err(e: tokio_postgres::Error, ctx: &str) -> Error {
    if let Some(db) = e.as_db_error() {
        let state = db.code().code();
        let code = match state {
            "23505" => ErrorCode::Duplicate,
            "23503" | "23514" | "23P01" => ErrorCode::Integrity,
            "23502" | "22P02" | "22003" | "22001" | "22007" | "22008" | "22023" | "22P05"
            | "22021" => ErrorCode::Type,
            "42P01" | "3F000" | "42704" => ErrorCode::NotFound,
            "42703" => ErrorCode::UnknownAttribute,
            "28P01" | "28000" | "3D000" | "57P01" | "57P02" | "57P03" => ErrorCode::Connection,
            s if s.starts_with("08") => ErrorCode::Connection,
            _ => ErrorCode::Backend,
        };
        let mut msg = db.message().to_string();
        if let Some(d) = db.detail() {
            msg.push_str(&format!(" ({d})"));
        }
        if code == ErrorCode::Integrity && state == "23503" && msg.contains("still referenced") {
            msg.push_str(" (delete the referencing rows in the child table(s) first)");
        }
        return Error::new(code, format!("{ctx}: {msg} [SQLSTATE {state}]"));
    }
    let text = e.to_string();
    if e.is_closed()
        || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>())
        || text.contains("connection")
    {
        return Error::new(
            ErrorCode::Connection,
            format!("{ctx}: the connection to the PostgreSQL server was lost or refused: {text}"),
        );
    }
    let code = if text.contains("serializing parameter") || text.contains("error serializing") {
        ErrorCode::Type
    } else {
        ErrorCode::Backend
    };
    Error::new(code, format!("{ctx}: {text}"))
}

/// rustls verifier that accepts the server's certificate (libpq's sslmode prefer/require) but
/// still checks the handshake signatures.
#[derive(Debug)]
struct AcceptServerCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_connector() -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptServerCert(provider)))
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

impl PgBackend {
    pub fn connect(settings: ServerSettings) -> Result<PgBackend> {
        let mut b = PgBackend {
            settings,
            client: None,
            stmts: StmtCache::default(),
        };
        b.reconnect()?;
        Ok(b)
    }

    fn reconnect(&mut self) -> Result<()> {
        self.client = None;
        let s = &self.settings;
        let ctx = format!(
            "connecting to PostgreSQL {} (database '{}')",
            s.describe(),
            s.database
        );
        let mut cfg = tokio_postgres::Config::new();
        cfg.host(&s.host)
            .port(s.port)
            .user(&s.user)
            .dbname(&s.database)
            .application_name("datajoint-rs")
            .connect_timeout(Duration::from_secs(10))
            .keepalives(true)
            .ssl_mode(match s.use_tls {
                Some(false) => SslMode::Disable,
                Some(true) => SslMode::Require,
                None => SslMode::Prefer,
            });
        if !s.password.is_empty() {
            cfg.password(&s.password);
        }
        let tls = tls_connector()?;
        let client = block_on(async move {
            let (client, conn) = cfg.connect(tls).await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok::<_, tokio_postgres::Error>(client)
        })
        .map_err(|e| {
            let mut err = map_err(e, &ctx);
            if err.code == ErrorCode::Backend {
                err.code = ErrorCode::Connection;
            }
            err
        })?;
        for stmt in Dialect::Postgres.session_setup() {
            block_on(client.batch_execute(&stmt)).map_err(|e| map_err(e, &ctx))?;
        }
        self.client = Some(Arc::new(client));
        self.stmts = StmtCache::default();
        Ok(())
    }

    fn client(&self, ctx: &str) -> Result<&Arc<tokio_postgres::Client>> {
        self.client.as_ref().ok_or_else(|| {
            Error::new(
                ErrorCode::Connection,
                format!("{ctx}: the connection to the PostgreSQL server was lost"),
            )
        })
    }

    /// Map an error; a lost session is dropped so the next operation reconnects.
    fn fail(&mut self, e: tokio_postgres::Error, ctx: &str) -> Error {
        let err = map_err(e, ctx);
        if err.code == ErrorCode::Connection || self.client.as_ref().is_some_and(|c| c.is_closed())
        {
            self.client = None;
        }
        err
    }

    fn rows(&mut self, sql: &str, params: &[Value], ctx: &str) -> Result<Vec<tokio_postgres::Row>> {
        let client = self.client(ctx)?;
        let p: Vec<PgParam> = params.iter().map(|v| PgParam(v.as_elem())).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = p.iter().map(|x| x as &(dyn ToSql + Sync)).collect();
        let r = block_on(with_stmt(client, &self.stmts, sql, |st| {
            let refs = &refs;
            async move { client.query(&st, refs).await }
        }));
        r.map_err(|e| self.fail(e, ctx))
    }
}

/// A parameter or a cell, encoded by the server's type for it.
struct PgParam<'a>(Elem<'a>);

impl std::fmt::Debug for PgParam<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl ToSql for PgParam<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxErr> {
        encode(&self.0, ty, out)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

/// What a computed result column of this PostgreSQL type holds.
fn value_class(ty: &Type) -> ValueClass {
    match *ty {
        Type::BOOL => ValueClass::Bool,
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => ValueClass::Int,
        Type::FLOAT4 | Type::FLOAT8 | Type::NUMERIC => ValueClass::Number,
        Type::DATE => ValueClass::Date,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => ValueClass::Datetime,
        Type::UUID => ValueClass::Uuid,
        Type::BYTEA => ValueClass::Bytes,
        Type::JSON | Type::JSONB => ValueClass::Json,
        _ => ValueClass::Text,
    }
}

fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON
    ) || matches!(ty.kind(), PgKind::Enum(_))
}

fn encode_int(v: i128, ty: &Type, out: &mut BytesMut) -> std::result::Result<(), BoxErr> {
    let range = || -> BoxErr { format!("{v} is out of range for {ty}").into() };
    match *ty {
        Type::INT2 => out.put_i16(i16::try_from(v).map_err(|_| range())?),
        Type::INT4 => out.put_i32(i32::try_from(v).map_err(|_| range())?),
        Type::INT8 => out.put_i64(i64::try_from(v).map_err(|_| range())?),
        Type::OID => out.put_u32(u32::try_from(v).map_err(|_| range())?),
        Type::FLOAT4 => out.put_f32(v as f32),
        Type::FLOAT8 => out.put_f64(v as f64),
        Type::BOOL => out.put_u8((v != 0) as u8),
        Type::NUMERIC => encode_numeric(&v.to_string(), out)?,
        _ if is_text(ty) => out.put_slice(v.to_string().as_bytes()),
        _ => return Err(format!("cannot send an integer as {ty}").into()),
    }
    Ok(())
}

fn encode(e: &Elem, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxErr> {
    match *e {
        Elem::Null => return Ok(IsNull::Yes),
        Elem::Bool(b) if *ty == Type::BOOL => out.put_u8(b as u8),
        Elem::Bool(b) => encode_int(b as i128, ty, out)?,
        Elem::Int(v) => encode_int(v as i128, ty, out)?,
        Elem::UInt(v) => encode_int(v as i128, ty, out)?,
        Elem::Float(f) => match *ty {
            Type::FLOAT4 => out.put_f32(f as f32),
            Type::FLOAT8 => out.put_f64(f),
            Type::NUMERIC => encode_numeric(&format!("{f}"), out)?,
            _ if is_text(ty) => out.put_slice(format!("{f}").as_bytes()),
            _ => return Err(format!("cannot send a float as {ty}").into()),
        },
        Elem::Str(s) | Elem::Decimal(s) | Elem::Json(s) => encode_text(s, ty, out)?,
        Elem::Bytes(b) => match *ty {
            Type::UUID if b.len() == 16 => out.put_slice(b),
            Type::BYTEA => out.put_slice(b),
            _ if is_text(ty) => out.put_slice(
                std::str::from_utf8(b)
                    .map_err(|_| "bytes that are not UTF-8 text")?
                    .as_bytes(),
            ),
            _ => return Err(format!("cannot send bytes as {ty}").into()),
        },
        Elem::Date(d) => match *ty {
            Type::DATE => out.put_i32(d - PG_EPOCH_DAYS),
            Type::TIMESTAMP | Type::TIMESTAMPTZ => {
                out.put_i64(d as i64 * 86_400_000_000 - PG_EPOCH_MICROS)
            }
            _ if is_text(ty) => out.put_slice(format_date(d).as_bytes()),
            _ => return Err(format!("cannot send a date as {ty}").into()),
        },
        Elem::Datetime(us) => match *ty {
            Type::TIMESTAMP | Type::TIMESTAMPTZ => out.put_i64(us - PG_EPOCH_MICROS),
            _ if is_text(ty) => out.put_slice(format_datetime(us).as_bytes()),
            _ => return Err(format!("cannot send a datetime as {ty}").into()),
        },
        Elem::Uuid(u) => match *ty {
            Type::UUID | Type::BYTEA => out.put_slice(u),
            _ if is_text(ty) => out.put_slice(uuid::Uuid::from_bytes(*u).to_string().as_bytes()),
            _ => return Err(format!("cannot send a uuid as {ty}").into()),
        },
        Elem::Array(_) | Elem::Blob(_) | Elem::Attach(..) => {
            return Err("codec values are stored through their codec".into())
        }
    }
    Ok(IsNull::No)
}

fn encode_text(s: &str, ty: &Type, out: &mut BytesMut) -> std::result::Result<(), BoxErr> {
    let bad = || -> BoxErr { format!("'{s}' is not a valid {ty}").into() };
    match *ty {
        Type::JSONB => {
            out.put_u8(1);
            out.put_slice(s.as_bytes());
        }
        Type::NUMERIC => encode_numeric(s, out)?,
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID | Type::BOOL => {
            let v: i128 = match s.trim().to_ascii_lowercase().as_str() {
                "true" | "t" => 1,
                "false" | "f" => 0,
                t => t.parse().map_err(|_| bad())?,
            };
            encode_int(v, ty, out)?
        }
        Type::FLOAT4 => out.put_f32(s.trim().parse().map_err(|_| bad())?),
        Type::FLOAT8 => out.put_f64(s.trim().parse().map_err(|_| bad())?),
        Type::UUID => out.put_slice(
            uuid::Uuid::parse_str(s.trim())
                .map_err(|_| bad())?
                .as_bytes(),
        ),
        Type::DATE => out.put_i32(parse_date(s).ok_or_else(bad)? - PG_EPOCH_DAYS),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            out.put_i64(parse_datetime(s).ok_or_else(bad)? - PG_EPOCH_MICROS)
        }
        Type::TIME => out.put_i64(parse_time(s).ok_or_else(bad)?),
        Type::BYTEA => out.put_slice(s.as_bytes()),
        _ => out.put_slice(s.as_bytes()),
    }
    Ok(())
}

/// Decimal text → PostgreSQL's binary numeric (base-10000 digits).
fn encode_numeric(text: &str, out: &mut BytesMut) -> std::result::Result<(), BoxErr> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("nan") {
        out.put_slice(&[0, 0, 0, 0, 0xC0, 0, 0, 0]);
        return Ok(());
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("'{text}' is not a decimal number").into());
    }
    let int = int.trim_start_matches('0');
    let pad_int = (4 - int.len() % 4) % 4;
    let pad_frac = (4 - frac.len() % 4) % 4;
    let digits_text = format!("{}{int}{frac}{}", "0".repeat(pad_int), "0".repeat(pad_frac));
    let mut groups: Vec<i16> = digits_text
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or("0").parse().unwrap_or(0))
        .collect();
    let mut weight = ((int.len() + pad_int) / 4) as i32 - 1;
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    out.put_i16(groups.len() as i16);
    out.put_i16(weight as i16);
    out.put_u16(if neg && !groups.is_empty() { 0x4000 } else { 0 });
    out.put_u16(frac.len() as u16);
    for g in groups {
        out.put_i16(g);
    }
    Ok(())
}

/// PostgreSQL's binary numeric → decimal text with its display scale.
fn decode_numeric(raw: &[u8]) -> std::result::Result<String, String> {
    if raw.len() < 8 {
        return Err("truncated numeric".into());
    }
    let rd = |i: usize| i16::from_be_bytes([raw[i], raw[i + 1]]);
    let ndigits = rd(0) as usize;
    let weight = rd(2) as i32;
    let sign = u16::from_be_bytes([raw[4], raw[5]]);
    let dscale = u16::from_be_bytes([raw[6], raw[7]]) as usize;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    if raw.len() < 8 + 2 * ndigits {
        return Err("truncated numeric".into());
    }
    let digit = |i: i32| -> i16 {
        if i >= 0 && (i as usize) < ndigits {
            rd(8 + 2 * i as usize)
        } else {
            0
        }
    };
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for i in 0..=weight {
            if i == 0 {
                let _ = write!(s, "{}", digit(i));
            } else {
                let _ = write!(s, "{:04}", digit(i));
            }
        }
    }
    if dscale > 0 {
        let mut frac = String::new();
        let mut i = weight + 1;
        while frac.len() < dscale {
            let _ = write!(frac, "{:04}", digit(i));
            i += 1;
        }
        frac.truncate(dscale);
        s.push('.');
        s.push_str(&frac);
    }
    Ok(s)
}

/// A cell's raw bytes, decoded by the column's type afterwards.
struct Raw<'a>(&'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxErr> {
        Ok(Raw(raw))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

fn be<const N: usize>(raw: &[u8]) -> Result<[u8; N]> {
    raw.try_into()
        .map_err(|_| Error::internal(format!("PostgreSQL sent {} bytes, expected {N}", raw.len())))
}

/// Decode one binary cell into the builder.
fn decode(b: &mut ColumnBuilder, ty: &Type, raw: &[u8]) -> Result<()> {
    match *ty {
        Type::BOOL => b.int((raw.first().copied().unwrap_or(0) != 0) as i128),
        Type::INT2 => b.int(i16::from_be_bytes(be(raw)?) as i128),
        Type::INT4 => b.int(i32::from_be_bytes(be(raw)?) as i128),
        Type::INT8 => b.int(i64::from_be_bytes(be(raw)?) as i128),
        Type::OID => b.int(u32::from_be_bytes(be(raw)?) as i128),
        Type::FLOAT4 => b.float(f32::from_be_bytes(be(raw)?) as f64),
        Type::FLOAT8 => b.float(f64::from_be_bytes(be(raw)?)),
        Type::NUMERIC => {
            let t = decode_numeric(raw).map_err(Error::internal)?;
            b.text(&t)
        }
        Type::DATE => b.date(i32::from_be_bytes(be(raw)?) + PG_EPOCH_DAYS),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            b.datetime(i64::from_be_bytes(be(raw)?).saturating_add(PG_EPOCH_MICROS))
        }
        Type::UUID => b.uuid(be(raw)?),
        Type::TIME => b.text(&format_time(i64::from_be_bytes(be(raw)?))),
        Type::BYTEA => b.bytes(raw),
        Type::JSONB => b.bytes(raw.get(1..).unwrap_or_default()),
        // char(n) pads with spaces; MySQL and DuckDB return the value without them
        Type::BPCHAR => b.bytes(trim_spaces(raw)),
        _ if is_text(ty) => b.bytes(raw),
        _ => Err(Error::new(
            ErrorCode::Unsupported,
            format!("values of PostgreSQL type {ty} cannot be read"),
        )),
    }
}

fn trim_spaces(raw: &[u8]) -> &[u8] {
    let end = raw.iter().rposition(|&c| c != b' ').map_or(0, |p| p + 1);
    &raw[..end]
}

impl Backend for PgBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn ensure_connected(&mut self) -> Result<bool> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            self.reconnect()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn execute(&mut self, sql: &str, params: &[Value], ctx: &str) -> Result<u64> {
        let client = self.client(ctx)?;
        let r = if params.is_empty() {
            // the simple protocol: also runs statements that cannot be prepared
            block_on(client.simple_query(sql)).map(|msgs| {
                msgs.iter()
                    .rev()
                    .find_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::CommandComplete(n) => Some(*n),
                        _ => None,
                    })
                    .unwrap_or(0)
            })
        } else {
            let p: Vec<PgParam> = params.iter().map(|v| PgParam(v.as_elem())).collect();
            let refs: Vec<&(dyn ToSql + Sync)> =
                p.iter().map(|x| x as &(dyn ToSql + Sync)).collect();
            block_on(with_stmt(client, &self.stmts, sql, |st| {
                let refs = &refs;
                async move { client.execute(&st, refs).await }
            }))
        };
        if params.is_empty() && is_ddl(sql) {
            // the tables the cached statements read may have changed
            self.stmts.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
        r.map_err(|e| self.fail(e, ctx))
    }

    fn query_text(
        &mut self,
        sql: &str,
        params: &[Value],
        ctx: &str,
    ) -> Result<Vec<Vec<Option<String>>>> {
        let rows = self.rows(sql, params, ctx)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut r = Vec::with_capacity(row.len());
            for (i, col) in row.columns().iter().enumerate() {
                let raw: Option<Raw> = row.try_get(i).map_err(|e| map_err(e, ctx))?;
                r.push(match raw {
                    None => None,
                    Some(Raw(bytes)) => ColumnBuilder::text_of(|b| decode(b, col.type_(), bytes))?,
                });
            }
            out.push(r);
        }
        Ok(out)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        attrs: &[&Attribute],
        ctx: &str,
    ) -> Result<Vec<Column>> {
        let client = self.client(ctx)?.clone();
        let sql = sql.to_string();
        let params = params.to_vec();
        let specs: Vec<(Option<crate::types::Kind>, String)> = attrs
            .iter()
            .map(|a| {
                (
                    (a.ty != AttrType::Computed).then(|| a.ty.kind()),
                    a.name.clone(),
                )
            })
            .collect();
        let ctx_owned = ctx.to_string();
        let stmts = self.stmts.clone();
        // On a runtime worker, next to the connection task that parses the server's messages:
        // rows are decoded as they arrive, without a thread hop per batch of messages.
        let task = crate::runtime::runtime().spawn(async move {
            use futures::TryStreamExt;
            let ctx = ctx_owned.as_str();
            // prepared first (as query_raw would), so computed columns know their type
            let stmt = prepared(&client, &stmts, sql.as_str()).await?;
            let mut builders: Vec<ColumnBuilder> = specs
                .iter()
                .enumerate()
                .map(|(i, (k, n))| {
                    let kind = k.unwrap_or_else(|| {
                        crate::types::Kind::of_computed(
                            stmt.columns()
                                .get(i)
                                .map(|c| value_class(c.type_()))
                                .unwrap_or(ValueClass::Text),
                        )
                    });
                    ColumnBuilder::new(kind, 0, n)
                })
                .collect();
            let p: Vec<PgParam> = params.iter().map(|v| PgParam(v.as_elem())).collect();
            let stream = client.query_raw(&stmt, p.iter()).await?;
            futures::pin_mut!(stream);
            let mut types: Vec<Type> = Vec::new();
            while let Some(row) = stream.try_next().await? {
                if types.is_empty() {
                    types = row.columns().iter().map(|c| c.type_().clone()).collect();
                }
                for (i, b) in builders.iter_mut().enumerate() {
                    let raw: Option<Raw> = match row.try_get(i) {
                        Ok(r) => r,
                        Err(e) => return Ok(Err(map_err(e, ctx))),
                    };
                    let res = match raw {
                        None => {
                            b.null();
                            Ok(())
                        }
                        Some(Raw(bytes)) => decode(b, &types[i], bytes),
                    };
                    if let Err(e) = res {
                        return Ok(Err(e.context(ctx)));
                    }
                }
            }
            Ok::<_, tokio_postgres::Error>(Ok(builders))
        });
        let r = block_on(task)
            .map_err(|e| Error::internal(format!("{ctx}: the fetch task failed: {e}")))?;
        match r {
            Err(e) => Err(self.fail(e, ctx)),
            Ok(Err(e)) => Err(e),
            Ok(Ok(builders)) => Ok(builders.into_iter().map(|b| b.finish()).collect()),
        }
    }

    fn append(
        &mut self,
        target: Target,
        attrs: &[&Attribute],
        columns: Vec<Column>,
        nrows: usize,
        ctx: &str,
    ) -> Result<u64> {
        let d = Dialect::Postgres;
        let names: Vec<&str> = attrs.iter().map(|a| a.name.as_str()).collect();
        let client = self.client(ctx)?;
        if nrows * names.len() <= SMALL_INSERT_PARAMS {
            // a small batch (a make's rows): one prepared INSERT, one round trip
            let sql = dml::insert_values(d, target, &names, nrows);
            let cells: Vec<PgParam> = (0..nrows)
                .flat_map(|r| columns.iter().map(move |c| PgParam(c.elem(r))))
                .collect();
            let refs: Vec<&(dyn ToSql + Sync)> =
                cells.iter().map(|x| x as &(dyn ToSql + Sync)).collect();
            let r = block_on(with_stmt(client, &self.stmts, &sql, |st| {
                let refs = &refs;
                async move { client.execute(&st, refs).await }
            }));
            return r.map_err(|e| self.fail(e, ctx));
        }
        let r = block_on(async {
            let probe =
                prepared(client, &self.stmts, &dml::probe_columns(d, target, &names)).await?;
            let types: Vec<Type> = probe.columns().iter().map(|c| c.type_().clone()).collect();
            let sink = client.copy_in(&dml::copy_in(d, target, &names)).await?;
            let writer = BinaryCopyInWriter::new(sink, &types);
            futures::pin_mut!(writer);
            let mut cells: Vec<PgParam> = Vec::with_capacity(columns.len());
            for row in 0..nrows {
                cells.clear();
                cells.extend(columns.iter().map(|c| PgParam(c.elem(row))));
                writer.as_mut().write_raw(cells.iter()).await?;
            }
            writer.finish().await
        });
        r.map_err(|e| self.fail(e, ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_round_trips() {
        for t in [
            "0",
            "1",
            "-1",
            "12.50",
            "-12345678.90",
            "0.0012",
            "0.00000012",
            "10000",
            "99999999.99",
            "123456789012345678901234567890.12345678",
        ] {
            let mut out = BytesMut::new();
            encode_numeric(t, &mut out).unwrap();
            assert_eq!(decode_numeric(&out).unwrap(), t, "{t}");
        }
    }
}
