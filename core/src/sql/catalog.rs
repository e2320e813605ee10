//! Catalog queries (schemas, tables, columns, keys, foreign keys, enum types) and the mapping of
//! what a catalog reports back to DataJoint attributes: `:type:` comments first, then the SQL
//! type (PostgreSQL's `character(n)`/`numeric(p,s)`/enum udt names, MySQL display widths, DuckDB
//! names), and column defaults back to the declared literal.
//!
//! Every query returns text columns; parameters are text.

use super::Dialect;
use crate::declare::Default;
use crate::error::{Error, ErrorCode, Result};
use crate::heading::{parse_column_comment, Attribute};
use crate::types::{parse_native, parse_type, AttrType, CoreType, NativeRepr, NativeType};

fn ph(d: Dialect, n: usize) -> String {
    d.placeholder(n, None)
}

/// One text column: the names of the user's schemas.
pub fn list_schemas(d: Dialect) -> String {
    match d {
        Dialect::DuckDb => "SELECT schema_name FROM duckdb_schemas() WHERE database_name = \
                            current_database() AND NOT internal AND schema_name <> 'main'"
            .into(),
        Dialect::Postgres => "SELECT nspname::text FROM pg_catalog.pg_namespace WHERE nspname \
                              NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
            .into(),
        Dialect::MySql => "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME \
                           NOT IN ('information_schema', 'mysql', 'performance_schema', 'sys')"
            .into(),
    }
}

/// Table names of a schema (parameter: schema), hidden ones included.
pub fn list_tables(d: Dialect) -> String {
    match d {
        Dialect::DuckDb => format!(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() \
             AND schema_name = {} AND NOT temporary",
            ph(d, 0)
        ),
        Dialect::Postgres => format!(
            "SELECT c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n \
             ON n.oid = c.relnamespace WHERE n.nspname = {} AND c.relkind IN ('r', 'p')",
            ph(d, 0)
        ),
        Dialect::MySql => format!(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = {} \
             AND TABLE_TYPE = 'BASE TABLE'",
            ph(d, 0)
        ),
    }
}

/// One row with the table comment if the table exists (parameters: schema, table).
pub fn table_comment(d: Dialect) -> String {
    match d {
        Dialect::DuckDb => format!(
            "SELECT COALESCE(comment, '') FROM duckdb_tables() WHERE database_name = \
             current_database() AND schema_name = {} AND table_name = {} AND NOT temporary",
            ph(d, 0),
            ph(d, 1)
        ),
        Dialect::Postgres => format!(
            "SELECT COALESCE(obj_description(c.oid, 'pg_class'), '') FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = {} \
             AND c.relname = {} AND c.relkind IN ('r', 'p')",
            ph(d, 0),
            ph(d, 1)
        ),
        Dialect::MySql => format!(
            "SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = {} \
             AND TABLE_NAME = {} AND TABLE_TYPE = 'BASE TABLE'",
            ph(d, 0),
            ph(d, 1)
        ),
    }
}

/// The columns of a table in order (parameters: schema, table). Seven text columns: name, SQL
/// type, nullable ('true'/'false'), default, comment, enum labels (PostgreSQL enums: quoted and
/// comma-separated), extra (MySQL's EXTRA).
pub fn columns(d: Dialect) -> String {
    match d {
        Dialect::DuckDb => format!(
            "SELECT column_name, data_type, CAST(is_nullable AS VARCHAR), column_default, \
             comment, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR) FROM duckdb_columns() \
             WHERE database_name = current_database() \
             AND schema_name = {} AND table_name = {} ORDER BY column_index",
            ph(d, 0),
            ph(d, 1)
        ),
        Dialect::Postgres => format!(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), \
             CASE WHEN a.attnotnull THEN 'false' ELSE 'true' END, \
             pg_get_expr(ad.adbin, ad.adrelid), col_description(c.oid, a.attnum), \
             CASE WHEN t.typtype = 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ',' \
             ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) END, \
             NULL::text \
             FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
             WHERE n.nspname = {} AND c.relname = {} AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
            ph(d, 0),
            ph(d, 1)
        ),
        Dialect::MySql => format!(
            "SELECT COLUMN_NAME, COLUMN_TYPE, IF(IS_NULLABLE = 'YES', 'true', 'false'), \
             COLUMN_DEFAULT, COLUMN_COMMENT, NULL, EXTRA FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {} ORDER BY ORDINAL_POSITION",
            ph(d, 0),
            ph(d, 1)
        ),
    }
}

/// Primary-key column names in key order (parameters: schema, table).
pub fn primary_key(d: Dialect) -> String {
    match d {
        Dialect::DuckDb => format!(
            "SELECT unnest(constraint_column_names) FROM duckdb_constraints() WHERE \
             database_name = current_database() AND schema_name = {} AND table_name = {} \
             AND constraint_type = 'PRIMARY KEY'",
            ph(d, 0),
            ph(d, 1)
        ),
        Dialect::Postgres => format!(
            "SELECT a.attname::text FROM pg_catalog.pg_index i \
             JOIN pg_catalog.pg_class c ON c.oid = i.indrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum \
             WHERE n.nspname = {} AND c.relname = {} AND i.indisprimary ORDER BY k.ord",
            ph(d, 0),
            ph(d, 1)
        ),
        Dialect::MySql => format!(
            "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = {} \
             AND TABLE_NAME = {} AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
            ph(d, 0),
            ph(d, 1)
        ),
    }
}

/// PostgreSQL's constraints with one row per column pair: k (constraint), c1/n1/a1 (the
/// referencing table, schema, column), c2/n2/a2 (the referenced ones).
const PG_FK_COLUMNS: &str = "pg_catalog.pg_constraint k \
     JOIN pg_catalog.pg_class c1 ON c1.oid = k.conrelid \
     JOIN pg_catalog.pg_namespace n1 ON n1.oid = c1.relnamespace \
     JOIN pg_catalog.pg_class c2 ON c2.oid = k.confrelid \
     JOIN pg_catalog.pg_namespace n2 ON n2.oid = c2.relnamespace \
     CROSS JOIN LATERAL unnest(k.conkey, k.confkey) AS u(ck, fk) \
     JOIN pg_catalog.pg_attribute a1 ON a1.attrelid = c1.oid AND a1.attnum = u.ck \
     JOIN pg_catalog.pg_attribute a2 ON a2.attrelid = c2.oid AND a2.attnum = u.fk";

/// Foreign-key columns (parameters: schema, table): column, parent schema, parent table,
/// parent column, constraint.
pub fn foreign_keys(d: Dialect) -> String {
    match d {
        Dialect::DuckDb => format!(
            "SELECT unnest(constraint_column_names), schema_name, referenced_table, \
             unnest(referenced_column_names), CAST(constraint_index AS VARCHAR) \
             FROM duckdb_constraints() WHERE \
             database_name = current_database() AND schema_name = {} AND table_name = {} \
             AND constraint_type = 'FOREIGN KEY'",
            ph(d, 0),
            ph(d, 1)
        ),
        Dialect::Postgres => format!(
            "SELECT a1.attname::text, n2.nspname::text, c2.relname::text, a2.attname::text, \
             k.conname::text FROM {PG_FK_COLUMNS} WHERE k.contype = 'f' AND n1.nspname = {} \
             AND c1.relname = {}",
            ph(d, 0),
            ph(d, 1)
        ),
        Dialect::MySql => format!(
            "SELECT COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, \
             REFERENCED_COLUMN_NAME, CONSTRAINT_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {} AND REFERENCED_TABLE_NAME IS NOT NULL \
             ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION",
            ph(d, 0),
            ph(d, 1)
        ),
    }
}

/// Foreign keys that reference a table (parameters: its schema, its name), one row per column:
/// child schema, child table, constraint, child column, referenced column.
pub fn referencing_keys(d: Dialect) -> String {
    match d {
        // DuckDB's foreign keys stay within one schema
        Dialect::DuckDb => format!(
            "SELECT schema_name, table_name, CAST(constraint_index AS VARCHAR), \
             unnest(constraint_column_names), unnest(referenced_column_names) \
             FROM duckdb_constraints() WHERE database_name = current_database() \
             AND constraint_type = 'FOREIGN KEY' AND schema_name = {} AND referenced_table = {}",
            ph(d, 0),
            ph(d, 1)
        ),
        Dialect::Postgres => format!(
            "SELECT n1.nspname::text, c1.relname::text, k.conname::text, a1.attname::text, \
             a2.attname::text FROM {PG_FK_COLUMNS} \
             WHERE k.contype = 'f' AND n2.nspname = {} AND c2.relname = {}",
            ph(d, 0),
            ph(d, 1)
        ),
        Dialect::MySql => format!(
            "SELECT TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_COLUMN_NAME \
             FROM information_schema.KEY_COLUMN_USAGE WHERE REFERENCED_TABLE_SCHEMA = {} \
             AND REFERENCED_TABLE_NAME = {} ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, \
             ORDINAL_POSITION",
            ph(d, 0),
            ph(d, 1)
        ),
    }
}

/// PostgreSQL: one row if the enum type exists (parameters: schema, type name).
pub fn enum_type_exists() -> String {
    "SELECT t.typname::text FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n \
     ON n.oid = t.typnamespace WHERE n.nspname = $1 AND t.typname = $2"
        .into()
}

/// PostgreSQL: the enum types a table's columns use (parameters: schema, table).
pub fn table_enum_types() -> String {
    "SELECT DISTINCT t.typname::text FROM pg_catalog.pg_attribute a \
     JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
     WHERE t.typtype = 'e' AND n.nspname = $1 AND c.relname = $2"
        .into()
}

/// One column as [`columns`] reports it.
#[derive(Debug, Clone, Default)]
pub struct CatalogColumn {
    pub name: String,
    pub sql_type: String,
    pub nullable: bool,
    pub default: Option<String>,
    pub comment: Option<String>,
    pub enum_labels: Option<String>,
    pub extra: Option<String>,
}

impl CatalogColumn {
    pub fn from_row(mut r: Vec<Option<String>>) -> CatalogColumn {
        r.resize(7, None);
        let mut take = |i: usize| r[i].take();
        CatalogColumn {
            name: take(0).unwrap_or_default(),
            sql_type: take(1).unwrap_or_default(),
            nullable: take(2).as_deref() == Some("true"),
            default: take(3),
            comment: take(4),
            enum_labels: take(5),
            extra: take(6),
        }
    }
}

/// Build an attribute from a catalog column. A `:type:` marker in the comment gives the type;
/// without one, `parent` (the referenced column of a foreign key) does; otherwise the SQL type
/// is read as a native type.
pub fn attribute(
    d: Dialect,
    table: &str,
    c: &CatalogColumn,
    in_key: bool,
    parent: Option<&Attribute>,
) -> Result<Attribute> {
    let default = parse_default(c.default.as_deref(), c.nullable, c.extra.as_deref());
    let comment = c.comment.clone().unwrap_or_default();
    if let Some((declared, user_comment)) = parse_column_comment(&comment) {
        if declared.starts_with("external") || declared.starts_with("blob@") {
            return Err(Error::new(
                ErrorCode::Unsupported,
                format!(
                    "table `{table}`, attribute '{}': legacy type '{declared}' must be migrated to \
                     DataJoint 2.x first",
                    c.name
                ),
            ));
        }
        let ty = parse_type(&declared).map_err(|e| {
            Error::definition(format!(
                "table `{table}`, attribute '{}': unreadable type marker: {}",
                c.name, e.message
            ))
        })?;
        return Ok(Attribute {
            name: c.name.clone(),
            ty,
            declared_type: declared,
            in_key,
            nullable: c.nullable,
            default,
            comment: user_comment,
        });
    }
    let auto = c
        .extra
        .as_deref()
        .is_some_and(|e| e.to_ascii_lowercase().contains("auto_increment"));
    let (ty, declared) = match parent {
        Some(p) => (p.ty.clone(), p.declared_type.clone()),
        // MySQL reports auto_increment apart from the type; keep it with the type
        None if auto => catalog_type(d, &format!("{} auto_increment", c.sql_type), None),
        None => catalog_type(d, &c.sql_type, c.enum_labels.as_deref()),
    };
    Ok(Attribute {
        name: c.name.clone(),
        ty,
        declared_type: declared,
        in_key,
        nullable: c.nullable,
        default,
        comment: comment.replace("\\\"", "\""),
    })
}

/// The type of a column without a marker, from its SQL type: the core type where the SQL type
/// is exactly one, else the native type.
pub fn catalog_type(d: Dialect, sql_type: &str, enum_labels: Option<&str>) -> (AttrType, String) {
    let lower = sql_type.trim().to_ascii_lowercase();
    if let Some(labels) = enum_labels {
        let spelled = format!("enum({labels})");
        if let Some(n) = parse_native(&spelled, true) {
            return (AttrType::Native(n), spelled);
        }
    }
    let spelled = match d {
        Dialect::DuckDb => match lower.as_str() {
            "utinyint" => "tinyint unsigned".to_string(),
            "usmallint" => "smallint unsigned".into(),
            "integer" => "int".into(),
            "uinteger" => "int unsigned".into(),
            "ubigint" => "bigint unsigned".into(),
            "blob" => "longblob".into(),
            "time" => "time".into(),
            _ => lower.clone(),
        },
        _ => lower.clone(),
    };
    let core = match spelled.as_str() {
        "boolean" | "bool" if d != Dialect::MySql => Some(CoreType::Bool),
        "uuid" if d != Dialect::MySql => Some(CoreType::Uuid),
        "json" | "jsonb" => Some(CoreType::Json),
        "date" => Some(CoreType::Date),
        "datetime" if d == Dialect::MySql => Some(CoreType::Datetime(None)),
        _ => None,
    };
    if let Some(c) = core {
        return (AttrType::Core(c), spelled);
    }
    let n = parse_native(&spelled, true).unwrap_or(NativeType {
        sql: spelled.clone(),
        repr: NativeRepr::Other,
    });
    let declared = n.sql.clone();
    (AttrType::Native(n), declared)
}

/// Position of the last `::` outside single quotes.
fn last_cast(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut quoted = false;
    let mut found = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => quoted = !quoted,
            b':' if !quoted && i + 1 < b.len() && b[i + 1] == b':' => {
                found = Some(i);
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// A catalog default back to the declared form: `'anon'::character varying` (PostgreSQL),
/// `'anon'` / `current_timestamp()` / `NULL` (MariaDB), `anon` (MySQL 8),
/// `CAST('anon' AS VARCHAR)` (DuckDB) all read back as the literal or expression declared.
pub fn parse_default(raw: Option<&str>, nullable: bool, extra: Option<&str>) -> Option<Default> {
    let Some(raw) = raw else {
        return nullable.then_some(Default::Null);
    };
    let mut t = raw.trim().to_string();
    loop {
        let before = t.clone();
        if t.len() > 5 && t[..5].eq_ignore_ascii_case("cast(") && t.ends_with(')') {
            let inner = &t[5..t.len() - 1];
            if let Some(p) = inner.to_ascii_uppercase().rfind(" AS ") {
                t = inner[..p].trim().to_string();
            }
        }
        if let Some(p) = last_cast(&t) {
            t = t[..p].trim().to_string();
        }
        if t.starts_with('(') && t.ends_with(')') {
            t = t[1..t.len() - 1].trim().to_string();
        }
        if t == before {
            break;
        }
    }
    if t.eq_ignore_ascii_case("null") {
        return Some(Default::Null);
    }
    if t.len() >= 2 && t.starts_with('\'') && t.ends_with('\'') {
        return Some(Default::Literal(t[1..t.len() - 1].replace("''", "'")));
    }
    let upper = t.to_ascii_uppercase();
    if upper.starts_with("CURRENT_TIMESTAMP") || upper.starts_with("NOW(") {
        let args = upper
            .find('(')
            .map(|p| upper[p..].to_string())
            .filter(|a| a != "()")
            .unwrap_or_default();
        return Some(Default::Expression(format!("CURRENT_TIMESTAMP{args}")));
    }
    if extra.is_some_and(|e| e.to_ascii_uppercase().contains("DEFAULT_GENERATED")) {
        return Some(Default::Expression(t));
    }
    Some(Default::Literal(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_read_back_as_declared() {
        let lit = |s: &str| Some(Default::Literal(s.into()));
        assert_eq!(
            parse_default(Some("'anon'::character varying"), false, None),
            lit("anon")
        );
        assert_eq!(parse_default(Some("'it''s'"), false, None), lit("it's"));
        assert_eq!(parse_default(Some("5"), false, None), lit("5"));
        assert_eq!(
            parse_default(Some("'M'::djexp.enum_724cdf44"), false, None),
            lit("M")
        );
        assert_eq!(
            parse_default(Some("CAST('x' AS VARCHAR)"), false, None),
            lit("x")
        );
        assert_eq!(parse_default(Some("NULL"), true, None), Some(Default::Null));
        assert_eq!(parse_default(None, true, None), Some(Default::Null));
        assert_eq!(parse_default(None, false, None), None);
        assert_eq!(
            parse_default(Some("current_timestamp()"), false, None),
            Some(Default::Expression("CURRENT_TIMESTAMP".into()))
        );
        assert_eq!(
            parse_default(Some("current_timestamp(3)"), false, None),
            Some(Default::Expression("CURRENT_TIMESTAMP(3)".into()))
        );
        assert_eq!(
            parse_default(Some("CURRENT_TIMESTAMP"), false, Some("DEFAULT_GENERATED")),
            Some(Default::Expression("CURRENT_TIMESTAMP".into()))
        );
        assert_eq!(parse_default(Some("'1'::smallint"), false, None), lit("1"));
    }

    #[test]
    fn catalog_types_map_back() {
        let t = |d, s: &str| catalog_type(d, s, None).1;
        assert_eq!(t(Dialect::MySql, "int(10) unsigned"), "int unsigned");
        assert_eq!(t(Dialect::MySql, "tinyint(4)"), "tinyint");
        assert_eq!(
            t(Dialect::Postgres, "character varying(30)"),
            "character varying(30)"
        );
        assert_eq!(
            catalog_type(Dialect::Postgres, "boolean", None).0,
            AttrType::Core(CoreType::Bool)
        );
        assert_eq!(t(Dialect::DuckDb, "UINTEGER"), "int unsigned");
        let (ty, decl) = catalog_type(Dialect::Postgres, "djexp.enum_1", Some("'a','b'"));
        assert_eq!(decl, "enum('a','b')");
        assert!(
            matches!(ty, AttrType::Native(n) if n.repr == NativeRepr::Enum(vec!["a".into(), "b".into()]))
        );
    }
}
