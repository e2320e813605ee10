//! The jobs table `~~<table>` of a Computed or Imported table, declared and used exactly as
//! DataJoint Python 2.x does (datajoint-storage.md §11), so that its workers and ours can
//! populate the same table at the same time: the same columns, enum and index, reservation by
//! one atomic `UPDATE … WHERE status='pending'`, priority then scheduled-time order, and the
//! same success, error and refresh rules.

use crate::error::{Error, ErrorCode, Result};
use crate::heading::Attribute;
use crate::query::{Restriction, U};
use crate::schema::Schema;
use crate::sql::dml::Condition;
use crate::sql::query as sqlq;
use crate::table::{FetchOptions, InsertOptions, Row, Table};
use crate::types::{AttrType, CoreType};
use crate::value::Value;

/// The reference's limit of `error_message`, and what ends a truncated one.
pub const ERROR_MESSAGE_LENGTH: usize = 2047;
pub const TRUNCATION_APPENDIX: &str = "...truncated";

/// Options of [`Jobs::refresh`] (the reference's keyword arguments and defaults).
#[derive(Debug, Clone, Default)]
pub struct RefreshOptions {
    /// Restrict the key source for the new jobs (the clean-up looks at all of it).
    pub restrictions: Vec<Restriction>,
    /// Seconds from now until new jobs are due (server time).
    pub delay: f64,
    /// Priority of new jobs (lower is more urgent; default `jobs.default_priority`, 5).
    pub priority: Option<i64>,
    /// Jobs older than this whose key left the key source are removed (default
    /// `jobs.stale_timeout`, 3600 s; 0 skips this check).
    pub stale_timeout: Option<f64>,
    /// Reserved jobs older than this are orphans (their worker died) and become pending
    /// again (default: none).
    pub orphan_timeout: Option<f64>,
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshReport {
    pub added: u64,
    pub removed: u64,
    pub orphaned: u64,
    pub re_pended: u64,
}

/// Jobs per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub pending: u64,
    pub reserved: u64,
    pub success: u64,
    pub error: u64,
    pub ignore: u64,
    pub total: u64,
}

/// A Computed/Imported table's jobs table.
#[derive(Clone)]
pub struct Jobs {
    target: Table,
    table: Table,
    /// (host, pid, connection id, user, version) written by a reservation
    worker: (String, i64, i64, String, String),
}

impl Jobs {
    /// Open the jobs table, declaring it if it does not exist.
    pub(crate) fn open(target: &Table) -> Result<Jobs> {
        let conn = target.conn_arc().clone();
        let name = format!("~~{}", target.name().trim_start_matches('_'));
        let table = match Table::open(conn.clone(), target.schema(), &name) {
            Ok(t) => t,
            Err(e) if e.code == ErrorCode::NotFound => {
                let def = definition(target)?;
                let schema = Schema::open(conn.clone(), target.schema(), false)?;
                match schema.declare_sql(&name, &def, None) {
                    Ok(t) => t,
                    // another worker declared it first
                    Err(e) => Table::open(conn.clone(), target.schema(), &name).map_err(|_| e)?,
                }
            }
            Err(e) => return Err(e),
        };
        let (session, user) = conn.with(|b| Ok((b.session_id()?, b.current_user()?)))?;
        Ok(Jobs {
            target: target.clone(),
            table,
            worker: (
                hostname(),
                std::process::id() as i64,
                session,
                user,
                job_version(target),
            ),
        })
    }

    /// The jobs table itself (fetch it, restrict it, delete from it).
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Jobs of one status (`pending`, `reserved`, `success`, `error`, `ignore`).
    pub fn with_status(&self, status: &str) -> Result<Table> {
        if !["pending", "reserved", "success", "error", "ignore"].contains(&status) {
            return Err(Error::invalid_arg(format!(
                "{}: '{status}' is not a job status",
                self.table.full_name()
            )));
        }
        self.table.restrict_sql(&format!("status='{status}'"))
    }

    fn config_priority(&self) -> i64 {
        self.table
            .conn()
            .config
            .get_f64("jobs.default_priority", 5.0) as i64
    }

    fn keep_completed(&self) -> bool {
        self.table
            .conn()
            .config
            .get_bool("jobs.keep_completed", false)
    }

    fn not_in(&self, q: crate::query::Query) -> Restriction {
        Restriction::Not(Box::new(Restriction::Query(q)))
    }

    /// Add the missing keys as pending jobs and clean up, as the reference's `refresh`:
    /// 1. `(key_source & restrictions) - target - jobs` are added (one insert that skips keys
    ///    another worker added meanwhile);
    /// 2. with `jobs.keep_completed`, success jobs whose rows are gone are pending again;
    /// 3. jobs whose key left the (unrestricted) key source are removed: success and error
    ///    ones not in the target at any age, others (but `ignore`) after `stale_timeout`;
    /// 4. reserved jobs older than `orphan_timeout` are pending again.
    pub fn refresh(&self, opts: &RefreshOptions) -> Result<RefreshReport> {
        let mut report = RefreshReport::default();
        let conn = self.table.conn();
        let priority = opts.priority.unwrap_or_else(|| self.config_priority());
        let key_source = self.target.key_source()?;
        let todo = if opts.restrictions.is_empty() {
            key_source.clone()
        } else {
            key_source.restrict(&Restriction::And(opts.restrictions.clone()))?
        };
        let target_keys = self.target.query()?.proj(&[])?;
        let new_keys = todo
            .exclude(&Restriction::Query(target_keys.clone()))?
            .restrict_with(&self.not_in(self.table.query()?), false)?
            .proj(&[])?
            .keys(&FetchOptions::default())?;
        if new_keys.nrows > 0 {
            let scheduled = conn.with(|b| b.server_time(opts.delay))?;
            report.added = self.insert_jobs(&new_keys, "pending", priority, Some(scheduled))?;
        }
        if self.keep_completed() {
            let done = self
                .with_status("success")?
                .restrict_with(&Restriction::Query(key_source.clone()), false)?
                .restrict_with(&self.not_in(self.target.query()?), false)?;
            let keys = done.keys(&FetchOptions::default())?;
            if keys.nrows > 0 {
                done.delete_quick()?;
                report.re_pended = self.insert_jobs(&keys, "pending", priority, None)?;
            }
        }
        let vanished = self
            .table
            .restrict_with(&self.not_in(key_source.proj(&[])?), false)?;
        report.removed += vanished
            .restrict_sql("status in ('success', 'error')")?
            .restrict_with(&self.not_in(target_keys), false)?
            .delete_quick()?;
        let d = conn.with(|b| Ok(b.dialect()))?;
        let stale = opts
            .stale_timeout
            .unwrap_or_else(|| conn.config.get_f64("jobs.stale_timeout", 3600.0));
        if stale > 0.0 {
            report.removed += vanished
                .restrict_sql(&format!(
                    "{} < {}",
                    d.quote("created_time"),
                    d.now_plus(-stale)
                ))?
                .restrict_sql("status != 'ignore'")?
                .delete_quick()?;
        }
        if let Some(orphan) = opts.orphan_timeout.filter(|t| *t > 0.0) {
            let orphans = self.with_status("reserved")?.restrict_sql(&format!(
                "{} < {}",
                d.quote("reserved_time"),
                d.now_plus(-orphan)
            ))?;
            let keys = orphans.keys(&FetchOptions::default())?;
            if keys.nrows > 0 {
                orphans.delete_quick()?;
                report.orphaned = self.insert_jobs(&keys, "pending", priority, None)?;
            }
        }
        Ok(report)
    }

    /// Insert one job per key (keys another worker inserted meanwhile are skipped).
    fn insert_jobs(
        &self,
        keys: &crate::table::ResultSet,
        status: &str,
        priority: i64,
        scheduled: Option<Value>,
    ) -> Result<u64> {
        let rows: Vec<Row> = (0..keys.nrows)
            .map(|i| {
                let mut r = keys.row(i);
                r.set("status", status.into());
                r.set("priority", Value::Int(priority));
                if let Some(t) = &scheduled {
                    r.set("scheduled_time", t.clone());
                }
                r
            })
            .collect();
        self.table.insert_rows(
            &rows,
            InsertOptions {
                skip_duplicates: true,
                ignore_extra_fields: true,
                ..Default::default()
            },
        )
    }

    /// The jobs a worker may take now (pending and due), restricted like the key source,
    /// most urgent first (priority, then scheduled time): the keys and their priorities.
    pub(crate) fn pending_keys(
        &self,
        target: &Table,
        restrictions: &[Restriction],
        priority: Option<i64>,
    ) -> Result<(crate::table::ResultSet, Vec<i64>)> {
        let d = self.table.conn().with(|b| Ok(b.dialect()))?;
        let mut pending = self.with_status("pending")?.restrict_sql(&format!(
            "{} <= {}",
            d.quote("scheduled_time"),
            d.now_ms()
        ))?;
        if !restrictions.is_empty() {
            let todo = target.jobs_to_do(restrictions)?;
            pending = pending.restrict_with(&Restriction::Query(todo), false)?;
        }
        if let Some(p) = priority {
            pending = pending.restrict_sql(&format!("priority <= {p}"))?;
        }
        let pk = self.table.heading().primary_key_names();
        let mut attrs = pk.clone();
        attrs.push("priority".into());
        let rs = pending.fetch(&FetchOptions {
            attributes: Some(attrs),
            order_by: Some("priority ASC, scheduled_time ASC".into()),
            ..Default::default()
        })?;
        let pcol = rs
            .column("priority")
            .ok_or_else(|| Error::internal("priority"))?;
        let priorities: Vec<i64> = (0..rs.nrows)
            .map(|i| match pcol.value(i) {
                Value::Int(p) => p,
                _ => 0,
            })
            .collect();
        let keep: Vec<usize> = (0..pk.len()).collect();
        Ok((
            crate::table::ResultSet {
                attributes: keep.iter().map(|&i| rs.attributes[i].clone()).collect(),
                columns: keep.iter().map(|&i| rs.columns[i].clone()).collect(),
                nrows: rs.nrows,
            },
            priorities,
        ))
    }

    /// The condition selecting one job by its key (the names of the jobs table's key).
    fn key_condition(&self, key: &Row) -> Result<Condition> {
        Ok(self.table.restrict_key(&self.key_row(key)?)?.condition())
    }

    fn attr(&self, name: &str) -> Result<&Attribute> {
        self.table
            .heading()
            .get(name)
            .ok_or_else(|| Error::internal(format!("the jobs table has no '{name}'")))
    }

    /// Reserve a pending, due job for this worker: one atomic `UPDATE … WHERE
    /// status='pending'` (on PostgreSQL of an unlocked row); true if this worker got it.
    pub fn reserve(&self, key: &Row) -> Result<bool> {
        let conn = self.table.conn();
        let d = conn.with(|b| Ok(b.dialect()))?;
        let names = ["status", "host", "pid", "connection_id", "user", "version"];
        let attrs: Vec<&Attribute> = names.iter().map(|n| self.attr(n)).collect::<Result<_>>()?;
        let (host, pid, session, user, version) = &self.worker;
        let mut params = vec![
            Value::String("reserved".into()),
            Value::String(host.clone()),
            Value::Int(*pid),
            Value::Int(*session),
            Value::String(user.clone()),
            Value::String(version.clone()),
        ];
        let due = Condition::Sql(format!(
            "{} = 'pending' AND {} <= {}",
            d.quote("status"),
            d.quote("scheduled_time"),
            d.now_ms()
        ));
        // a job another worker's make holds (it completes in that transaction) is skipped,
        // not waited for
        let (sql, key_params) = sqlq::update_unlocked(
            d,
            self.table.schema(),
            self.table.name(),
            &attrs,
            &[("reserved_time", d.now_ms())],
            &[self.key_condition(key)?, due],
        );
        params.extend(key_params);
        let ctx = format!("reserving a job in {}", self.table.full_name());
        Ok(conn.with(|b| b.execute(&sql, &params, &ctx))? == 1)
    }

    /// A job's `make` succeeded: its row is deleted, or with `jobs.keep_completed` marked
    /// `success` with the completion time and duration.
    pub fn complete(&self, key: &Row, duration: Option<f64>) -> Result<()> {
        let conn = self.table.conn();
        if self.keep_completed() {
            let now = conn.with(|b| b.server_time(0.0))?;
            let mut row = self.key_row(key)?;
            row.set("status", "success".into());
            row.set("completed_time", now);
            if let Some(t) = duration {
                row.set("duration", Value::Float(t));
            }
            return self.table.update1(&row);
        }
        let d = conn.with(|b| Ok(b.dialect()))?;
        let (sql, params) = sqlq::delete(
            d,
            self.table.schema(),
            self.table.name(),
            &[self.key_condition(key)?],
        );
        let ctx = format!("completing a job in {}", self.table.full_name());
        conn.with(|b| b.execute(&sql, &params, &ctx)).map(|_| ())
    }

    /// A job's `make` failed: status `error`, the message truncated as the reference does
    /// (2047 characters, ending in `...truncated`) and the stack as a `<blob>` string.
    pub fn error(&self, key: &Row, message: &str, stack: Option<&str>) -> Result<()> {
        let conn = self.table.conn();
        let now = conn.with(|b| b.server_time(0.0))?;
        let mut row = self.key_row(key)?;
        row.set("status", "error".into());
        row.set("completed_time", now);
        row.set("error_message", truncate_message(message).into());
        if let Some(s) = stack {
            row.set("error_stack", s.into());
        }
        self.table.update1(&row)
    }

    /// Mark a job to be skipped by every worker (inserted if it is not there).
    pub fn ignore(&self, key: &Row) -> Result<()> {
        let mut row = self.key_row(key)?;
        if self.table.restrict_key(&row)?.count()? > 0 {
            row.set("status", "ignore".into());
            return self.table.update1(&row);
        }
        row.set("status", "ignore".into());
        row.set("priority", Value::Int(self.config_priority()));
        self.table
            .insert1(&row, InsertOptions::default())
            .map(|_| ())
    }

    fn key_row(&self, key: &Row) -> Result<Row> {
        let mut k = Row::new();
        for a in self.table.heading().primary_key() {
            match key.get(&a.name) {
                Some(v) => k.set(&a.name, v.clone()),
                None => {
                    return Err(Error::invalid_arg(format!(
                        "{}: the key lacks '{}'",
                        self.table.full_name(),
                        a.name
                    )))
                }
            };
        }
        Ok(k)
    }

    /// Jobs per status.
    pub fn progress(&self) -> Result<JobCounts> {
        let rs = U::new(&["status"])
            .aggr(&self.table.query()?, &["n=count(*)"])?
            .fetch(&FetchOptions::default())?;
        let mut c = JobCounts::default();
        let (Some(s), Some(n)) = (rs.column("status"), rs.column("n")) else {
            return Ok(c);
        };
        for i in 0..rs.nrows {
            let n = match n.value(i) {
                Value::Int(n) => n as u64,
                _ => 0,
            };
            match s.value(i) {
                Value::String(st) => match st.as_str() {
                    "pending" => c.pending = n,
                    "reserved" => c.reserved = n,
                    "success" => c.success = n,
                    "error" => c.error = n,
                    "ignore" => c.ignore = n,
                    _ => {}
                },
                _ => continue,
            }
            c.total += n;
        }
        Ok(c)
    }
}

/// The reference's truncation: at most 2047 characters, a longer message ending in
/// `...truncated`.
pub fn truncate_message(m: &str) -> String {
    if m.chars().count() <= ERROR_MESSAGE_LENGTH {
        return m.to_string();
    }
    let keep = ERROR_MESSAGE_LENGTH - TRUNCATION_APPENDIX.len();
    let mut s: String = m.chars().take(keep).collect();
    s.push_str(TRUNCATION_APPENDIX);
    s
}

/// The jobs table's definition, as the reference generates it: the target's primary-key
/// attributes that come from foreign keys (others are left out), then the job attributes.
fn definition(target: &Table) -> Result<String> {
    let conn = target.conn();
    let (d, parents) =
        conn.with(|b| Ok((b.dialect(), b.parents(target.schema(), target.name())?)))?;
    let pk = target.heading().primary_key_names();
    let from_fk = |n: &str| {
        parents.iter().any(|f| {
            f.columns.iter().all(|(c, _)| pk.contains(c)) && f.columns.iter().any(|(c, _)| c == n)
        })
    };
    let lines: Vec<String> = target
        .heading()
        .primary_key()
        .filter(|a| from_fk(&a.name))
        .map(|a| format!("{} : {}", a.name, a.declared_type))
        .collect();
    if lines.is_empty() {
        return Err(Error::definition(format!(
            "cannot create the jobs table of {}: no primary-key attribute comes from a foreign key",
            target.full_name()
        )));
    }
    Ok(format!(
        "# Job queue for {}.{}\n{}\n---\n\
         status          : enum('pending', 'reserved', 'success', 'error', 'ignore')\n\
         priority        : int8\n\
         created_time=CURRENT_TIMESTAMP(3) : datetime(3)\n\
         scheduled_time=CURRENT_TIMESTAMP(3) : datetime(3)\n\
         reserved_time=null  : datetime(3)\n\
         completed_time=null : datetime(3)\n\
         duration=null   : float64\n\
         error_message=\"\" : varchar({ERROR_MESSAGE_LENGTH})\n\
         error_stack=null : <blob>\n\
         user=\"\"         : varchar(255)\n\
         host=\"\"         : varchar(255)\n\
         pid=0           : int32\n\
         connection_id=0 : int64\n\
         version=\"\"      : varchar(64)\n\
         INDEX (status, priority, scheduled_time)\n",
        d.quote(target.schema()),
        d.quote(target.name()),
        lines.join("\n")
    ))
}

/// After a successful `make`: the hidden `_job_*` columns of its rows (when the table has
/// them, see `jobs.add_job_metadata`).
pub(crate) fn update_job_metadata(
    target: &Table,
    key: &Row,
    started: Value,
    duration: f64,
) -> Result<()> {
    let hidden = |name: &str, ty: CoreType| Attribute {
        name: name.into(),
        ty: AttrType::Core(ty),
        declared_type: String::new(),
        in_key: false,
        nullable: true,
        default: None,
        comment: String::new(),
    };
    let set = [
        hidden("_job_start_time", CoreType::Datetime(Some(3))),
        hidden("_job_duration", CoreType::Float32),
        hidden("_job_version", CoreType::Varchar(64)),
    ];
    let conn = target.conn();
    let d = conn.with(|b| Ok(b.dialect()))?;
    let cond = target.restrict_key(key)?.condition();
    let (sql, key_params) = sqlq::update_with(
        d,
        target.schema(),
        target.name(),
        &set.iter().collect::<Vec<_>>(),
        &[],
        &[cond],
    );
    let mut version = job_version(target);
    version.truncate(64);
    let mut params = vec![started, Value::Float(duration), Value::String(version)];
    params.extend(key_params);
    let ctx = format!("recording the job metadata of {}", target.full_name());
    conn.with(|b| b.execute(&sql, &params, &ctx)).map(|_| ())
}

/// `jobs.version_method`: "git" records the short commit of the working directory.
fn job_version(t: &Table) -> String {
    if t.conn().config.get_str("jobs.version_method").as_deref() != Some("git") {
        return String::new();
    }
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The machine's name, as the reference's `platform.node()`.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_default()
}
