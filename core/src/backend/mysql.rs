//! MySQL 8 / MariaDB backend: mysql_async on the core's runtime, in the reference's session
//! `sql_mode`. Bulk inserts are multi-row prepared INSERTs (binary protocol: values travel
//! typed, never as escaped text), split to stay under the server's placeholder and packet limits.
//! TLS: used when the server offers it (`use_tls` unset), required with `use_tls = true`, off
//! with `false`; like the reference's client, the certificate is not verified.

use super::Backend;
use crate::config::ServerSettings;
use crate::error::{Error, ErrorCode, Result};
use crate::heading::Attribute;
use crate::runtime::block_on;
use crate::sql::{dml, Dialect, Target};
use crate::types::{AttrType, Kind, ValueClass};
use crate::value::{civil_of, format_time, micros_of, ymd_of, Column, ColumnBuilder, Elem, Value};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Params, SslOpts, Value as MyValue};

/// The server's limit on placeholders in one prepared statement.
const MAX_PLACEHOLDERS: usize = 65_535;
/// Rows per bulk INSERT statement (measured: 1,000 beats the 21,845 the placeholder limit allows
/// for three columns by ~25 % on MariaDB).
const ROWS_PER_STATEMENT: usize = 1_000;

pub struct MySqlBackend {
    settings: ServerSettings,
    conn: Option<Conn>,
    /// Bytes of parameters sent in one statement (half the server's max_allowed_packet).
    packet_budget: usize,
}

fn map_err(e: mysql_async::Error, ctx: &str) -> Error {
    match &e {
        mysql_async::Error::Server(s) => {
            let code = match s.code {
                1062 | 1586 => ErrorCode::Duplicate,
                1451 | 1452 | 1216 | 1217 | 3730 | 1364 | 4025 | 3819 => ErrorCode::Integrity,
                1146 | 1049 | 1051 => ErrorCode::NotFound,
                1054 => ErrorCode::UnknownAttribute,
                1048 | 1264 | 1265 | 1366 | 1292 | 1406 | 1367 | 3140 => ErrorCode::Type,
                1045 | 1040 | 1053 | 1077 | 1927 | 2006 | 2013 | 1129 | 1130 | 1203 => {
                    ErrorCode::Connection
                }
                _ => ErrorCode::Backend,
            };
            let mut msg = s.message.clone();
            if code == ErrorCode::Integrity && (s.code == 1451 || s.code == 1217) {
                msg.push_str(" (delete the referencing rows in the child table(s) first)");
            }
            Error::new(code, format!("{ctx}: {msg} [MySQL error {}]", s.code))
        }
        mysql_async::Error::Io(_) | mysql_async::Error::Driver(_) => Error::new(
            ErrorCode::Connection,
            format!("{ctx}: the connection to the MySQL server was lost or refused: {e}"),
        ),
        _ => Error::new(ErrorCode::Backend, format!("{ctx}: {e}")),
    }
}

/// A cell or parameter in MySQL's binary protocol.
fn to_my(e: Elem) -> std::result::Result<MyValue, String> {
    Ok(match e {
        Elem::Null => MyValue::NULL,
        Elem::Bool(b) => MyValue::Int(b as i64),
        Elem::Int(v) => MyValue::Int(v),
        Elem::UInt(v) => MyValue::UInt(v),
        Elem::Float(f) => MyValue::Double(f),
        Elem::Str(s) | Elem::Decimal(s) | Elem::Json(s) => MyValue::Bytes(s.as_bytes().to_vec()),
        Elem::Bytes(b) => MyValue::Bytes(b.to_vec()),
        Elem::Uuid(u) => MyValue::Bytes(u.to_vec()),
        Elem::Date(d) => {
            let (y, m, day) = ymd_of(d).ok_or("date out of range")?;
            MyValue::Date(y as u16, m as u8, day as u8, 0, 0, 0, 0)
        }
        Elem::Datetime(us) => {
            let (y, m, d, h, mi, s, u) = civil_of(us).ok_or("datetime out of range")?;
            MyValue::Date(y as u16, m as u8, d as u8, h as u8, mi as u8, s as u8, u)
        }
        Elem::Array(_) | Elem::Blob(_) | Elem::Attach(..) => {
            return Err("codec values are stored through their codec".into())
        }
    })
}

/// Approximate bytes a value takes in an execute packet.
fn wire_size(v: &MyValue) -> usize {
    match v {
        MyValue::Bytes(b) => b.len() + 9,
        _ => 12,
    }
}

/// What a computed result column of this MySQL type holds.
fn value_class(c: &mysql_async::Column) -> ValueClass {
    use mysql_async::consts::ColumnType as T;
    match c.column_type() {
        T::MYSQL_TYPE_TINY
        | T::MYSQL_TYPE_SHORT
        | T::MYSQL_TYPE_LONG
        | T::MYSQL_TYPE_LONGLONG
        | T::MYSQL_TYPE_INT24
        | T::MYSQL_TYPE_YEAR
        | T::MYSQL_TYPE_BIT => ValueClass::Int,
        T::MYSQL_TYPE_FLOAT
        | T::MYSQL_TYPE_DOUBLE
        | T::MYSQL_TYPE_DECIMAL
        | T::MYSQL_TYPE_NEWDECIMAL => ValueClass::Number,
        T::MYSQL_TYPE_DATE | T::MYSQL_TYPE_NEWDATE => ValueClass::Date,
        T::MYSQL_TYPE_DATETIME
        | T::MYSQL_TYPE_DATETIME2
        | T::MYSQL_TYPE_TIMESTAMP
        | T::MYSQL_TYPE_TIMESTAMP2 => ValueClass::Datetime,
        T::MYSQL_TYPE_JSON => ValueClass::Json,
        // binary strings carry the `binary` character set (63)
        _ if c.character_set() == 63 => ValueClass::Bytes,
        _ => ValueClass::Text,
    }
}

fn decode(b: &mut ColumnBuilder, v: &MyValue) -> Result<()> {
    match v {
        MyValue::NULL => {
            b.null();
            Ok(())
        }
        MyValue::Bytes(x) => b.bytes(x),
        MyValue::Int(x) => b.int(*x as i128),
        MyValue::UInt(x) => b.int(*x as i128),
        MyValue::Float(f) => b.float(*f as f64),
        MyValue::Double(f) => b.float(*f),
        // zero dates ('0000-00-00') of old tables read as NULL, as no calendar holds them
        MyValue::Date(0, _, _, _, _, _, _) | MyValue::Date(_, 0, _, _, _, _, _) => {
            b.null();
            Ok(())
        }
        MyValue::Date(y, mo, d, h, mi, s, us) => {
            let t = micros_of(
                *y as i32, *mo as u32, *d as u32, *h as u32, *mi as u32, *s as u32, *us,
            )
            .ok_or_else(|| Error::internal("the server sent an invalid date"))?;
            if b.kind() == Kind::Date {
                b.date(t.div_euclid(86_400_000_000) as i32)
            } else {
                b.datetime(t)
            }
        }
        MyValue::Time(neg, days, h, mi, s, us) => {
            let t = ((((*days as i64 * 24 + *h as i64) * 60 + *mi as i64) * 60 + *s as i64)
                * 1_000_000)
                + *us as i64;
            b.text(&format_time(if *neg { -t } else { t }))
        }
    }
}

impl MySqlBackend {
    pub fn connect(settings: ServerSettings) -> Result<MySqlBackend> {
        let mut b = MySqlBackend {
            settings,
            conn: None,
            packet_budget: 4 << 20,
        };
        b.reconnect()?;
        Ok(b)
    }

    fn opts(&self, tls: bool) -> OptsBuilder {
        let s = &self.settings;
        let mut o = OptsBuilder::default()
            .ip_or_hostname(s.host.clone())
            .tcp_port(s.port)
            .user(Some(s.user.clone()))
            .pass(if s.password.is_empty() {
                None
            } else {
                Some(s.password.clone())
            })
            .prefer_socket(false)
            .client_found_rows(false)
            .stmt_cache_size(64)
            .tcp_keepalive(Some(std::time::Duration::from_secs(60)))
            .init(Dialect::MySql.session_setup());
        if tls {
            o = o.ssl_opts(SslOpts::default().with_danger_accept_invalid_certs(true));
        }
        o
    }

    fn reconnect(&mut self) -> Result<()> {
        self.conn = None;
        let ctx = format!("connecting to MySQL {}", self.settings.describe());
        let attempt = |tls: bool| {
            let opts = self.opts(tls);
            let ctx = ctx.as_str();
            block_on(async move {
                let f = Conn::new(opts);
                match tokio::time::timeout(std::time::Duration::from_secs(10), f).await {
                    Ok(r) => r.map_err(|e| map_err(e, ctx)),
                    Err(_) => Err(Error::new(
                        ErrorCode::Connection,
                        format!("{ctx}: no answer within 10 s"),
                    )),
                }
            })
        };
        let conn = match self.settings.use_tls {
            Some(t) => attempt(t)?,
            // prefer TLS, fall back when the server does not offer it
            None => match attempt(true) {
                Ok(c) => c,
                Err(e) if e.message.contains("SSL") || e.message.contains("TLS") => attempt(false)?,
                Err(e) => return Err(e),
            },
        };
        let mut conn = conn;
        let packet: Option<u64> = block_on(conn.query_first("SELECT @@max_allowed_packet"))
            .map_err(|e| map_err(e, "reading max_allowed_packet"))?;
        self.packet_budget = packet.map_or(4 << 20, |p| (p as usize / 2).max(64 << 10));
        self.conn = Some(conn);
        Ok(())
    }

    fn conn(&mut self, ctx: &str) -> Result<&mut Conn> {
        self.conn.as_mut().ok_or_else(|| {
            Error::new(
                ErrorCode::Connection,
                format!("{ctx}: the connection to the MySQL server was lost"),
            )
        })
    }

    /// Map an error; a lost session is dropped so the next operation reconnects.
    fn fail(&mut self, e: mysql_async::Error, ctx: &str) -> Error {
        let err = map_err(e, ctx);
        if err.code == ErrorCode::Connection {
            self.conn = None;
        }
        err
    }

    fn params(params: &[Value]) -> Result<Params> {
        if params.is_empty() {
            return Ok(Params::Empty);
        }
        let v: std::result::Result<Vec<MyValue>, String> =
            params.iter().map(|p| to_my(p.as_elem())).collect();
        Ok(Params::Positional(v.map_err(Error::type_err)?))
    }

    fn rows(&mut self, sql: &str, params: &[Value], ctx: &str) -> Result<Vec<Vec<MyValue>>> {
        let p = Self::params(params)?;
        let conn = self.conn(ctx)?;
        let r = block_on(async {
            let rows: Vec<mysql_async::Row> = conn.exec(sql, p).await?;
            Ok::<_, mysql_async::Error>(rows.into_iter().map(|r| r.unwrap()).collect())
        });
        r.map_err(|e| self.fail(e, ctx))
    }
}

impl Drop for MySqlBackend {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            let _ = block_on(c.disconnect());
        }
    }
}

impl Backend for MySqlBackend {
    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    fn ensure_connected(&mut self) -> Result<bool> {
        if self.conn.is_none() {
            self.reconnect()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn execute(&mut self, sql: &str, params: &[Value], ctx: &str) -> Result<u64> {
        let p = Self::params(params)?;
        let conn = self.conn(ctx)?;
        let r = block_on(async {
            if matches!(p, Params::Empty) {
                // the text protocol: also runs statements that cannot be prepared
                conn.query_drop(sql).await?;
            } else {
                conn.exec_drop(sql, p).await?;
            }
            Ok::<_, mysql_async::Error>(conn.affected_rows())
        });
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
            for v in &row {
                if *v == MyValue::NULL {
                    r.push(None);
                    continue;
                }
                r.push(ColumnBuilder::text_of(|b| decode(b, v))?);
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
        let p = Self::params(params)?;
        let mut builders: Vec<ColumnBuilder> = Vec::new();
        let conn = self.conn(ctx)?;
        // rows are decoded as they arrive, without holding them all first
        let r = block_on(async {
            let mut out: Result<()> = Ok(());
            let mut result = conn.exec_iter(sql, p).await?;
            let cols = result.columns();
            builders = attrs
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let kind = match (&a.ty, cols.as_ref().and_then(|c| c.get(i))) {
                        (AttrType::Computed, Some(c)) => Kind::of_computed(value_class(c)),
                        _ => a.ty.kind(),
                    };
                    ColumnBuilder::new(kind, 0, &a.name)
                })
                .collect();
            result
                .for_each(|row| {
                    if out.is_err() {
                        return;
                    }
                    for (i, b) in builders.iter_mut().enumerate() {
                        let v = row.as_ref(i).unwrap_or(&MyValue::NULL);
                        if let Err(e) = decode(b, v) {
                            out = Err(e.context(ctx));
                            return;
                        }
                    }
                })
                .await?;
            Ok::<_, mysql_async::Error>(out)
        });
        match r {
            Err(e) => Err(self.fail(e, ctx)),
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Ok(builders.into_iter().map(|b| b.finish()).collect()),
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
        let names: Vec<&str> = attrs.iter().map(|a| a.name.as_str()).collect();
        let ncols = names.len().max(1);
        // statements of a fixed row count, so that one prepared statement serves every chunk
        // (a statement near the placeholder limit costs more to prepare than it saves)
        let max_rows = (MAX_PLACEHOLDERS / ncols).clamp(1, ROWS_PER_STATEMENT);
        let budget = self.packet_budget;
        let mut written = 0u64;
        let mut row = 0;
        while row < nrows {
            // one statement: as many rows as fit the placeholder and packet limits
            let mut params: Vec<MyValue> = Vec::new();
            let mut bytes = 0;
            let start = row;
            while row < nrows && row - start < max_rows {
                let mut cells = Vec::with_capacity(ncols);
                let mut size = 0;
                for (c, a) in columns.iter().zip(attrs) {
                    let v = to_my(c.elem(row)).map_err(|m| {
                        Error::type_err(format!("{ctx}, attribute '{}' (row {row}): {m}", a.name))
                    })?;
                    size += wire_size(&v);
                    cells.push(v);
                }
                if row > start && bytes + size > budget {
                    break;
                }
                bytes += size;
                params.extend(cells);
                row += 1;
            }
            let sql = dml::insert_values(Dialect::MySql, target, &names, row - start);
            let conn = self.conn(ctx)?;
            let r = block_on(async {
                conn.exec_drop(sql, Params::Positional(params)).await?;
                Ok::<_, mysql_async::Error>(conn.affected_rows())
            });
            written += r.map_err(|e| self.fail(e, ctx))?;
        }
        Ok(written)
    }
}
