//! The one SQL compiler. Every statement a backend runs — DDL, INSERT/COPY/SELECT/DELETE,
//! restrictions, catalog queries, session setup — is written here, parameterised by a small
//! [`Dialect`]. Backend files only execute the text, move the data and convert types.

pub mod catalog;
pub mod ddl;
pub mod dml;
pub mod query;

use crate::error::{Error, Result};
use crate::heading::Attribute;
use crate::types::{AttrType, CoreType, NativeRepr, NativeType};

/// Catalog name under which the DuckDB database is attached; `$` cannot appear in a schema name,
/// and a file `lab.duckdb` would otherwise be catalog `lab`, clashing with a schema `lab`.
pub const DUCKDB_CATALOG: &str = "dj$db";

/// Name of the per-session staging table used by skip-duplicates and replace inserts.
pub const STAGE: &str = "~stage";

/// The reference's MySQL session `sql_mode` (PY `adapters/mysql.py` `connect`).
pub const MYSQL_SQL_MODE: &str = "NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,\
STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY";

/// What differs between the SQL of the three backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    DuckDb,
    Postgres,
    MySql,
}

/// Where an append writes: a table of a schema, or the session's staging table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Table {
        schema: &'a str,
        table: &'a str,
    },
    /// The temporary staging table (for MySQL it lives next to the schema's tables).
    Stage {
        schema: &'a str,
    },
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Postgres => "postgresql",
            Dialect::MySql => "mysql",
        }
    }

    pub fn quote(self, ident: &str) -> String {
        match self {
            Dialect::MySql => format!("`{}`", ident.replace('`', "``")),
            _ => format!("\"{}\"", ident.replace('"', "\"\"")),
        }
    }

    /// Quoted comma-separated identifiers.
    pub fn quote_list<S: AsRef<str>>(self, names: &[S]) -> String {
        let q: Vec<String> = names.iter().map(|n| self.quote(n.as_ref())).collect();
        q.join(", ")
    }

    /// Fully qualified table name.
    pub fn table(self, schema: &str, table: &str) -> String {
        match self {
            Dialect::DuckDb => format!(
                "{}.{}.{}",
                self.quote(DUCKDB_CATALOG),
                self.quote(schema),
                self.quote(table)
            ),
            _ => format!("{}.{}", self.quote(schema), self.quote(table)),
        }
    }

    pub fn target(self, t: Target) -> String {
        match (self, t) {
            (_, Target::Table { schema, table }) => self.table(schema, table),
            (Dialect::DuckDb, Target::Stage { .. }) => format!("temp.main.{}", self.quote(STAGE)),
            (Dialect::Postgres, Target::Stage { .. }) => format!("pg_temp.{}", self.quote(STAGE)),
            (Dialect::MySql, Target::Stage { schema }) => self.table(schema, STAGE),
        }
    }

    /// A string literal. MySQL also treats backslashes as escapes.
    pub fn literal(self, s: &str) -> String {
        match self {
            Dialect::MySql => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''")),
            _ => format!("'{}'", s.replace('\'', "''")),
        }
    }

    /// Placeholder of the n-th (0-based) parameter, compared against `attr`.
    pub fn placeholder(self, n: usize, attr: Option<&Attribute>) -> String {
        match self {
            Dialect::MySql => "?".into(),
            Dialect::Postgres => format!("${}", n + 1),
            Dialect::DuckDb => match attr.and_then(|a| self.column_type(&a.ty, "").ok()) {
                Some(t) => format!("CAST(? AS {t})"),
                None => "?".into(),
            },
        }
    }

    pub fn max_table_name(self) -> usize {
        match self {
            Dialect::Postgres => 63,
            _ => 64,
        }
    }

    pub fn begin(self) -> &'static str {
        match self {
            Dialect::MySql => "START TRANSACTION WITH CONSISTENT SNAPSHOT",
            Dialect::Postgres => "BEGIN",
            Dialect::DuckDb => "BEGIN TRANSACTION",
        }
    }

    pub fn commit(self) -> &'static str {
        "COMMIT"
    }

    pub fn rollback(self) -> &'static str {
        "ROLLBACK"
    }

    /// Take the schema's object lock, which orders "is this hash object still referenced?
    /// then delete it" against "check the object is there, then commit rows that point to it"
    /// (datajoint-storage.md §4.4 has no such lock; deletes here remove unreferenced objects).
    /// PostgreSQL: a transaction-scoped advisory lock; MySQL: a named lock released by
    /// [`Dialect::object_unlock`]; DuckDB: a lock in the process (one writer process per file).
    pub fn object_lock(self, schema: &str) -> Option<String> {
        match self {
            Dialect::Postgres => Some(format!(
                // a void function, wrapped so the statement returns 1 like GET_LOCK
                "SELECT CAST(1 AS BIGINT) FROM (SELECT pg_advisory_xact_lock({})) AS l",
                object_lock_key(schema)
            )),
            Dialect::MySql => Some(format!(
                "SELECT CAST(GET_LOCK('{}', 300) AS SIGNED)",
                object_lock_name(schema)
            )),
            Dialect::DuckDb => None,
        }
    }

    pub fn object_unlock(self, schema: &str) -> Option<String> {
        match self {
            Dialect::MySql => Some(format!(
                "SELECT RELEASE_LOCK('{}')",
                object_lock_name(schema)
            )),
            _ => None,
        }
    }

    /// A JSON column as text (for a containment search).
    pub fn json_text(self, col: &str) -> String {
        match self {
            Dialect::Postgres => format!("{}::text", self.quote(col)),
            Dialect::MySql => format!("CAST({} AS CHAR)", self.quote(col)),
            Dialect::DuckDb => format!("CAST({} AS VARCHAR)", self.quote(col)),
        }
    }

    /// MySQL's floating-point columns cannot hold ±inf.
    pub fn stores_infinity(self) -> bool {
        self != Dialect::MySql
    }

    /// Statements run on every new session.
    pub fn session_setup(self) -> Vec<String> {
        match self {
            // UUIDs come back as 16 raw bytes rather than text (and booleans as arrow.bool8).
            Dialect::DuckDb => vec!["SET arrow_lossless_conversion = true".into()],
            Dialect::Postgres => vec!["SET client_min_messages = warning".into()],
            Dialect::MySql => vec![
                format!("SET SESSION sql_mode = {}", self.literal(MYSQL_SQL_MODE)),
                "SET NAMES utf8mb4".into(),
                "SET SESSION time_zone = '+00:00'".into(),
            ],
        }
    }

    /// DuckDB: attach the database file (or `:memory:`) under [`DUCKDB_CATALOG`] and use it.
    pub fn duckdb_attach(path: &str) -> String {
        let d = Dialect::DuckDb;
        format!(
            "ATTACH {} AS {}; USE {};",
            d.literal(path),
            d.quote(DUCKDB_CATALOG),
            d.quote(DUCKDB_CATALOG)
        )
    }

    /// The server's current time at millisecond precision, as the jobs table's `datetime(3)`
    /// columns compare and store it (the reference writes `CURRENT_TIMESTAMP(3)`).
    pub fn now_ms(self) -> &'static str {
        match self {
            Dialect::MySql | Dialect::Postgres => "CURRENT_TIMESTAMP(3)",
            Dialect::DuckDb => "CAST(current_timestamp AS TIMESTAMP)",
        }
    }

    /// The server's time `seconds` from now (negative: ago).
    pub fn now_plus(self, seconds: f64) -> String {
        let micros = (seconds * 1e6).round() as i64;
        match self {
            Dialect::MySql => format!("({} + INTERVAL {micros} MICROSECOND)", self.now_ms()),
            Dialect::Postgres => format!("({} + INTERVAL '{micros} microseconds')", self.now_ms()),
            Dialect::DuckDb => format!("({} + to_microseconds({micros}))", self.now_ms()),
        }
    }

    /// The session's user, as the reference records it in the jobs table.
    pub fn current_user_query(self) -> &'static str {
        match self {
            Dialect::MySql => "SELECT user()",
            Dialect::Postgres => "SELECT CAST(current_user AS text)",
            Dialect::DuckDb => "SELECT CAST('' AS VARCHAR)",
        }
    }

    /// A query returning the server's id of this session (one integer row).
    pub fn session_id_query(self) -> &'static str {
        match self {
            Dialect::MySql => "SELECT CAST(CONNECTION_ID() AS SIGNED)",
            Dialect::Postgres => "SELECT CAST(pg_backend_pid() AS bigint)",
            Dialect::DuckDb => "SELECT CAST(0 AS BIGINT)",
        }
    }

    /// The column type of an attribute type (reference §1.2 for MySQL and PostgreSQL).
    /// `schema` qualifies PostgreSQL's named enum types.
    pub fn column_type(self, ty: &AttrType, schema: &str) -> Result<String> {
        Ok(match ty {
            AttrType::Core(c) => self.core_type(c, schema),
            AttrType::Codec { store, .. } => match (self, store.is_some()) {
                (Dialect::DuckDb, true) => "JSON".into(),
                (Dialect::DuckDb, false) => "BLOB".into(),
                (Dialect::Postgres, true) => "jsonb".into(),
                (Dialect::Postgres, false) => "bytea".into(),
                (Dialect::MySql, true) => "json".into(),
                (Dialect::MySql, false) => "longblob".into(),
            },
            AttrType::Native(n) => self.native_type(n)?,
            AttrType::Computed => {
                return Err(Error::internal("a computed attribute has no column type"))
            }
        })
    }

    fn core_type(self, c: &CoreType, schema: &str) -> String {
        use CoreType::*;
        let d = self;
        match (d, c) {
            (Dialect::DuckDb, _) => match c {
                Int8 => "TINYINT".into(),
                Int16 => "SMALLINT".into(),
                Int32 => "INTEGER".into(),
                Int64 => "BIGINT".into(),
                Float32 => "FLOAT".into(),
                Float64 => "DOUBLE".into(),
                Bool => "BOOLEAN".into(),
                Decimal(p, s) => format!("DECIMAL({p},{s})"),
                Char(_) | Varchar(_) => "VARCHAR".into(),
                Date => "DATE".into(),
                Datetime(_) => "TIMESTAMP".into(),
                Bytes => "BLOB".into(),
                Json => "JSON".into(),
                Uuid => "UUID".into(),
                Enum(v) => format!("ENUM({})", self.enum_items(v)),
            },
            (_, Int8) if d == Dialect::Postgres => "smallint".into(),
            (_, Int8) => "tinyint".into(),
            (_, Int16) => "smallint".into(),
            (Dialect::Postgres, Int32) => "integer".into(),
            (_, Int32) => "int".into(),
            (_, Int64) => "bigint".into(),
            (Dialect::Postgres, Float32) => "real".into(),
            (_, Float32) => "float".into(),
            (Dialect::Postgres, Float64) => "double precision".into(),
            (_, Float64) => "double".into(),
            (Dialect::Postgres, Bool) => "boolean".into(),
            (_, Bool) => "tinyint".into(),
            (Dialect::Postgres, Decimal(p, s)) => format!("numeric({p},{s})"),
            (_, Decimal(p, s)) => format!("decimal({p},{s})"),
            (_, Char(n)) => format!("char({n})"),
            (_, Varchar(n)) => format!("varchar({n})"),
            (_, Date) => "date".into(),
            (Dialect::Postgres, Datetime(None)) => "timestamp".into(),
            (Dialect::Postgres, Datetime(Some(p))) => format!("timestamp({p})"),
            (_, Datetime(None)) => "datetime".into(),
            (_, Datetime(Some(p))) => format!("datetime({p})"),
            (Dialect::Postgres, Bytes) => "bytea".into(),
            (_, Bytes) => "longblob".into(),
            (Dialect::Postgres, Json) => "jsonb".into(),
            (_, Json) => "json".into(),
            (Dialect::Postgres, Uuid) => "uuid".into(),
            (_, Uuid) => "binary(16)".into(),
            (Dialect::Postgres, Enum(v)) => {
                format!("{}.{}", self.quote(schema), self.quote(&pg_enum_name(v)))
            }
            (_, Enum(v)) => format!("enum({})", self.enum_items(v)),
        }
    }

    fn enum_items(self, v: &[String]) -> String {
        let items: Vec<String> = v.iter().map(|s| self.literal(s)).collect();
        items.join(",")
    }

    /// A native type passes through verbatim where the backend has that spelling.
    fn native_type(self, n: &NativeType) -> Result<String> {
        let unavailable = || {
            Error::definition(format!(
                "native type '{}' does not exist on {}; use a core type (int32, float64, bytes, …)",
                n.sql,
                self.name()
            ))
        };
        match self {
            Dialect::MySql => {
                if matches!(n.sql.as_str(), "bytea" | "uuid" | "jsonb" | "boolean")
                    || n.sql.contains("time zone")
                    || n.sql.starts_with("character")
                    || n.sql.ends_with("serial")
                {
                    return Err(unavailable());
                }
                Ok(n.sql.clone())
            }
            Dialect::Postgres => {
                let ok = match &n.repr {
                    NativeRepr::Int { unsigned, .. } => {
                        !unsigned
                            && (matches!(
                                n.sql.as_str(),
                                "smallint" | "int" | "integer" | "bigint" | "serial"
                            ) || n.sql.ends_with("serial"))
                    }
                    NativeRepr::Float32 | NativeRepr::Float64 => {
                        !n.sql.contains("unsigned") && n.sql != "double"
                    }
                    NativeRepr::Decimal(_) => {
                        n.sql.starts_with("decimal") || n.sql.starts_with("numeric")
                    }
                    NativeRepr::Text(_) => {
                        n.sql == "text" || n.sql.starts_with("char") || n.sql.starts_with("varchar")
                    }
                    NativeRepr::Time | NativeRepr::Datetime(_) => !n.sql.starts_with("datetime"),
                    NativeRepr::Bytes => n.sql == "bytea",
                    _ => false,
                };
                if ok {
                    Ok(n.sql.clone())
                } else {
                    Err(unavailable())
                }
            }
            Dialect::DuckDb => Ok(match &n.repr {
                NativeRepr::Int { bytes, unsigned } => match (bytes, unsigned) {
                    (1, false) => "TINYINT",
                    (1, true) => "UTINYINT",
                    (2, false) => "SMALLINT",
                    (2, true) => "USMALLINT",
                    (3 | 4, false) => "INTEGER",
                    (3 | 4, true) => "UINTEGER",
                    (_, false) => "BIGINT",
                    (_, true) => "UBIGINT",
                }
                .into(),
                NativeRepr::Float32 => "FLOAT".into(),
                NativeRepr::Float64 => "DOUBLE".into(),
                NativeRepr::Decimal(Some((p, s))) => format!("DECIMAL({},{})", p.min(&38), s),
                NativeRepr::Decimal(None) => "DECIMAL(38,10)".into(),
                NativeRepr::Text(_) | NativeRepr::Other => "VARCHAR".into(),
                NativeRepr::Bytes => "BLOB".into(),
                NativeRepr::Date => "DATE".into(),
                NativeRepr::Datetime(_) => "TIMESTAMP".into(),
                NativeRepr::Time => "TIME".into(),
                NativeRepr::Year => "SMALLINT".into(),
                NativeRepr::Enum(v) => format!("ENUM({})", self.enum_items(v)),
                NativeRepr::Json => "JSON".into(),
                NativeRepr::Uuid => "UUID".into(),
            }),
        }
    }
}

/// A user's SQL expression in this backend's spelling (PY `adapters/*` `translate_expression`):
/// MySQL's `GROUP_CONCAT(x [SEPARATOR 's'])`, `CURDATE()`, `NOW()`, `YEAR/MONTH/DAY(d)` and
/// `SUM(a = b)` on PostgreSQL and DuckDB; `STRING_AGG(x, 's')` on MySQL.
pub fn translate_expression(d: Dialect, expr: &str) -> String {
    use regex::Regex;
    use std::sync::OnceLock;
    static GC: OnceLock<Regex> = OnceLock::new();
    static SA: OnceLock<Regex> = OnceLock::new();
    static PG: OnceLock<[(Regex, &'static str); 5]> = OnceLock::new();
    static SUM: OnceLock<Regex> = OnceLock::new();
    match d {
        Dialect::MySql => {
            let sa = SA.get_or_init(|| {
                Regex::new(r#"(?i)STRING_AGG\s*\(\s*(.+?)\s*,\s*'([^']*)'\s*\)"#).expect("regex")
            });
            sa.replace_all(expr, |c: &regex::Captures| {
                let col = c[1].trim_end_matches("::text");
                if &c[2] == "," {
                    format!("GROUP_CONCAT({col})")
                } else {
                    format!("GROUP_CONCAT({col} SEPARATOR '{}')", &c[2])
                }
            })
            .into_owned()
        }
        Dialect::Postgres | Dialect::DuckDb => {
            let gc = GC.get_or_init(|| {
                Regex::new(r#"(?i)GROUP_CONCAT\s*\((.+?)(?:\s+SEPARATOR\s+'([^']*)')?\s*\)"#)
                    .expect("regex")
            });
            let mut s = gc
                .replace_all(expr, |c: &regex::Captures| {
                    let sep = c.get(2).map_or(",", |m| m.as_str());
                    format!("STRING_AGG(CAST({} AS TEXT), '{sep}')", c[1].trim())
                })
                .into_owned();
            let pg = PG.get_or_init(|| {
                let r = |p: &str| Regex::new(p).expect("regex");
                [
                    (r(r"(?i)\bCURDATE\s*\(\s*\)"), "CURRENT_DATE"),
                    (r(r"(?i)\bNOW\s*\(\s*\)"), "CURRENT_TIMESTAMP"),
                    (
                        r(r"(?i)\bYEAR\s*\(\s*([^)]+?)\s*\)"),
                        "CAST(EXTRACT(YEAR FROM $1) AS INTEGER)",
                    ),
                    (
                        r(r"(?i)\bMONTH\s*\(\s*([^)]+?)\s*\)"),
                        "CAST(EXTRACT(MONTH FROM $1) AS INTEGER)",
                    ),
                    (
                        r(r"(?i)\bDAY\s*\(\s*([^)]+?)\s*\)"),
                        "CAST(EXTRACT(DAY FROM $1) AS INTEGER)",
                    ),
                ]
            });
            for (re, to) in pg.iter() {
                s = re.replace_all(&s, *to).into_owned();
            }
            // a comparison is a boolean there, and booleans do not sum
            let sum = SUM.get_or_init(|| {
                Regex::new(r"(?i)\bSUM\s*\(\s*([^()]*[=<>!][^()]*)\)").expect("regex")
            });
            sum.replace_all(&s, "SUM(CAST(($1) AS INTEGER))")
                .into_owned()
        }
    }
}

/// PostgreSQL enum type name: `enum_` + the first 8 hex digits of MD5 of the sorted values
/// joined by `_` (PY `adapters/postgres.py` `core_type_to_sql`). The reference hashes the values
/// as it splits them out of the declared text, with quotes still doubled (`it''s`); so do we,
/// so that both name the type alike.
pub fn pg_enum_name(values: &[String]) -> String {
    use md5::{Digest, Md5};
    let spelled: Vec<String> = values.iter().map(|v| v.replace('\'', "''")).collect();
    let mut sorted: Vec<&str> = spelled.iter().map(|s| s.as_str()).collect();
    sorted.sort();
    let digest = hex::encode(Md5::digest(sorted.join("_").as_bytes()));
    format!("enum_{}", &digest[..8])
}

/// The advisory-lock key of a schema's objects: 63 bits of the MD5 of a fixed prefix + name.
pub fn object_lock_key(schema: &str) -> i64 {
    use md5::{Digest, Md5};
    let d = Md5::digest(format!("datajoint-objects:{schema}").as_bytes());
    (u64::from_le_bytes(d[..8].try_into().expect("8 bytes")) >> 1) as i64
}

/// A MySQL lock name (at most 64 characters) for a schema's objects.
pub fn object_lock_name(schema: &str) -> String {
    format!("dj_objects_{:016x}", object_lock_key(schema))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::parse_type;

    #[test]
    fn reference_type_maps() {
        let t = |d: Dialect, s: &str| d.column_type(&parse_type(s).unwrap(), "djexp").unwrap();
        assert_eq!(t(Dialect::MySql, "int8"), "tinyint");
        assert_eq!(t(Dialect::Postgres, "int8"), "smallint");
        assert_eq!(t(Dialect::MySql, "bool"), "tinyint");
        assert_eq!(t(Dialect::Postgres, "float64"), "double precision");
        assert_eq!(t(Dialect::MySql, "uuid"), "binary(16)");
        assert_eq!(t(Dialect::Postgres, "datetime(3)"), "timestamp(3)");
        assert_eq!(t(Dialect::Postgres, "decimal(10,2)"), "numeric(10,2)");
        assert_eq!(t(Dialect::MySql, "<blob>"), "longblob");
        assert_eq!(t(Dialect::Postgres, "<npy@main>"), "jsonb");
        assert_eq!(
            t(Dialect::Postgres, "enum('M','F')"),
            "\"djexp\".\"enum_724cdf44\""
        );
        assert_eq!(t(Dialect::MySql, "enum('M','F')"), "enum('M','F')");
        assert_eq!(t(Dialect::MySql, "int unsigned"), "int unsigned");
        assert_eq!(t(Dialect::DuckDb, "int unsigned"), "UINTEGER");
        assert!(Dialect::Postgres
            .column_type(&parse_type("int unsigned").unwrap(), "s")
            .is_err());
        assert_eq!(Dialect::MySql.literal("a'b\\c"), "'a''b\\\\c'");
        assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
    }
}
