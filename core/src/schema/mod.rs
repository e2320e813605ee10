//! Schemas and table declaration: resolving a parsed definition (foreign keys, projections,
//! indexes) against the tables already in the schema.

pub mod declare;
pub mod heading;
pub mod naming;

use crate::connection::ConnInner;
use crate::declare::{parse_definition, Default, ItemKind};
use crate::error::{Error, ErrorCode, Result};
use crate::heading::{Attribute, Heading};
use crate::naming::Tier;
use crate::sql::ddl::{ForeignKeySpec, IndexSpec, TableSpec};
use crate::table::Table;
use crate::types::{AttrType, CoreType};
use std::sync::Arc;

#[derive(Clone)]
pub struct Schema {
    pub(crate) conn: Arc<ConnInner>,
    name: String,
}

fn validate_schema_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 64 {
        return Err(Error::invalid_arg(format!(
            "schema name '{name}' must have 1 to 64 characters"
        )));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::invalid_arg(format!(
            "schema name '{name}' may only contain letters, digits, '_' and '-'"
        )));
    }
    Ok(())
}

impl Schema {
    pub(crate) fn open(conn: Arc<ConnInner>, name: &str, create: bool) -> Result<Schema> {
        validate_schema_name(name)?;
        conn.with(|b| {
            let exists = b.list_schemas()?.iter().any(|s| s == name);
            if !exists {
                if !create {
                    return Err(Error::not_found(format!("schema `{name}` does not exist")));
                }
                b.create_schema(name)?;
            }
            Ok(())
        })?;
        Ok(Schema {
            conn,
            name: name.to_string(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// SQL names of the schema's tables (hidden tables excluded), sorted.
    pub fn list_tables(&self) -> Result<Vec<String>> {
        self.conn.with(|b| b.list_tables(&self.name))
    }

    /// Remove the stored objects no row of this schema references (see [`crate::gc`]).
    pub fn gc(&self, opts: &crate::gc::GcOptions) -> Result<crate::gc::GcStats> {
        crate::gc::collect(self, opts)
    }

    /// Drop the schema with all its tables, dependents first (a table of another schema
    /// that depends on one of them is an error). Stored objects stay for [`crate::gc`].
    pub fn drop(&self) -> Result<()> {
        let tables = self.list_tables()?;
        let order = crate::query::delete::schema_order(&self.conn, &self.name, &tables)?;
        for t in order.iter().rev() {
            self.conn.with(|b| b.drop_table(&self.name, t))?;
        }
        self.conn.with(|b| b.drop_schema(&self.name))
    }

    /// Open a table by class name (`SessionTrial`, `Master.Part`) or SQL name (`session_trial`,
    /// `#lookup`); its heading is read from the database.
    pub fn table(&self, name: &str) -> Result<Table> {
        let sql_name = self.resolve_name(name)?;
        self.open_sql(&sql_name)
    }

    fn open_sql(&self, sql_name: &str) -> Result<Table> {
        Table::open(self.conn.clone(), &self.name, sql_name)
    }

    fn resolve_name(&self, name: &str) -> Result<String> {
        if name.starts_with(|c: char| c.is_ascii_uppercase()) {
            let candidates = naming::candidate_names(name)?;
            let tables = self.list_tables()?;
            let found: Vec<&String> = candidates.iter().filter(|c| tables.contains(c)).collect();
            match found.len() {
                0 => Err(Error::not_found(format!(
                    "no table for class '{name}' in schema `{}`",
                    self.name
                ))),
                1 => Ok(found[0].clone()),
                _ => Err(Error::invalid_arg(format!(
                    "class '{name}' is ambiguous in schema `{}`: {found:?}",
                    self.name
                ))),
            }
        } else {
            Ok(name.to_string())
        }
    }

    /// Declare a table of a tier from a DataJoint definition. Declaring a table that already
    /// exists returns it unchanged (like the reference's CREATE TABLE IF NOT EXISTS).
    pub fn declare(&self, class_name: &str, tier: Tier, definition: &str) -> Result<Table> {
        let sql_name = naming::table_name(class_name, tier)?;
        self.declare_sql(&sql_name, definition, None)
    }

    /// Declare a part table of `master` (`master.sql_name + "__" + snake(part_class)`).
    pub fn declare_part(
        &self,
        master: &Table,
        part_class: &str,
        definition: &str,
    ) -> Result<Table> {
        if master.schema() != self.name {
            return Err(Error::invalid_arg(
                "the master table belongs to another schema",
            ));
        }
        let sql_name = naming::part_table_name(master.name(), part_class)?;
        self.declare_sql(&sql_name, definition, Some(master.name()))
    }

    pub(crate) fn declare_sql(
        &self,
        sql_name: &str,
        definition: &str,
        master: Option<&str>,
    ) -> Result<Table> {
        let max = self.conn.with(|b| Ok(b.dialect().max_table_name()))?;
        if sql_name.len() > max {
            return Err(Error::definition(format!(
                "table name '{sql_name}' is longer than {max} characters"
            )));
        }
        let ctx = format!("table `{}`.`{sql_name}`", self.name);
        let def = parse_definition(definition).map_err(|e| e.context(&ctx))?;
        let tables = self.list_tables()?;
        if tables.iter().any(|t| t == sql_name) {
            return self.open_sql(sql_name);
        }
        let mut heading = Heading {
            attributes: Vec::new(),
            comment: def.comment.clone(),
        };
        let mut fks = Vec::new();
        let mut indexes = Vec::new();
        let mut inherited: Vec<String> = Vec::new();
        let mut declared_indexes: Vec<(usize, IndexSpec)> = Vec::new();
        for item in &def.items {
            let line_err =
                |msg: String| Error::definition(format!("{ctx}: line {}: {msg}", item.line));
            match &item.kind {
                ItemKind::Attribute(a) => {
                    if heading.get(&a.name).is_some() {
                        return Err(line_err(format!(
                            "attribute '{}' is declared twice",
                            a.name
                        )));
                    }
                    if let AttrType::Codec {
                        store: Some(store), ..
                    } = &a.ty
                    {
                        self.conn.stores.check(store).map_err(|e| {
                            Error::new(
                                e.code,
                                format!(
                                    "{ctx}: line {}: attribute '{}': {}",
                                    item.line, a.name, e.message
                                ),
                            )
                        })?;
                    }
                    heading.attributes.push(Attribute {
                        name: a.name.clone(),
                        ty: a.ty.clone(),
                        declared_type: a.declared_type.clone(),
                        in_key: item.in_key,
                        nullable: a.nullable(),
                        default: a.default.clone(),
                        comment: a.comment.clone(),
                    });
                }
                ItemKind::ForeignKey(fk) => {
                    let parent_sql = if fk.parent == "master" {
                        master.map(|m| m.to_string()).ok_or_else(|| {
                            line_err("'-> master' is only valid in a part table".into())
                        })?
                    } else {
                        let cands = naming::candidate_names(&fk.parent).map_err(|e| {
                            line_err(format!("invalid reference '{}': {}", fk.parent, e.message))
                        })?;
                        let found: Vec<&String> =
                            cands.iter().filter(|c| tables.contains(c)).collect();
                        match found.len() {
                            0 => {
                                return Err(line_err(format!(
                                    "referenced table '{}' does not exist in schema `{}`",
                                    fk.parent, self.name
                                )))
                            }
                            1 => found[0].clone(),
                            _ => {
                                return Err(line_err(format!(
                                    "reference '{}' is ambiguous: {found:?}",
                                    fk.parent
                                )))
                            }
                        }
                    };
                    if parent_sql == sql_name {
                        return Err(line_err("a table cannot reference itself".into()));
                    }
                    let parent = self
                        .conn
                        .with(|b| b.read_heading(&self.name, &parent_sql))?
                        .ok_or_else(|| {
                            line_err(format!("referenced table `{parent_sql}` vanished"))
                        })?;
                    let parent_pk: Vec<&Attribute> = parent.primary_key().collect();
                    if parent_pk.is_empty() {
                        return Err(line_err(format!(
                            "referenced table `{parent_sql}` has no visible primary key"
                        )));
                    }
                    for (_, old) in &fk.renames {
                        if !parent_pk.iter().any(|a| &a.name == old) {
                            return Err(line_err(format!(
                                "'{old}' in .proj() is not a primary-key attribute of `{parent_sql}`"
                            )));
                        }
                    }
                    let mut cols = Vec::new();
                    let mut pcols = Vec::new();
                    for pa in parent_pk {
                        let new_name = fk
                            .renames
                            .iter()
                            .find(|(_, old)| old == &pa.name)
                            .map(|(n, _)| n.clone())
                            .unwrap_or_else(|| pa.name.clone());
                        match heading.get(&new_name) {
                            Some(existing) => {
                                if existing.ty != pa.ty {
                                    return Err(line_err(format!(
                                        "attribute '{new_name}' already exists with another type"
                                    )));
                                }
                            }
                            None => {
                                inherited.push(new_name.clone());
                                heading.attributes.push(Attribute {
                                    name: new_name.clone(),
                                    ty: pa.ty.clone(),
                                    declared_type: pa.declared_type.clone(),
                                    in_key: item.in_key,
                                    nullable: fk.nullable,
                                    default: if fk.nullable {
                                        Some(Default::Null)
                                    } else {
                                        None
                                    },
                                    comment: pa.comment.clone(),
                                })
                            }
                        }
                        cols.push(new_name);
                        pcols.push(pa.name.clone());
                    }
                    fks.push(ForeignKeySpec {
                        columns: cols,
                        parent_schema: self.name.clone(),
                        parent_table: parent_sql,
                        parent_columns: pcols,
                        unique: fk.unique,
                    });
                }
                ItemKind::Index(ix) => declared_indexes.push((
                    item.line,
                    IndexSpec {
                        unique: ix.unique,
                        columns: ix.columns.clone(),
                    },
                )),
            }
        }
        for (line, ix) in declared_indexes {
            let missing: Vec<&String> = ix
                .columns
                .iter()
                .filter(|c| heading.get(c).is_none())
                .collect();
            if !missing.is_empty() {
                return Err(Error::definition(format!(
                    "{ctx}: line {line}: index names unknown attribute(s) {missing:?}"
                )));
            }
            indexes.push(ix);
        }
        if heading.attributes.is_empty() {
            return Err(Error::definition(format!(
                "{ctx}: the definition declares no attributes"
            )));
        }
        if matches!(
            naming::tier_of(sql_name),
            Some(Tier::Computed | Tier::Imported)
        ) {
            self.auto_populated_rules(&ctx, &mut heading, &fks)?;
        }
        let singleton = heading.primary_key().next().is_none();
        let spec = TableSpec {
            schema: &self.name,
            name: sql_name,
            heading: &heading,
            singleton,
            foreign_keys: fks,
            indexes,
            inherited,
        };
        self.conn.with(|b| b.create_table(&spec)).map_err(|e| {
            if e.code == ErrorCode::Backend {
                Error::new(ErrorCode::Definition, e.message)
            } else {
                e
            }
        })?;
        self.open_sql(sql_name)
    }
}

impl Schema {
    /// The reference's rules for Computed and Imported tables: every primary-key attribute
    /// comes from a foreign key (one `make` per entity; bypassed by
    /// `jobs.allow_new_pk_fields_in_computed_tables`), and with `jobs.add_job_metadata` the
    /// hidden `_job_*` columns are added (datajoint-storage.md §2.4).
    fn auto_populated_rules(
        &self,
        ctx: &str,
        heading: &mut Heading,
        fks: &[ForeignKeySpec],
    ) -> Result<()> {
        let cfg = &self.conn.config;
        let flag = |k: &str| cfg.get_bool(k, false);
        if !flag("jobs.allow_new_pk_fields_in_computed_tables") {
            let native: Vec<&str> = heading
                .primary_key()
                .filter(|a| !fks.iter().any(|f| f.columns.contains(&a.name)))
                .map(|a| a.name.as_str())
                .collect();
            if !native.is_empty() {
                return Err(Error::definition(format!(
                    "{ctx}: an auto-populated table has non-FK primary key attribute(s): {}. \
                     Computed and Imported tables derive their whole primary key from foreign \
                     keys (make() is called once per entity; define a Part table for several \
                     rows per key), or set jobs.allow_new_pk_fields_in_computed_tables",
                    native.join(", ")
                )));
            }
        }
        if flag("jobs.add_job_metadata") {
            let hidden =
                |name: &str, ty: CoreType, declared: &str, default: Default, c: &str| Attribute {
                    name: name.into(),
                    ty: AttrType::Core(ty),
                    declared_type: declared.into(),
                    in_key: false,
                    nullable: default == Default::Null,
                    default: Some(default),
                    comment: c.into(),
                };
            heading.attributes.extend([
                hidden(
                    "_job_start_time",
                    CoreType::Datetime(Some(3)),
                    "datetime(3)",
                    Default::Null,
                    "when computation began",
                ),
                hidden(
                    "_job_duration",
                    CoreType::Float32,
                    "float32",
                    Default::Null,
                    "computation duration in seconds",
                ),
                hidden(
                    "_job_version",
                    CoreType::Varchar(64),
                    "varchar(64)",
                    Default::Literal(String::new()),
                    "code version",
                ),
            ]);
        }
        Ok(())
    }
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema").field("name", &self.name).finish()
    }
}
