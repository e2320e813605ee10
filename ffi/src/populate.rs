//! Autopopulate: `make` callbacks (function pointer + user data), populate, progress, key
//! source and the jobs table. (ABI 0.6)

use crate::dj_status;
use crate::handles::{dj_result, dj_row, dj_table, handle_type, Handle};
use crate::query::dj_query;
use crate::util::*;
use datajoint_core::{
    Error, JobCounts, MakeCall, MakeError, Order, PopulateOptions, PopulateReport, Progress,
    RefreshOptions, RefreshReport, Restriction, Row,
};
use std::ffi::{c_char, c_void, CString};
use std::ptr;

/// DJ_ORDER_*: the order in which populate makes its keys.
pub const DJ_ORDER_ORIGINAL: i32 = 0;
pub const DJ_ORDER_REVERSE: i32 = 1;
pub const DJ_ORDER_RANDOM: i32 = 2;

/// What one `make` call is given besides its table and key: where it reports why it failed.
/// Valid only during the call.
#[repr(C)]
pub struct dj_make_ctx {
    tag: u64,
    key_row: *const dj_row,
    failure: Option<MakeError>,
}
handle_type!(dj_make_ctx, 0x646a_6d6b_6378_0010, "dj_make_ctx");

/// Compute and insert the rows of one key: insert into `table` (and its part tables) on the
/// same connection, with any codec and staged writes. Everything runs in one transaction:
/// return 0 to commit it; any other value rolls back its rows and removes the objects it
/// wrote (call `dj_make_fail` first to say why). Must not throw or unwind across the call.
/// `table` and `key` (one row: the key's attributes) are valid only during the call.
pub type dj_make_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        table: *const dj_table,
        key: *const dj_result,
        ctx: *mut dj_make_ctx,
    ) -> i32,
>;

/// Where a populate is: keys handled so far (made, failed or skipped) of `total`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct dj_populate_progress {
    pub done: u64,
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
}

/// Called after each key (on the populating thread; must not throw).
pub type dj_populate_progress_fn =
    Option<unsafe extern "C" fn(progress: *const dj_populate_progress, user_data: *mut c_void)>;

/// Options of a populate. Initialise with `dj_populate_opts_init`; fields may be appended
/// in later minor versions.
#[repr(C)]
pub struct dj_populate_opts {
    pub struct_size: u32,
    /// SQL conditions restricting the key source (AND); NULL when n_restrictions is 0.
    pub restrictions: *const *const c_char,
    pub n_restrictions: usize,
    /// Queries restricting the key source (AND: keys matching a row of each).
    pub restrict_queries: *const *const dj_query,
    pub n_restrict_queries: usize,
    /// Keys restricting the key source (any of them); NULL: no key restriction.
    pub keys: *const *const dj_row,
    pub n_keys: usize,
    /// Non-zero: reserve each key in the jobs table first (many workers at once).
    pub reserve_jobs: i32,
    /// Non-zero: a failing make is recorded and the populate goes on.
    pub suppress_errors: i32,
    /// At most this many make calls; -1: no limit.
    pub max_calls: i64,
    /// DJ_ORDER_ORIGINAL, _REVERSE or _RANDOM.
    pub order: i32,
    /// With reserve_jobs: new jobs get this priority and only jobs at least this urgent
    /// (lower number) are made; -1: the default priority, all jobs.
    pub priority: i64,
    /// With reserve_jobs: refresh the jobs table first (1), not (0), or as the
    /// `jobs.auto_refresh` setting says (-1, default: yes).
    pub refresh: i32,
    /// Called after each key (may be NULL).
    pub progress: dj_populate_progress_fn,
    pub progress_user_data: *mut c_void,
}

/// What a populate did: the keys made, skipped (another worker had them, or they were done)
/// and failed (with suppress_errors), with the failures' keys and messages.
#[repr(C)]
pub struct dj_populate_report {
    tag: u64,
    report: PopulateReport,
    messages: Vec<CString>,
}
handle_type!(
    dj_populate_report,
    0x646a_7070_7274_0011,
    "dj_populate_report"
);

/// Options of a jobs refresh (see `dj_jobs_refresh`). Initialise with
/// `dj_refresh_opts_init`.
#[repr(C)]
pub struct dj_refresh_opts {
    pub struct_size: u32,
    /// SQL conditions restricting the key source for new jobs (AND).
    pub restrictions: *const *const c_char,
    pub n_restrictions: usize,
    /// Seconds from now until the new jobs are due (server time).
    pub delay: f64,
    /// Priority of the new jobs; -1: the `jobs.default_priority` setting (5).
    pub priority: i64,
    /// Seconds after which a job whose key left the key source is removed; -1: the
    /// `jobs.stale_timeout` setting (3600); 0: never.
    pub stale_timeout: f64,
    /// Seconds after which a reserved job is an orphan (its worker died) and pending again;
    /// 0 or less: never.
    pub orphan_timeout: f64,
}

/// What a refresh did.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct dj_refresh_report {
    pub added: u64,
    pub removed: u64,
    pub orphaned: u64,
    pub re_pended: u64,
}

/// Jobs per status.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct dj_job_counts {
    pub pending: u64,
    pub reserved: u64,
    pub success: u64,
    pub error: u64,
    pub ignore: u64,
    pub total: u64,
}

/// Initialise populate options with the defaults (no restriction, direct mode, stop at the
/// first error, no limit, original order, default priority, auto refresh, no progress).
#[no_mangle]
pub unsafe extern "C" fn dj_populate_opts_init(opts: *mut dj_populate_opts) -> dj_status {
    call(|| {
        let o = out_ref(opts, "opts")?;
        *o = dj_populate_opts {
            struct_size: std::mem::size_of::<dj_populate_opts>() as u32,
            restrictions: ptr::null(),
            n_restrictions: 0,
            restrict_queries: ptr::null(),
            n_restrict_queries: 0,
            keys: ptr::null(),
            n_keys: 0,
            reserve_jobs: 0,
            suppress_errors: 0,
            max_calls: -1,
            order: DJ_ORDER_ORIGINAL,
            priority: -1,
            refresh: -1,
            progress: None,
            progress_user_data: ptr::null_mut(),
        };
        Ok(())
    })
}

/// Initialise refresh options with the reference's defaults.
#[no_mangle]
pub unsafe extern "C" fn dj_refresh_opts_init(opts: *mut dj_refresh_opts) -> dj_status {
    call(|| {
        let o = out_ref(opts, "opts")?;
        *o = dj_refresh_opts {
            struct_size: std::mem::size_of::<dj_refresh_opts>() as u32,
            restrictions: ptr::null(),
            n_restrictions: 0,
            delay: 0.0,
            priority: -1,
            stale_timeout: -1.0,
            orphan_timeout: 0.0,
        };
        Ok(())
    })
}

unsafe fn sql_list(
    p: *const *const c_char,
    n: usize,
    what: &str,
) -> datajoint_core::Result<Vec<Restriction>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(Error::invalid_arg(format!(
            "{what} is NULL but its count is {n}"
        )));
    }
    (0..n)
        .map(|i| Ok(Restriction::Sql(req_str(*p.add(i), what)?.to_string())))
        .collect()
}

/// The restrictions of populate options (SQL, queries, keys).
unsafe fn restrictions_of(o: &dj_populate_opts) -> datajoint_core::Result<Vec<Restriction>> {
    let mut r = sql_list(o.restrictions, o.n_restrictions, "restrictions")?;
    if o.n_restrict_queries > 0 {
        if o.restrict_queries.is_null() {
            return Err(Error::invalid_arg(
                "restrict_queries is NULL but its count is not 0",
            ));
        }
        for i in 0..o.n_restrict_queries {
            r.push(Restriction::Query(
                handle_ref(*o.restrict_queries.add(i))?.q.clone(),
            ));
        }
    }
    if !o.keys.is_null() {
        r.push(Restriction::keys(&row_list(o.keys, o.n_keys)?));
    }
    Ok(r)
}

unsafe fn populate_opts<'a>(
    opts: *const dj_populate_opts,
) -> datajoint_core::Result<Option<&'a dj_populate_opts>> {
    if opts.is_null() {
        return Ok(None);
    }
    let o = &*opts;
    if (o.struct_size as usize) < std::mem::size_of::<dj_populate_opts>() {
        return Err(Error::invalid_arg(
            "dj_populate_opts.struct_size is too small (initialise with dj_populate_opts_init)",
        ));
    }
    Ok(Some(o))
}

/// Record why this make failed (copied; `stack` may be NULL), then return non-zero from
/// the callback. Without it, a non-zero return is reported with the last error of the
/// thread (a failed `dj_*` call in the callback), else with the returned code.
#[no_mangle]
pub unsafe extern "C" fn dj_make_fail(
    ctx: *mut dj_make_ctx,
    message: *const c_char,
    stack: *const c_char,
) -> dj_status {
    call(|| {
        let c = handle_mut(ctx)?;
        c.failure = Some(MakeError {
            message: req_str(message, "message")?.to_string(),
            stack: opt_str(stack, "stack")?.map(|s| s.to_string()),
        });
        Ok(())
    })
}

/// The key of this make as a row (for `dj_table_restrict_key` and the like); valid during
/// the call.
#[no_mangle]
pub unsafe extern "C" fn dj_make_key_row(ctx: *const dj_make_ctx) -> *const dj_row {
    guard_value(ptr::null(), || Ok(handle_ref(ctx)?.key_row))
}

/// Populate a Computed or Imported table: call `make` for every key of its key source
/// (restricted by `opts`) not yet in the table, each in its own transaction (see
/// `dj_make_fn`). With `opts->reserve_jobs`, keys are reserved in the jobs table `~~<table>`
/// first, so that any number of worker processes (ours or DataJoint Python's) can populate
/// the table at once. A failing make stops the populate with DJ_E_MAKE_FAILED (its
/// message names the key), unless `suppress_errors`. `opts` may be NULL; `out_report` (may
/// be NULL) receives what was done.
#[no_mangle]
pub unsafe extern "C" fn dj_table_populate(
    table: *const dj_table,
    make: dj_make_fn,
    user_data: *mut c_void,
    opts: *const dj_populate_opts,
    out_report: *mut *mut dj_populate_report,
) -> dj_status {
    call(|| {
        if !out_report.is_null() {
            *out_report = ptr::null_mut();
        }
        let t = &handle_ref(table)?.table;
        let make = make.ok_or_else(|| Error::invalid_arg("make is NULL"))?;
        let o = populate_opts(opts)?;
        let progress_cb = o.and_then(|o| o.progress.map(|f| (f, o.progress_user_data)));
        let mut progress = |p: &Progress| {
            if let Some((f, ud)) = progress_cb {
                let c = dj_populate_progress {
                    done: p.done,
                    total: p.total,
                    succeeded: p.succeeded,
                    failed: p.failed,
                };
                f(&c, ud);
            }
        };
        let mut popts = PopulateOptions::default();
        if let Some(o) = o {
            popts.restrictions = restrictions_of(o)?;
            popts.reserve_jobs = o.reserve_jobs != 0;
            popts.suppress_errors = o.suppress_errors != 0;
            popts.max_calls = (o.max_calls >= 0).then_some(o.max_calls as u64);
            popts.order = match o.order {
                DJ_ORDER_ORIGINAL => Order::Original,
                DJ_ORDER_REVERSE => Order::Reverse,
                DJ_ORDER_RANDOM => Order::Random,
                other => {
                    return Err(Error::invalid_arg(format!(
                        "order {other} is not a DJ_ORDER_*"
                    )))
                }
            };
            popts.priority = (o.priority >= 0).then_some(o.priority);
            popts.refresh = match o.refresh {
                r if r < 0 => None,
                r => Some(r != 0),
            };
            if o.progress.is_some() {
                popts.progress = Some(&mut progress);
            }
        }
        // one handle of the target for every call (it is lent to each make)
        let th = dj_table::new(t.clone());
        let mut callback = |c: &MakeCall| -> Result<(), MakeError> {
            let key = dj_result::new(c.key_result.clone(), Some(c.table.stores()));
            let key_row = dj_row::new(c.key.clone());
            let mut ctx = Box::new(dj_make_ctx {
                tag: dj_make_ctx::TAG,
                key_row: &*key_row,
                failure: None,
            });
            clear_last_error();
            let rc = make(user_data, &*th, &*key, &mut *ctx);
            let failure = ctx.failure.take();
            ctx.clear_tag();
            if rc == 0 {
                return Ok(());
            }
            Err(failure.unwrap_or_else(|| match take_last_error() {
                Some(m) => MakeError::new(m),
                None => MakeError::new(format!("make returned {rc}")),
            }))
        };
        let report = t.populate(&mut callback, popts)?;
        if !out_report.is_null() {
            let messages = report
                .errors
                .iter()
                .map(|f| cstring_lossy(&f.message))
                .collect();
            *out_report = Box::into_raw(Box::new(dj_populate_report {
                tag: dj_populate_report::TAG,
                report,
                messages,
            }));
        }
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn dj_populate_report_free(r: *mut dj_populate_report) {
    free_handle(r)
}

/// Keys whose make succeeded.
#[no_mangle]
pub unsafe extern "C" fn dj_populate_report_success_count(r: *const dj_populate_report) -> u64 {
    guard_value(0, || Ok(handle_ref(r)?.report.success_count))
}

/// Keys skipped (reserved by another worker, or already in the table).
#[no_mangle]
pub unsafe extern "C" fn dj_populate_report_skipped(r: *const dj_populate_report) -> u64 {
    guard_value(0, || Ok(handle_ref(r)?.report.skipped))
}

/// Keys whose make failed (with suppress_errors).
#[no_mangle]
pub unsafe extern "C" fn dj_populate_report_error_count(r: *const dj_populate_report) -> usize {
    guard_value(0, || Ok(handle_ref(r)?.report.errors.len()))
}

/// Failure `i`: its message (valid as long as the report) and its key, as a new row
/// (`out_key_row`, may be NULL; free with `dj_row_free`) and as a new one-row result
/// (`out_key`, may be NULL; free with `dj_result_free`).
#[no_mangle]
pub unsafe extern "C" fn dj_populate_report_error(
    r: *const dj_populate_report,
    i: usize,
    out_message: *mut *const c_char,
    out_key_row: *mut *mut dj_row,
    out_key: *mut *mut dj_result,
) -> dj_status {
    call(|| {
        let r = handle_ref(r)?;
        let f = r.report.errors.get(i).ok_or_else(|| {
            Error::invalid_arg(format!(
                "error {i} out of range ({})",
                r.report.errors.len()
            ))
        })?;
        *out_ref(out_message, "out_message")? = r.messages[i].as_ptr();
        if !out_key_row.is_null() {
            *out_key_row = Box::into_raw(dj_row::new(f.key.clone()));
        }
        if !out_key.is_null() {
            *out_key = Box::into_raw(dj_result::new(f.key_result.clone(), None));
        }
        Ok(())
    })
}

/// `(remaining, total)`: keys of the key source (restricted by `opts`' restrictions; `opts`
/// may be NULL) not yet in the table, and all of them.
#[no_mangle]
pub unsafe extern "C" fn dj_table_progress(
    table: *const dj_table,
    opts: *const dj_populate_opts,
    out_remaining: *mut u64,
    out_total: *mut u64,
) -> dj_status {
    call(|| {
        let t = &handle_ref(table)?.table;
        let r = match populate_opts(opts)? {
            Some(o) => restrictions_of(o)?,
            None => Vec::new(),
        };
        let (remaining, total) = t.progress(&r)?;
        *out_ref(out_remaining, "out_remaining")? = remaining;
        *out_ref(out_total, "out_total")? = total;
        Ok(())
    })
}

/// The key source of a Computed/Imported table: the join of the tables its primary key
/// references (projected, renamed as its foreign keys rename), or the one set with
/// `dj_table_with_key_source`.
#[no_mangle]
pub unsafe extern "C" fn dj_table_key_source(
    table: *const dj_table,
    out_query: *mut *mut dj_query,
) -> dj_status {
    call_out(out_query, || {
        Ok(dj_query::new(handle_ref(table)?.table.key_source()?))
    })
}

/// A new handle of the table whose populate, progress and jobs refresh use `key_source`
/// (any query whose primary key the table has).
#[no_mangle]
pub unsafe extern "C" fn dj_table_with_key_source(
    table: *const dj_table,
    key_source: *const dj_query,
    out_table: *mut *mut dj_table,
) -> dj_status {
    call_out(out_table, || {
        let t = &handle_ref(table)?.table;
        Ok(dj_table::new(
            t.with_key_source(handle_ref(key_source)?.q.clone()),
        ))
    })
}

/// The jobs table `~~<table>` of a Computed/Imported table (declared on first use as
/// DataJoint Python declares it), as a table handle to fetch, restrict or delete.
#[no_mangle]
pub unsafe extern "C" fn dj_table_jobs(
    table: *const dj_table,
    out_table: *mut *mut dj_table,
) -> dj_status {
    call_out(out_table, || {
        let jobs = handle_ref(table)?.table.jobs()?;
        Ok(dj_table::new(jobs.table().clone()))
    })
}

/// Refresh the jobs table: add the missing keys as pending, remove stale jobs, make
/// orphaned reservations (older than `orphan_timeout`) pending again. `opts` may be NULL;
/// `out_report` may be NULL.
#[no_mangle]
pub unsafe extern "C" fn dj_jobs_refresh(
    table: *const dj_table,
    opts: *const dj_refresh_opts,
    out_report: *mut dj_refresh_report,
) -> dj_status {
    call(|| {
        let t = &handle_ref(table)?.table;
        let mut r = RefreshOptions::default();
        if !opts.is_null() {
            let o = &*opts;
            if (o.struct_size as usize) < std::mem::size_of::<dj_refresh_opts>() {
                return Err(Error::invalid_arg(
                    "dj_refresh_opts.struct_size is too small (initialise with dj_refresh_opts_init)",
                ));
            }
            r.restrictions = sql_list(o.restrictions, o.n_restrictions, "restrictions")?;
            r.delay = o.delay;
            r.priority = (o.priority >= 0).then_some(o.priority);
            r.stale_timeout = (o.stale_timeout >= 0.0).then_some(o.stale_timeout);
            r.orphan_timeout = (o.orphan_timeout > 0.0).then_some(o.orphan_timeout);
        }
        let RefreshReport {
            added,
            removed,
            orphaned,
            re_pended,
        } = t.jobs()?.refresh(&r)?;
        if !out_report.is_null() {
            *out_report = dj_refresh_report {
                added,
                removed,
                orphaned,
                re_pended,
            };
        }
        Ok(())
    })
}

/// Jobs per status.
#[no_mangle]
pub unsafe extern "C" fn dj_jobs_progress(
    table: *const dj_table,
    out_counts: *mut dj_job_counts,
) -> dj_status {
    call(|| {
        let JobCounts {
            pending,
            reserved,
            success,
            error,
            ignore,
            total,
        } = handle_ref(table)?.table.jobs()?.progress()?;
        *out_ref(out_counts, "out_counts")? = dj_job_counts {
            pending,
            reserved,
            success,
            error,
            ignore,
            total,
        };
        Ok(())
    })
}

/// Mark a key's job `ignore`: no worker makes it.
#[no_mangle]
pub unsafe extern "C" fn dj_jobs_ignore(table: *const dj_table, key: *const dj_row) -> dj_status {
    call(|| {
        let key: &Row = &handle_ref(key)?.row;
        handle_ref(table)?.table.jobs()?.ignore(key)
    })
}
