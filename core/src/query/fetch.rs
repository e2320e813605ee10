//! Fetching any query: columns, order, limit, codec values decoded; count, keys, fetch1 and
//! membership; the compiled SQL for debugging.

use super::{Query, Restriction};
use crate::codecs;
use crate::error::{Error, ErrorCode, Result};
use crate::heading::Attribute;
use crate::sql::query::{Block, Source};
use crate::table::{FetchOptions, ResultSet, Row};
use crate::types::{AttrType, CoreType, Kind, NativeRepr, NativeType};
use std::sync::Arc;

/// The type a computed attribute reports once its values are known.
fn computed_type(k: Kind) -> (AttrType, &'static str) {
    match k {
        Kind::Bool => (AttrType::Core(CoreType::Bool), "bool"),
        Kind::Int64 => (AttrType::Core(CoreType::Int64), "int64"),
        Kind::Float64 => (AttrType::Core(CoreType::Float64), "float64"),
        Kind::Bytes => (AttrType::Core(CoreType::Bytes), "bytes"),
        Kind::Date => (AttrType::Core(CoreType::Date), "date"),
        Kind::Datetime => (AttrType::Core(CoreType::Datetime(Some(6))), "datetime(6)"),
        Kind::Uuid => (AttrType::Core(CoreType::Uuid), "uuid"),
        Kind::Json => (AttrType::Core(CoreType::Json), "json"),
        _ => (
            AttrType::Native(NativeType {
                sql: "text".into(),
                repr: NativeRepr::Text(None),
            }),
            "text",
        ),
    }
}

impl Query {
    /// A name for messages: the table's, or "query".
    pub(crate) fn context(&self) -> String {
        match (&self.block.first, self.block.joins.is_empty()) {
            (Source::Table { schema, name }, true) => format!("`{schema}`.`{name}`"),
            _ => "query".into(),
        }
    }

    fn resolve_attrs(&self, names: &Option<Vec<String>>) -> Result<Vec<usize>> {
        let Some(names) = names else {
            return Ok((0..self.attrs.len()).collect());
        };
        let mut out = Vec::new();
        for n in names {
            if n == "KEY" {
                for (i, a) in self.attrs.iter().enumerate() {
                    if a.attr.in_key && !out.contains(&i) {
                        out.push(i);
                    }
                }
                continue;
            }
            let i = self
                .attrs
                .iter()
                .position(|a| &a.attr.name == n)
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::UnknownAttribute,
                        format!(
                            "{} has no attribute '{n}' (attributes: {})",
                            self.context(),
                            self.names().join(", ")
                        ),
                    )
                })?;
            if !out.contains(&i) {
                out.push(i);
            }
        }
        Ok(out)
    }

    /// The block a fetch runs: the fetch's order and limit applied (over a subquery if the
    /// query has its own), narrowed to the fetched attributes.
    fn fetch_block(&self, opts: &FetchOptions, idx: &[usize]) -> Result<Block> {
        let order = match &opts.order_by {
            Some(o) => self.parse_order_by(o)?,
            None => Vec::new(),
        };
        let paging = !order.is_empty() || opts.limit.is_some() || opts.offset.is_some();
        let wrap = (paging && self.block.has_top())
            || (self.block.distinct && idx.len() != self.attrs.len());
        let mut block = if wrap {
            self.block.wrap()
        } else {
            (*self.block).clone()
        };
        if paging {
            block.order_by = order;
            block.limit = opts.limit;
            block.offset = opts.offset;
        }
        block.columns = idx.iter().map(|&i| block.columns[i].clone()).collect();
        Ok(block)
    }

    /// Fetch with codec values as stored (JSON metadata, in-table bytes).
    pub(crate) fn fetch_stored(&self, opts: &FetchOptions) -> Result<ResultSet> {
        let idx = self.resolve_attrs(&opts.attributes)?;
        let block = self.fetch_block(opts, &idx)?;
        let mut attrs: Vec<Attribute> = idx.iter().map(|&i| self.attrs[i].attr.clone()).collect();
        let ctx = format!("fetching from {}", self.context());
        let columns = self.conn.with(|db| db.query_block(&block, &attrs, &ctx))?;
        for (a, c) in attrs.iter_mut().zip(&columns) {
            if a.ty == AttrType::Computed {
                let (ty, name) = computed_type(c.data.kind());
                a.ty = ty;
                a.declared_type = name.into();
            }
        }
        let nrows = columns.first().map(|c| c.len()).unwrap_or(0);
        Ok(ResultSet {
            attributes: attrs,
            columns,
            nrows,
        })
    }

    /// Fetch the matching rows; `<blob>` values come back as value trees, `<hash@>` values as
    /// bytes and attachments as local paths (written into the download folder), each object's
    /// hash checked. Other codecs return their JSON metadata (for NpyRef / ObjectRef).
    pub fn fetch(&self, opts: &FetchOptions) -> Result<ResultSet> {
        let mut rs = self.fetch_stored(opts)?;
        if opts.raw {
            return Ok(rs);
        }
        let download_path = match &opts.download_path {
            Some(p) => std::path::PathBuf::from(p),
            None => std::path::PathBuf::from(
                self.conn
                    .config
                    .get_str("download_path")
                    .unwrap_or_else(|| ".".into()),
            ),
        };
        let tname = self.context();
        let ctx = codecs::DecodeContext {
            stores: &self.conn.stores,
            download_path,
            table: &tname,
            attachment_info: opts.attachment_info,
        };
        let cols = std::mem::take(&mut rs.columns);
        for (a, c) in rs.attributes.iter().zip(cols) {
            rs.columns.push(codecs::decode_column(a, c, &ctx)?);
        }
        Ok(rs)
    }

    /// Fetch exactly one row: `NotFound` for none, `NotUnique` for more than one.
    pub fn fetch1(&self, opts: &FetchOptions) -> Result<ResultSet> {
        let mut o = opts.clone();
        o.limit = Some(2);
        o.offset = None;
        let r = self.fetch(&o)?;
        if opts.attributes.is_some() && r.attributes.is_empty() {
            return Err(Error::invalid_arg("fetch1: no attributes"));
        }
        let n = if r.columns.is_empty() {
            self.count()? as usize
        } else {
            r.nrows
        };
        match n {
            1 => Ok(r),
            0 => Err(Error::not_found(format!(
                "fetch1: {} has no matching row",
                self.context()
            ))),
            _ => Err(Error::new(
                ErrorCode::NotUnique,
                format!("fetch1: {} has more than one matching row", self.context()),
            )),
        }
    }

    /// The primary-key attributes of the rows.
    pub fn keys(&self, opts: &FetchOptions) -> Result<ResultSet> {
        let mut o = opts.clone();
        o.attributes = Some(vec!["KEY".into()]);
        self.fetch(&o)
    }

    pub fn count(&self) -> Result<u64> {
        let ctx = format!("counting rows of {}", self.context());
        self.conn.with(|db| db.count_block(&self.block, &ctx))
    }

    /// Is a row matching `key` in the query (the reference's `key in query`)?
    pub fn contains(&self, key: &Row) -> Result<bool> {
        Ok(self.restrict(&Restriction::Key(key.clone()))?.count()? > 0)
    }

    /// The SQL a fetch of all attributes runs (parameters as placeholders), for debugging.
    pub fn sql(&self) -> Result<String> {
        let attrs: Vec<&Attribute> = self.attrs.iter().map(|a| &a.attr).collect();
        let d = self.conn.with(|db| Ok(db.dialect()))?;
        Ok(crate::sql::query::select(d, &self.block, &attrs).0)
    }

    /// The object stores of the query's connection.
    pub fn stores(&self) -> Arc<crate::store::Stores> {
        self.conn.stores.clone()
    }

    /// The heading as plain attributes.
    pub fn heading(&self) -> Vec<Attribute> {
        self.attrs.iter().map(|a| a.attr.clone()).collect()
    }

    /// The lazy reference to an `<npy@>` value of a fetched row (no I/O).
    pub fn npyref(&self, rs: &ResultSet, column: &str, row: usize) -> Result<codecs::npy::NpyRef> {
        crate::table::npyref_of(rs, column, row, self.conn.stores.clone())
    }

    /// The lazy reference to an `<object@>` or `<filepath@>` value of a fetched row (no I/O).
    pub fn objectref(
        &self,
        rs: &ResultSet,
        column: &str,
        row: usize,
    ) -> Result<codecs::object::ObjectRef> {
        crate::table::objectref_of(rs, column, row, self.conn.stores.clone())
    }
}
