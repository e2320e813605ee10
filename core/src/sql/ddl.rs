//! Declaration DDL: schemas, tables (the reference's `declare`, PY `declare.py` and
//! `adapters/*`), PostgreSQL enum types, indexes, comments and the `~lineage` table.

use super::Dialect;
use crate::declare::Default;
use crate::error::Result;
use crate::heading::{Attribute, Heading};
use crate::types::{AttrType, CoreType};

/// A resolved foreign key: child columns reference the parent's primary-key columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKeySpec {
    pub columns: Vec<String>,
    pub parent_schema: String,
    pub parent_table: String,
    pub parent_columns: Vec<String>,
    /// `-> [unique] Parent`: a unique index on the columns.
    pub unique: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexSpec {
    pub unique: bool,
    pub columns: Vec<String>,
}

/// Everything needed to create a table.
#[derive(Debug, Clone)]
pub struct TableSpec<'a> {
    pub schema: &'a str,
    pub name: &'a str,
    pub heading: &'a Heading,
    /// A table with an empty primary key gets the hidden `_singleton` key column.
    pub singleton: bool,
    pub foreign_keys: Vec<ForeignKeySpec>,
    pub indexes: Vec<IndexSpec>,
    /// Attributes added by foreign keys (copies of the parent's key; no `:type:` marker).
    pub inherited: Vec<String>,
}

impl TableSpec<'_> {
    /// The visible attributes followed by the hidden ones the platform adds.
    pub fn columns(&self) -> Vec<Attribute> {
        let mut v = self.heading.attributes.clone();
        if self.singleton {
            v.push(singleton_attribute());
        }
        v
    }

    /// Primary-key column names, `_singleton` for a singleton table.
    pub fn primary_key(&self) -> Vec<String> {
        self.columns()
            .iter()
            .filter(|a| a.in_key)
            .map(|a| a.name.clone())
            .collect()
    }
}

/// The reference's `_singleton = 1 : bool # singleton primary key`.
pub fn singleton_attribute() -> Attribute {
    Attribute {
        name: "_singleton".into(),
        ty: AttrType::Core(CoreType::Bool),
        declared_type: "bool".into(),
        in_key: true,
        nullable: false,
        default: Some(Default::Literal("1".into())),
        comment: "singleton primary key".into(),
    }
}

pub fn create_schema(d: Dialect, name: &str) -> String {
    match d {
        Dialect::MySql => format!("CREATE DATABASE IF NOT EXISTS {}", d.quote(name)),
        Dialect::DuckDb => format!(
            "CREATE SCHEMA IF NOT EXISTS {}.{}",
            d.quote(super::DUCKDB_CATALOG),
            d.quote(name)
        ),
        Dialect::Postgres => format!("CREATE SCHEMA IF NOT EXISTS {}", d.quote(name)),
    }
}

pub fn drop_schema(d: Dialect, name: &str) -> String {
    match d {
        Dialect::MySql => format!("DROP DATABASE IF EXISTS {}", d.quote(name)),
        Dialect::DuckDb => format!(
            "DROP SCHEMA IF EXISTS {}.{} CASCADE",
            d.quote(super::DUCKDB_CATALOG),
            d.quote(name)
        ),
        Dialect::Postgres => format!("DROP SCHEMA IF EXISTS {} CASCADE", d.quote(name)),
    }
}

pub fn drop_table(d: Dialect, schema: &str, table: &str) -> String {
    format!("DROP TABLE {}", d.table(schema, table))
}

/// PostgreSQL's named enum types a table needs: (type name, values). Empty elsewhere.
pub fn enum_types(d: Dialect, spec: &TableSpec) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    if d != Dialect::Postgres {
        return out;
    }
    for a in &spec.heading.attributes {
        if let AttrType::Core(CoreType::Enum(v)) = &a.ty {
            let name = super::pg_enum_name(v);
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, v.clone()));
            }
        }
    }
    out
}

pub fn create_enum_type(d: Dialect, schema: &str, name: &str, values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| d.literal(v)).collect();
    format!(
        "CREATE TYPE {}.{} AS ENUM ({})",
        d.quote(schema),
        d.quote(name),
        items.join(", ")
    )
}

/// Dropping an enum type without CASCADE: a type still used by another table stays.
pub fn drop_enum_type(d: Dialect, schema: &str, name: &str) -> String {
    format!("DROP TYPE IF EXISTS {}.{}", d.quote(schema), d.quote(name))
}

/// The comment text stored for a column: `:type:comment` for core and codec types, the plain
/// comment for native types, and for foreign-key copies nothing on PostgreSQL and DuckDB and the
/// parent's comment (with `:uuid:` for uuids) on MySQL, exactly as the reference stores them.
pub fn stored_comment(d: Dialect, a: &Attribute, inherited: bool) -> Option<String> {
    let raw = if inherited {
        if d != Dialect::MySql {
            return None;
        }
        let uuid = matches!(a.ty, AttrType::Core(CoreType::Uuid));
        format!("{}{}", if uuid { ":uuid:" } else { "" }, a.comment)
    } else if matches!(a.ty, AttrType::Native(_)) {
        a.comment.clone()
    } else {
        format!(":{}:{}", a.declared_type, a.comment)
    };
    if raw.is_empty() {
        return None;
    }
    // The reference escapes `"` as `\"` in the comment; MySQL's `COMMENT "…"` literal turns it
    // back into `"`, PostgreSQL's `COMMENT ON … IS '…'` keeps it.
    Some(if d == Dialect::MySql {
        raw
    } else {
        raw.replace('"', "\\\"")
    })
}

fn mysql_comment_literal(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn column_def(d: Dialect, a: &Attribute, schema: &str, comment: Option<&str>) -> Result<String> {
    let ty = d.column_type(&a.ty, schema)?;
    let mut c = format!("{} {ty}", d.quote(&a.name));
    match &a.default {
        Some(Default::Null) => c.push_str(" DEFAULT NULL"),
        Some(Default::Expression(e)) => {
            c.push_str(" NOT NULL DEFAULT ");
            // DuckDB's CURRENT_TIMESTAMP takes no precision (its timestamps keep microseconds)
            let upper = e.to_ascii_uppercase();
            if d == Dialect::DuckDb && upper.starts_with("CURRENT_TIMESTAMP(") {
                c.push_str("CURRENT_TIMESTAMP");
            } else {
                c.push_str(e);
            }
        }
        Some(Default::Literal(l)) => {
            // MySQL's tinyint cannot take 'true'/'false' in strict mode.
            let l = match (d, &a.ty) {
                (Dialect::MySql, AttrType::Core(CoreType::Bool)) => {
                    match l.to_ascii_lowercase().as_str() {
                        "true" => "1".to_string(),
                        "false" => "0".to_string(),
                        _ => l.clone(),
                    }
                }
                _ => l.clone(),
            };
            c.push_str(" NOT NULL DEFAULT ");
            c.push_str(&d.literal(&l));
        }
        None if a.nullable => c.push_str(" DEFAULT NULL"),
        None => c.push_str(" NOT NULL"),
    }
    if let (Dialect::MySql, Some(text)) = (d, comment) {
        c.push_str(" COMMENT ");
        c.push_str(&mysql_comment_literal(text));
    }
    Ok(c)
}

fn index_name(table: &str, columns: &[String], taken: &mut Vec<String>) -> String {
    let cols: String = columns.join("_").chars().take(30).collect();
    let base = format!("idx_{table}_{cols}");
    let mut name = base.clone();
    let mut k = 2;
    while taken.contains(&name) {
        name = format!("{base}_{k}");
        k += 1;
    }
    taken.push(name.clone());
    name
}

/// The indexes of a table: declared ones, `unique` foreign keys, and on PostgreSQL the
/// reference's foreign-key support indexes (skipped when a prefix of the primary key or of
/// another index covers them; longest first).
pub fn indexes(d: Dialect, spec: &TableSpec) -> Vec<IndexSpec> {
    let mut out: Vec<IndexSpec> = Vec::new();
    for fk in spec.foreign_keys.iter().filter(|f| f.unique) {
        out.push(IndexSpec {
            unique: true,
            columns: fk.columns.clone(),
        });
    }
    out.extend(spec.indexes.iter().cloned());
    if d == Dialect::Postgres {
        let mut prefixes: Vec<Vec<String>> = vec![spec.primary_key()];
        prefixes.extend(out.iter().map(|i| i.columns.clone()));
        let mut candidates: Vec<&Vec<String>> = spec
            .foreign_keys
            .iter()
            .filter(|f| !f.unique)
            .map(|f| &f.columns)
            .collect();
        candidates.sort_by_key(|c| std::cmp::Reverse(c.len()));
        for c in candidates {
            let covered = prefixes
                .iter()
                .any(|p| p.len() >= c.len() && p[..c.len()] == c[..]);
            if !covered {
                out.push(IndexSpec {
                    unique: false,
                    columns: c.clone(),
                });
                prefixes.push(c.clone());
            }
        }
    }
    out
}

/// CREATE TABLE followed by what each backend runs after it (indexes and comments on
/// PostgreSQL and DuckDB). Enum types must exist first ([`enum_types`]).
pub fn create_table(d: Dialect, spec: &TableSpec) -> Result<Vec<String>> {
    let full = d.table(spec.schema, spec.name);
    let mut lines = Vec::new();
    let mut comments = Vec::new();
    for a in spec.columns() {
        let inherited = spec.inherited.contains(&a.name);
        let comment = stored_comment(d, &a, inherited);
        lines.push(column_def(d, &a, spec.schema, comment.as_deref())?);
        if let Some(c) = comment {
            comments.push((a.name.clone(), c));
        }
    }
    lines.push(format!(
        "PRIMARY KEY ({})",
        d.quote_list(&spec.primary_key())
    ));
    for fk in &spec.foreign_keys {
        let actions = if d == Dialect::DuckDb {
            "" // DuckDB has no referential actions; its default is RESTRICT
        } else {
            " ON UPDATE CASCADE ON DELETE RESTRICT"
        };
        lines.push(format!(
            "FOREIGN KEY ({}) REFERENCES {} ({}){actions}",
            d.quote_list(&fk.columns),
            d.table(&fk.parent_schema, &fk.parent_table),
            d.quote_list(&fk.parent_columns)
        ));
    }
    let indexes = indexes(d, spec);
    let mut post = Vec::new();
    let mut taken = Vec::new();
    for ix in &indexes {
        let unique = if ix.unique { "UNIQUE " } else { "" };
        if d == Dialect::MySql {
            lines.push(format!("{unique}INDEX ({})", d.quote_list(&ix.columns)));
        } else {
            post.push(format!(
                "CREATE {unique}INDEX {} ON {full} ({})",
                d.quote(&index_name(spec.name, &ix.columns, &mut taken)),
                d.quote_list(&ix.columns)
            ));
        }
    }
    let options = match d {
        Dialect::MySql if spec.heading.comment.is_empty() => "ENGINE=InnoDB".to_string(),
        Dialect::MySql => format!(
            "ENGINE=InnoDB, COMMENT {}",
            mysql_comment_literal(&spec.heading.comment)
        ),
        _ => String::new(),
    };
    let mut out = vec![format!(
        "CREATE TABLE IF NOT EXISTS {full} (\n{}\n) {options}",
        lines.join(",\n")
    )];
    out.extend(post);
    if d != Dialect::MySql {
        out.push(format!(
            "COMMENT ON TABLE {full} IS {}",
            d.literal(&spec.heading.comment)
        ));
        for (name, c) in comments {
            out.push(format!(
                "COMMENT ON COLUMN {full}.{} IS {}",
                d.quote(&name),
                d.literal(&c)
            ));
        }
    }
    Ok(out)
}

// ---------- ~lineage (PY `lineage.py`) ----------

pub const LINEAGE: &str = "~lineage";

/// `CREATE TABLE IF NOT EXISTS ~lineage` exactly as the reference declares it.
pub fn lineage_table(d: Dialect, schema: &str) -> String {
    let col = |name: &str, ty: &str, comment: &str| {
        let mut c = format!("{} {ty} NOT NULL", d.quote(name));
        if d == Dialect::MySql {
            c.push_str(&format!(" COMMENT {}", mysql_comment_literal(comment)));
        }
        c
    };
    let options = if d == Dialect::MySql {
        "ENGINE=InnoDB"
    } else {
        ""
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n{},\n{},\n{},\nPRIMARY KEY ({}, {})\n) {options}",
        d.table(schema, LINEAGE),
        col("table_name", "VARCHAR(64)", "table name within the schema"),
        col("attribute_name", "VARCHAR(64)", "attribute name"),
        col("lineage", "VARCHAR(255)", "origin: schema.table.attribute"),
        d.quote("table_name"),
        d.quote("attribute_name"),
    )
}

/// Remove a table's lineage rows (parameter: the table name).
pub fn lineage_delete(d: Dialect, schema: &str) -> String {
    format!(
        "DELETE FROM {} WHERE {} = {}",
        d.table(schema, LINEAGE),
        d.quote("table_name"),
        d.placeholder(0, None)
    )
}

/// Insert `n` lineage rows (parameters: table_name, attribute_name, lineage for each).
pub fn lineage_insert(d: Dialect, schema: &str, n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|r| {
            format!(
                "({}, {}, {})",
                d.placeholder(3 * r, None),
                d.placeholder(3 * r + 1, None),
                d.placeholder(3 * r + 2, None)
            )
        })
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        d.table(schema, LINEAGE),
        d.quote_list(&["table_name", "attribute_name", "lineage"]),
        rows.join(", ")
    )
}

/// The lineage of one attribute (parameters: table name, attribute name).
pub fn lineage_lookup(d: Dialect, schema: &str) -> String {
    format!(
        "SELECT {} FROM {} WHERE {} = {} AND {} = {}",
        d.quote("lineage"),
        d.table(schema, LINEAGE),
        d.quote("table_name"),
        d.placeholder(0, None),
        d.quote("attribute_name"),
        d.placeholder(1, None)
    )
}

/// A table's lineage rows (parameter: table name): attribute name, lineage.
pub fn lineage_of_table(d: Dialect, schema: &str) -> String {
    format!(
        "SELECT {}, {} FROM {} WHERE {} = {}",
        d.quote("attribute_name"),
        d.quote("lineage"),
        d.table(schema, LINEAGE),
        d.quote("table_name"),
        d.placeholder(0, None)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::parse_type;

    fn attr(name: &str, ty: &str, key: bool, comment: &str) -> Attribute {
        Attribute {
            name: name.into(),
            ty: parse_type(ty).unwrap(),
            declared_type: ty.into(),
            in_key: key,
            nullable: false,
            default: None,
            comment: comment.into(),
        }
    }

    #[test]
    fn reference_ddl() {
        let heading = Heading {
            attributes: vec![
                attr("subject_id", "int32", true, "the \"id\""),
                attr("rec_id", "int16", true, ""),
                attr("sex", "enum('M','F')", false, ""),
            ],
            comment: "a recording".into(),
        };
        let spec = TableSpec {
            schema: "djexp",
            name: "rec",
            heading: &heading,
            singleton: false,
            foreign_keys: vec![ForeignKeySpec {
                columns: vec!["subject_id".into()],
                parent_schema: "djexp".into(),
                parent_table: "subject".into(),
                parent_columns: vec!["subject_id".into()],
                unique: false,
            }],
            indexes: vec![],
            inherited: vec!["subject_id".into()],
        };
        let my = create_table(Dialect::MySql, &spec).unwrap();
        assert_eq!(
            my[0],
            "CREATE TABLE IF NOT EXISTS `djexp`.`rec` (\n\
             `subject_id` int NOT NULL COMMENT \"the \\\"id\\\"\",\n\
             `rec_id` smallint NOT NULL COMMENT \":int16:\",\n\
             `sex` enum('M','F') NOT NULL COMMENT \":enum('M','F'):\",\n\
             PRIMARY KEY (`subject_id`, `rec_id`),\n\
             FOREIGN KEY (`subject_id`) REFERENCES `djexp`.`subject` (`subject_id`) ON UPDATE CASCADE ON DELETE RESTRICT\n\
             ) ENGINE=InnoDB, COMMENT \"a recording\""
        );
        let pg = create_table(Dialect::Postgres, &spec).unwrap();
        assert!(pg[0].contains("\"sex\" \"djexp\".\"enum_724cdf44\" NOT NULL"));
        // the FK is a prefix of the primary key: no support index
        assert!(!pg.iter().any(|s| s.starts_with("CREATE INDEX")));
        assert!(
            pg.contains(&"COMMENT ON COLUMN \"djexp\".\"rec\".\"rec_id\" IS ':int16:'".to_string())
        );
        assert!(!pg.iter().any(|s| s.contains("\"subject_id\" IS")));
        assert_eq!(
            enum_types(Dialect::Postgres, &spec),
            vec![(
                "enum_724cdf44".to_string(),
                vec!["M".to_string(), "F".to_string()]
            )]
        );
    }
}
