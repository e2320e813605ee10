//! Query expressions (the algebra), cascading delete and update1.

use crate::handles::{attr_strings, dj_result, dj_row, dj_table, handle_type, AttrStrings, Handle};
use crate::util::*;
use crate::{dj_attr_info, dj_fetch_opts, dj_status, fetch_options};
use datajoint_core::{
    DeleteOptions, DeleteReport, Error, PartIntegrity, Query, Restriction, Top, U,
};
use std::ffi::{c_char, CString};
use std::ptr;

/// A query expression: a table or an operator over query expressions. Operators return new
/// handles and leave their operands unchanged.
#[repr(C)]
pub struct dj_query {
    tag: u64,
    pub q: Query,
    attrs: Vec<AttrStrings>,
    sql_c: std::sync::OnceLock<CString>,
}
handle_type!(dj_query, 0x646a_7175_6572_000e, "dj_query");

impl dj_query {
    pub fn new(q: Query) -> Box<dj_query> {
        Box::new(dj_query {
            tag: Self::TAG,
            attrs: attr_strings(&q.heading()),
            q,
            sql_c: std::sync::OnceLock::new(),
        })
    }
}

/// Rows deleted per table by a cascading delete (or counted by a dry run).
#[repr(C)]
pub struct dj_delete_report {
    tag: u64,
    report: DeleteReport,
    names: Vec<(CString, CString)>,
}
handle_type!(dj_delete_report, 0x646a_6472_7074_000f, "dj_delete_report");

/// DJ_PART_INTEGRITY_*: what a delete does about part tables.
pub const DJ_PART_INTEGRITY_ENFORCE: i32 = 0;
pub const DJ_PART_INTEGRITY_IGNORE: i32 = 1;
pub const DJ_PART_INTEGRITY_CASCADE: i32 = 2;

/// Options of a cascading delete. Initialise with `dj_delete_opts_init`. (ABI 0.5)
#[repr(C)]
pub struct dj_delete_opts {
    pub struct_size: u32,
    /// DJ_PART_INTEGRITY_ENFORCE (default: part rows only go with their master's rows),
    /// _IGNORE, or _CASCADE (deleting part rows deletes their master rows and all its parts).
    pub part_integrity: i32,
    /// Non-zero: count the rows per table without deleting.
    pub dry_run: i32,
}

unsafe fn query<'a>(q: *const dj_query) -> datajoint_core::Result<&'a Query> {
    Ok(&handle_ref(q)?.q)
}

unsafe fn str_list(
    items: *const *const c_char,
    n: usize,
    name: &str,
) -> datajoint_core::Result<Vec<String>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if items.is_null() {
        return Err(Error::invalid_arg(format!(
            "{name} is NULL but its count is {n}"
        )));
    }
    (0..n)
        .map(|i| req_str(*items.add(i), name).map(str::to_string))
        .collect()
}

/// The query of a table (with the table's restrictions).
#[no_mangle]
pub unsafe extern "C" fn dj_table_query(
    table: *const dj_table,
    out_query: *mut *mut dj_query,
) -> dj_status {
    call_out(out_query, || {
        Ok(dj_query::new(handle_ref(table)?.table.query()?))
    })
}

/// New table handle restricted by a query: rows matching a row of `query` on their shared
/// attributes (semantic matching). Delete from it to delete those rows.
#[no_mangle]
pub unsafe extern "C" fn dj_table_restrict_query(
    table: *const dj_table,
    q: *const dj_query,
    out_table: *mut *mut dj_table,
) -> dj_status {
    call_out(out_table, || {
        let t = handle_ref(table)?;
        Ok(dj_table::new(
            t.table.restrict(&Restriction::Query(query(q)?.clone()))?,
        ))
    })
}

/// New table handle without the rows that match a row of `query`.
#[no_mangle]
pub unsafe extern "C" fn dj_table_exclude_query(
    table: *const dj_table,
    q: *const dj_query,
    out_table: *mut *mut dj_table,
) -> dj_status {
    call_out(out_table, || {
        let t = handle_ref(table)?;
        Ok(dj_table::new(
            t.table.exclude(&Restriction::Query(query(q)?.clone()))?,
        ))
    })
}

#[no_mangle]
pub unsafe extern "C" fn dj_query_free(q: *mut dj_query) {
    free_handle(q)
}

/// A second handle to the same query (queries are immutable; this costs no query).
#[no_mangle]
pub unsafe extern "C" fn dj_query_clone(
    q: *const dj_query,
    out_query: *mut *mut dj_query,
) -> dj_status {
    call_out(out_query, || Ok(dj_query::new(query(q)?.clone())))
}

/// `q & condition` (SQL, used verbatim).
#[no_mangle]
pub unsafe extern "C" fn dj_query_restrict_sql(
    q: *const dj_query,
    condition: *const c_char,
    out_query: *mut *mut dj_query,
) -> dj_status {
    call_out(out_query, || {
        let r = Restriction::Sql(req_str(condition, "condition")?.to_string());
        Ok(dj_query::new(query(q)?.restrict(&r)?))
    })
}

/// `q - condition`.
#[no_mangle]
pub unsafe extern "C" fn dj_query_exclude_sql(
    q: *const dj_query,
    condition: *const c_char,
    out_query: *mut *mut dj_query,
) -> dj_status {
    call_out(out_query, || {
        let r = Restriction::Sql(req_str(condition, "condition")?.to_string());
        Ok(dj_query::new(query(q)?.exclude(&r)?))
    })
}

/// `q & keys` (the rows matching any of the keys; `negate`: none of them). Names that are not
/// attributes of `q` are ignored; values are parameters, never SQL text.
#[no_mangle]
pub unsafe extern "C" fn dj_query_restrict_keys(
    q: *const dj_query,
    keys: *const *const dj_row,
    n: usize,
    negate: i32,
    out_query: *mut *mut dj_query,
) -> dj_status {
    call_out(out_query, || {
        let rows = row_list(keys, n)?;
        let r = if rows.len() == 1 {
            Restriction::Key(rows[0].clone())
        } else {
            Restriction::keys(&rows)
        };
        let q = query(q)?;
        Ok(dj_query::new(if negate != 0 {
            q.exclude(&r)?
        } else {
            q.restrict(&r)?
        }))
    })
}

/// `q & other` (semijoin on the shared attributes) or, with `negate`, `q - other` (antijoin).
/// `semantic_check` 0 matches namesakes whatever their lineage.
#[no_mangle]
pub unsafe extern "C" fn dj_query_restrict_query(
    q: *const dj_query,
    other: *const dj_query,
    negate: i32,
    semantic_check: i32,
    out_query: *mut *mut dj_query,
) -> dj_status {
    call_out(out_query, || {
        let mut r = Restriction::Query(query(other)?.clone());
        if negate != 0 {
            r = Restriction::Not(Box::new(r));
        }
        Ok(dj_query::new(
            query(q)?.restrict_with(&r, semantic_check != 0)?,
        ))
    })
}

/// `a * b`: the join on the shared attributes; `left` keeps every row of `a` (which must
/// determine `b`).
#[no_mangle]
pub unsafe extern "C" fn dj_query_join(
    a: *const dj_query,
    b: *const dj_query,
    semantic_check: i32,
    left: i32,
    out_query: *mut *mut dj_query,
) -> dj_status {
    call_out(out_query, || {
        Ok(dj_query::new(query(a)?.join_with(
            query(b)?,
            semantic_check != 0,
            left != 0,
        )?))
    })
}

/// `q.proj(items)`: "a" keeps a secondary attribute, "..." all of them, "-a" drops one,
/// "new=old" renames, "new=(old)" copies, "new=<SQL expression>" computes. The primary key
/// is always kept.
#[no_mangle]
pub unsafe extern "C" fn dj_query_proj(
    q: *const dj_query,
    items: *const *const c_char,
    n: usize,
    out_query: *mut *mut dj_query,
) -> dj_status {
    call_out(out_query, || {
        let items = str_list(items, n, "items")?;
        let refs: Vec<&str> = items.iter().map(|s| s.as_str()).collect();
        Ok(dj_query::new(query(q)?.proj(&refs)?))
    })
}

/// `q.aggr(group, items)`: one row per row of `q` (`exclude_nonmatching`: per row with a
/// match), `items` as in dj_query_proj; computations aggregate over the matching rows of
/// `group` ("n=count(*)").
#[no_mangle]
pub unsafe extern "C" fn dj_query_aggr(
    q: *const dj_query,
    group: *const dj_query,
    items: *const *const c_char,
    n: usize,
    exclude_nonmatching: i32,
    out_query: *mut *mut dj_query,
) -> dj_status {
    call_out(out_query, || {
        let items = str_list(items, n, "items")?;
        let refs: Vec<&str> = items.iter().map(|s| s.as_str()).collect();
        Ok(dj_query::new(query(q)?.aggr(
            query(group)?,
            &refs,
            exclude_nonmatching != 0,
        )?))
    })
}

/// `a + b`: the union of two queries with the same primary key.
#[no_mangle]
pub unsafe extern "C" fn dj_query_union(
    a: *const dj_query,
    b: *const dj_query,
    out_query: *mut *mut dj_query,
) -> dj_status {
    call_out(out_query, || Ok(dj_query::new(query(a)?.union(query(b)?)?)))
}

/// `U(attrs) & q`: the distinct values of `attrs` in `q`, with `attrs` as the primary key.
#[no_mangle]
pub unsafe extern "C" fn dj_query_universal(
    attrs: *const *const c_char,
    n: usize,
    q: *const dj_query,
    out_query: *mut *mut dj_query,
) -> dj_status {
    call_out(out_query, || {
        let a = str_list(attrs, n, "attrs")?;
        Ok(dj_query::new(U::new(&a).restrict(query(q)?)?))
    })
}

/// `U(attrs).aggr(group, computations)`: one row per distinct value of `attrs` in `group` (no
/// attributes: one row), with "name=expression" computations over its rows.
#[no_mangle]
pub unsafe extern "C" fn dj_query_universal_aggr(
    attrs: *const *const c_char,
    n: usize,
    group: *const dj_query,
    items: *const *const c_char,
    n_items: usize,
    out_query: *mut *mut dj_query,
) -> dj_status {
    call_out(out_query, || {
        let a = str_list(attrs, n, "attrs")?;
        let items = str_list(items, n_items, "items")?;
        let refs: Vec<&str> = items.iter().map(|s| s.as_str()).collect();
        Ok(dj_query::new(U::new(&a).aggr(query(group)?, &refs)?))
    })
}

/// `q & Top(limit, order_by, offset)`: `limit` -1 for none, `order_by` NULL for the primary
/// key ("KEY"), e.g. "t DESC, KEY".
#[no_mangle]
pub unsafe extern "C" fn dj_query_top(
    q: *const dj_query,
    limit: i64,
    order_by: *const c_char,
    offset: u64,
    out_query: *mut *mut dj_query,
) -> dj_status {
    call_out(out_query, || {
        let t = Top {
            limit: (limit >= 0).then_some(limit as u64),
            order_by: opt_str(order_by, "order_by")?.map(str::to_string),
            offset,
        };
        Ok(dj_query::new(query(q)?.top(&t)?))
    })
}

/// Number of attributes of the query's heading.
#[no_mangle]
pub unsafe extern "C" fn dj_query_attr_count(q: *const dj_query) -> usize {
    guard_value(0, || Ok(handle_ref(q)?.attrs.len()))
}

/// Describe attribute `i` of the heading. A computed attribute reports type "computed" and
/// DJ_KIND_STRING here; its result column has the kind of what the server computes.
#[no_mangle]
pub unsafe extern "C" fn dj_query_attr(
    q: *const dj_query,
    i: usize,
    out_info: *mut dj_attr_info,
) -> dj_status {
    call(|| {
        let o = out_ref(out_info, "out_info")?;
        let h = handle_ref(q)?;
        let a = h.attrs.get(i).ok_or_else(|| {
            Error::invalid_arg(format!(
                "attribute index {i} out of range ({} attributes)",
                h.attrs.len()
            ))
        })?;
        let qa = &h.q.attributes()[i].attr;
        *o = a.info(qa);
        Ok(())
    })
}

/// One of the fetches of a query into a new result handle.
unsafe fn fetch_with(
    q: *const dj_query,
    opts: *const dj_fetch_opts,
    out_result: *mut *mut dj_result,
    f: fn(
        &Query,
        &datajoint_core::FetchOptions,
    ) -> datajoint_core::Result<datajoint_core::ResultSet>,
) -> dj_status {
    call_out(out_result, || {
        let q = query(q)?;
        Ok(dj_result::new(
            f(q, &fetch_options(opts)?)?,
            Some(q.stores()),
        ))
    })
}

/// Fetch the query's rows (the same options and results as dj_table_fetch).
#[no_mangle]
pub unsafe extern "C" fn dj_query_fetch(
    q: *const dj_query,
    opts: *const dj_fetch_opts,
    out_result: *mut *mut dj_result,
) -> dj_status {
    fetch_with(q, opts, out_result, Query::fetch)
}

/// Fetch exactly one row: DJ_E_NOT_FOUND if none match, DJ_E_NOT_UNIQUE if several do.
#[no_mangle]
pub unsafe extern "C" fn dj_query_fetch1(
    q: *const dj_query,
    opts: *const dj_fetch_opts,
    out_result: *mut *mut dj_result,
) -> dj_status {
    fetch_with(q, opts, out_result, Query::fetch1)
}

/// Fetch the primary keys of the query's rows.
#[no_mangle]
pub unsafe extern "C" fn dj_query_keys(
    q: *const dj_query,
    opts: *const dj_fetch_opts,
    out_result: *mut *mut dj_result,
) -> dj_status {
    fetch_with(q, opts, out_result, Query::keys)
}

/// Number of rows of the query.
#[no_mangle]
pub unsafe extern "C" fn dj_query_count(q: *const dj_query, out_count: *mut u64) -> dj_status {
    call_count(out_count, || query(q)?.count())
}

/// Is a row matching `key` in the query? (`*out_found` 1 or 0)
#[no_mangle]
pub unsafe extern "C" fn dj_query_contains(
    q: *const dj_query,
    key: *const dj_row,
    out_found: *mut i32,
) -> dj_status {
    call(|| {
        let o = out_ref(out_found, "out_found")?;
        *o = query(q)?.contains(&handle_ref(key)?.row)? as i32;
        Ok(())
    })
}

/// The SQL a fetch of the query runs (parameters as placeholders), for debugging; valid as
/// long as the handle.
#[no_mangle]
pub unsafe extern "C" fn dj_query_sql(q: *const dj_query) -> *const c_char {
    guard_value(ptr::null(), || {
        let h = handle_ref(q)?;
        if let Some(s) = h.sql_c.get() {
            return Ok(s.as_ptr());
        }
        let s = cstring_lossy(&h.q.sql()?);
        Ok(h.sql_c.get_or_init(|| s).as_ptr())
    })
}

// ---------------------------------------------------------------- delete, update1

/// Fill `opts` with the defaults (part_integrity ENFORCE, no dry run).
#[no_mangle]
pub unsafe extern "C" fn dj_delete_opts_init(opts: *mut dj_delete_opts) -> dj_status {
    call(|| {
        *out_ref(opts, "opts")? = dj_delete_opts {
            struct_size: std::mem::size_of::<dj_delete_opts>() as u32,
            part_integrity: DJ_PART_INTEGRITY_ENFORCE,
            dry_run: 0,
        };
        Ok(())
    })
}

unsafe fn delete_options(opts: *const dj_delete_opts) -> datajoint_core::Result<DeleteOptions> {
    if opts.is_null() {
        return Ok(DeleteOptions::default());
    }
    let o = &*opts;
    if (o.struct_size as usize) < std::mem::size_of::<dj_delete_opts>() {
        return Err(Error::invalid_arg(
            "dj_delete_opts: struct_size is too small (use dj_delete_opts_init)",
        ));
    }
    Ok(DeleteOptions {
        part_integrity: match o.part_integrity {
            DJ_PART_INTEGRITY_ENFORCE => PartIntegrity::Enforce,
            DJ_PART_INTEGRITY_IGNORE => PartIntegrity::Ignore,
            DJ_PART_INTEGRITY_CASCADE => PartIntegrity::Cascade,
            other => {
                return Err(Error::invalid_arg(format!(
                    "dj_delete_opts: part_integrity {other} is not a DJ_PART_INTEGRITY_* value"
                )))
            }
        },
        dry_run: o.dry_run != 0,
        ..Default::default()
    })
}

/// Delete the table's (restricted) rows and, down the foreign keys, every row that depends on
/// them, in one transaction, then their objects. `opts` may be NULL (defaults). The report
/// gives the rows per table, this table first.
#[no_mangle]
pub unsafe extern "C" fn dj_table_delete_cascade(
    table: *const dj_table,
    opts: *const dj_delete_opts,
    out_report: *mut *mut dj_delete_report,
) -> dj_status {
    call_out(out_report, || {
        let report = handle_ref(table)?
            .table
            .delete_with(&delete_options(opts)?)?;
        let names = report
            .tables
            .iter()
            .map(|(s, t, _)| (cstring_lossy(s), cstring_lossy(t)))
            .collect();
        Ok(Box::new(dj_delete_report {
            tag: dj_delete_report::TAG,
            report,
            names,
        }))
    })
}

#[no_mangle]
pub unsafe extern "C" fn dj_delete_report_free(r: *mut dj_delete_report) {
    free_handle(r)
}

/// Number of tables in the report.
#[no_mangle]
pub unsafe extern "C" fn dj_delete_report_len(r: *const dj_delete_report) -> usize {
    guard_value(0, || Ok(handle_ref(r)?.names.len()))
}

/// Non-zero if the report is a dry run's (nothing was deleted).
#[no_mangle]
pub unsafe extern "C" fn dj_delete_report_dry_run(r: *const dj_delete_report) -> i32 {
    guard_value(0, || Ok(handle_ref(r)?.report.dry_run as i32))
}

/// Table `i` of the report: its schema, SQL name (valid as long as the report) and rows.
#[no_mangle]
pub unsafe extern "C" fn dj_delete_report_table(
    r: *const dj_delete_report,
    i: usize,
    out_schema: *mut *const c_char,
    out_table: *mut *const c_char,
    out_rows: *mut u64,
) -> dj_status {
    call(|| {
        let h = handle_ref(r)?;
        let (s, t) = h.names.get(i).ok_or_else(|| {
            Error::invalid_arg(format!(
                "table index {i} out of range ({} tables)",
                h.names.len()
            ))
        })?;
        *out_ref(out_schema, "out_schema")? = s.as_ptr();
        *out_ref(out_table, "out_table")? = t.as_ptr();
        *out_ref(out_rows, "out_rows")? = h.report.tables[i].2;
        Ok(())
    })
}

/// Update one existing row: `row` holds the full primary key and the attributes to change;
/// a NULL value resets an attribute to its default. Codec values are encoded as on insert and
/// the row's old objects are removed after the commit. DJ_E_NOT_FOUND if no row has the key.
#[no_mangle]
pub unsafe extern "C" fn dj_table_update1(table: *const dj_table, row: *const dj_row) -> dj_status {
    call(|| handle_ref(table)?.table.update1(&handle_ref(row)?.row))
}
