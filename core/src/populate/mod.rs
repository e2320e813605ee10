//! Autopopulate (datajoint-storage.md §11): a Computed or Imported table's key source, and
//! `populate`, which calls a `make` for each key not yet in the table — each in its own
//! transaction — directly or through the jobs table `~~<table>` shared with other workers
//! (ours and DataJoint Python's).

pub mod jobs;

pub use jobs::{JobCounts, Jobs, RefreshOptions, RefreshReport};

use crate::error::{Error, ErrorCode, Result};
use crate::naming::Tier;
use crate::query::{Query, Restriction};
use crate::table::{FetchOptions, ResultSet, Row, Table};
use crate::value::Value;
use std::sync::Arc;
use std::time::Instant;

/// Why a `make` failed: the message the jobs table records (truncated there as the reference
/// does) and an optional stack trace (stored as a `<blob>` string).
#[derive(Debug, Clone, PartialEq)]
pub struct MakeError {
    pub message: String,
    pub stack: Option<String>,
}

impl MakeError {
    pub fn new(message: impl Into<String>) -> MakeError {
        MakeError {
            message: message.into(),
            stack: None,
        }
    }
}

/// A library error inside `make` reads like the reference's `ExceptionClass: message`.
impl From<Error> for MakeError {
    fn from(e: Error) -> MakeError {
        MakeError::new(format!("{}: {}", e.code.name(), e.message))
    }
}

/// One call of `make`: the table to fill (inserts into it and its parts are allowed) and the
/// key, as a row and as a one-row result.
pub struct MakeCall<'a> {
    pub table: &'a Table,
    pub key: &'a Row,
    pub key_result: &'a ResultSet,
}

/// The order in which keys are made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// The key source's order (with the jobs table: priority, then scheduled time).
    #[default]
    Original,
    Reverse,
    /// Shuffled (with the jobs table: within each priority), which spreads workers that start
    /// together over different keys.
    Random,
}

/// Where a populate is, after each key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// keys handled so far (made, failed or skipped)
    pub done: u64,
    /// keys this call handles at most
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
}

/// The options of [`Table::populate`] (the reference's keyword arguments).
#[derive(Default)]
pub struct PopulateOptions<'a> {
    /// Restrict the key source (AND).
    pub restrictions: Vec<Restriction>,
    /// Coordinate through the jobs table: each key is reserved atomically first.
    pub reserve_jobs: bool,
    /// A failing `make` is recorded and the next key made, instead of stopping the populate.
    pub suppress_errors: bool,
    /// Make at most this many keys.
    pub max_calls: Option<u64>,
    pub order: Order,
    /// With the jobs table: new jobs get this priority, and only jobs at least this urgent
    /// (priority ≤ it) are made.
    pub priority: Option<i64>,
    /// With the jobs table: refresh it first (default: the `jobs.auto_refresh` setting, true).
    pub refresh: Option<bool>,
    /// Called after each key.
    pub progress: Option<&'a mut dyn FnMut(&Progress)>,
}

/// A key whose `make` failed, with its message.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedKey {
    pub key: Row,
    /// the key as a one-row result (typed columns)
    pub key_result: ResultSet,
    pub message: String,
}

/// What a populate did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PopulateReport {
    pub success_count: u64,
    /// keys whose `make` failed (with `suppress_errors`)
    pub errors: Vec<FailedKey>,
    /// keys skipped: reserved by another worker, or already in the table
    pub skipped: u64,
}

pub type MakeFn<'a> = dyn FnMut(&MakeCall) -> std::result::Result<(), MakeError> + 'a;

enum Outcome {
    Made,
    Skipped,
    Failed(MakeError),
}

impl Table {
    fn check_auto(&self, what: &str) -> Result<()> {
        if !matches!(self.tier(), Some(Tier::Computed | Tier::Imported)) {
            return Err(Error::invalid_arg(format!(
                "{}: {what} needs a Computed or Imported table",
                self.full_name()
            )));
        }
        Ok(())
    }

    /// The keys `make` is called for: the join of the tables the primary key references, each
    /// projected to its key (renamed where the foreign key renames), unless replaced with
    /// [`Table::with_key_source`].
    pub fn key_source(&self) -> Result<Query> {
        if let Some(q) = &self.key_source {
            return Ok((**q).clone());
        }
        let parents = self
            .conn()
            .with(|b| b.parents(self.schema(), self.name()))?;
        let pk = self.heading().primary_key_names();
        let mut ks: Option<Query> = None;
        for fk in parents
            .iter()
            .filter(|f| f.columns.iter().all(|(c, _)| pk.contains(c)))
        {
            let parent = Table::open(self.conn_arc().clone(), &fk.schema, &fk.table)?;
            let renames: Vec<String> = fk
                .columns
                .iter()
                .filter(|(c, p)| c != p)
                .map(|(c, p)| format!("{c}={p}"))
                .collect();
            let items: Vec<&str> = renames.iter().map(|s| s.as_str()).collect();
            let q = parent.query()?.proj(&items)?;
            ks = Some(match ks {
                None => q,
                Some(k) => k.join(&q)?,
            });
        }
        ks.ok_or_else(|| {
            Error::invalid_arg(format!(
                "{}: a table must have dependencies from its primary key for auto-populate to work",
                self.full_name()
            ))
        })
    }

    /// This table with another key source (any query whose primary key the table has).
    pub fn with_key_source(&self, q: Query) -> Table {
        let mut t = self.clone();
        t.key_source = Some(Arc::new(q));
        t
    }

    /// `(key_source & restrictions).proj()`: the keys a populate considers.
    fn jobs_to_do(&self, restrictions: &[Restriction]) -> Result<Query> {
        if self.is_restricted() {
            return Err(Error::invalid_arg(format!(
                "{}: cannot populate a restricted table; pass the conditions as restrictions",
                self.full_name()
            )));
        }
        let todo = self.key_source()?;
        if let Some(a) = todo
            .primary_key()
            .into_iter()
            .find(|a| self.heading().get(a).is_none())
        {
            return Err(Error::invalid_arg(format!(
                "{}: the populate target lacks attribute '{a}' from the primary key of key_source",
                self.full_name()
            )));
        }
        let todo = if restrictions.is_empty() {
            todo
        } else {
            todo.restrict(&Restriction::And(restrictions.to_vec()))?
        };
        todo.proj(&[])
    }

    /// `todo - self`.
    fn remaining_of(&self, todo: &Query) -> Result<Query> {
        todo.exclude(&Restriction::Query(self.query()?.proj(&[])?))
    }

    /// `(remaining, total)`: keys of the key source (restricted) not yet in the table, of all.
    pub fn progress(&self, restrictions: &[Restriction]) -> Result<(u64, u64)> {
        self.check_auto("progress")?;
        let todo = self.jobs_to_do(restrictions)?;
        let total = todo.count()?;
        let remaining = self.remaining_of(&todo)?.count()?;
        Ok((remaining, total))
    }

    /// The jobs table `~~<name>` (declared on first use, exactly as the reference declares it).
    pub fn jobs(&self) -> Result<Jobs> {
        self.check_auto("a jobs table")?;
        Jobs::open(self)
    }

    /// Call `make` for every key of the key source (restricted) that is not in the table yet.
    /// Each call runs in a transaction: if `make` fails (or panics), its rows are rolled back
    /// and the objects it wrote removed. With `reserve_jobs` each key is first reserved in the
    /// jobs table, so any number of workers (in any process, ours or DataJoint Python's) can
    /// populate the same table at once; failures are recorded there.
    pub fn populate(&self, make: &mut MakeFn, mut opts: PopulateOptions) -> Result<PopulateReport> {
        self.check_auto("populate")?;
        if self.conn().in_transaction() {
            return Err(Error::new(
                ErrorCode::NotAllowed,
                format!(
                    "{}: populate cannot be called during a transaction",
                    self.full_name()
                ),
            ));
        }
        let jobs = if opts.reserve_jobs {
            Some(self.jobs()?)
        } else {
            None
        };
        let mut keys = match &jobs {
            None => {
                let todo = self.jobs_to_do(&opts.restrictions)?;
                let mut keys = self.remaining_of(&todo)?.keys(&FetchOptions::default())?;
                order_keys(&mut keys, opts.order, None);
                keys
            }
            Some(j) => {
                let auto = self.conn().config.get_bool("jobs.auto_refresh", true);
                if opts.refresh.unwrap_or(auto) {
                    // scheduled a second back, so the jobs are due at once
                    j.refresh(&RefreshOptions {
                        restrictions: opts.restrictions.clone(),
                        delay: -1.0,
                        priority: opts.priority,
                        ..Default::default()
                    })?;
                }
                let mut keys = j.pending_keys(self, &opts.restrictions, opts.priority)?;
                let priorities = keys.1;
                order_keys(&mut keys.0, opts.order, Some(&priorities));
                keys.0
            }
        };
        if let Some(m) = opts.max_calls {
            if (keys.nrows as u64) > m {
                let first: Vec<usize> = (0..m as usize).collect();
                keys = take_rows(&keys, &first);
            }
        }
        let meta = self
            .conn()
            .with(|b| b.has_column(self.schema(), self.name(), "_job_start_time"))?;
        let mut report = PopulateReport::default();
        let mut progress = Progress {
            total: keys.nrows as u64,
            ..Default::default()
        };
        for i in 0..keys.nrows {
            let key_result = take_rows(&keys, &[i]);
            let key = key_result.row(0);
            match self.populate1(make, &key, &key_result, jobs.as_ref(), meta)? {
                Outcome::Made => {
                    report.success_count += 1;
                    progress.succeeded += 1;
                }
                Outcome::Skipped => report.skipped += 1,
                Outcome::Failed(e) => {
                    progress.failed += 1;
                    if !opts.suppress_errors {
                        return Err(Error::new(
                            ErrorCode::MakeFailed,
                            format!(
                                "{}: make failed for key {}: {}",
                                self.full_name(),
                                describe_key(&key),
                                e.message
                            ),
                        ));
                    }
                    report.errors.push(FailedKey {
                        key,
                        key_result,
                        message: e.message,
                    });
                }
            }
            progress.done += 1;
            if let Some(cb) = opts.progress.as_mut() {
                cb(&progress);
            }
        }
        Ok(report)
    }

    /// One key: reserve (with jobs), then `make` in a transaction; the job is completed or
    /// marked as failed after it.
    fn populate1(
        &self,
        make: &mut MakeFn,
        key: &Row,
        key_result: &ResultSet,
        jobs: Option<&Jobs>,
        meta: bool,
    ) -> Result<Outcome> {
        if let Some(j) = jobs {
            if !j.reserve(key)? {
                return Ok(Outcome::Skipped);
            }
        }
        let start = Instant::now();
        let started = Value::Datetime(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_micros() as i64)
                .unwrap_or(0),
        );
        let conn = self.conn();
        conn.begin(Some((self.schema().to_string(), self.name().to_string())))?;
        let done = match self.restrict_key(key).and_then(|t| t.count()) {
            Ok(n) => n > 0,
            Err(e) => {
                let _ = conn.end(false);
                return Err(e);
            }
        };
        if done {
            conn.end(false)?;
            if let Some(j) = jobs {
                j.complete(key, None)?;
            }
            return Ok(Outcome::Skipped);
        }
        let target = self.clone();
        let call = MakeCall {
            table: &target,
            key,
            key_result,
        };
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| make(&call)))
            .unwrap_or_else(|p| {
                let what = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown".into());
                Err(MakeError::new(format!("panic: {what}")))
            });
        // The job is completed (and the job metadata written) in the make's own transaction:
        // its rows and its job's end commit together, and one commit fewer per job.
        let r = match r {
            Ok(()) => {
                let duration = start.elapsed().as_secs_f64();
                let finish = || -> Result<()> {
                    if meta {
                        jobs::update_job_metadata(self, key, started, duration)?;
                    }
                    if let Some(j) = jobs {
                        j.complete(key, Some(duration))?;
                    }
                    Ok(())
                };
                match finish() {
                    Ok(()) => conn.end(true).map_err(MakeError::from),
                    Err(e) => {
                        let _ = conn.end(false);
                        Err(MakeError::from(e))
                    }
                }
            }
            Err(e) => {
                let _ = conn.end(false);
                Err(e)
            }
        };
        match r {
            Ok(()) => Ok(Outcome::Made),
            Err(e) => {
                if let Some(j) = jobs {
                    j.error(key, &e.message, e.stack.as_deref())?;
                }
                Ok(Outcome::Failed(e))
            }
        }
    }
}

/// `a=1, b='x'`, for messages.
pub(crate) fn describe_key(key: &Row) -> String {
    key.values
        .iter()
        .map(|(n, v)| match v {
            Value::String(s) => format!("{n}='{s}'"),
            Value::Int(i) => format!("{n}={i}"),
            Value::UInt(i) => format!("{n}={i}"),
            Value::Float(f) => format!("{n}={f}"),
            other => format!("{n}={other:?}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn take_rows(rs: &ResultSet, rows: &[usize]) -> ResultSet {
    ResultSet {
        attributes: rs.attributes.clone(),
        columns: rs.columns.iter().map(|c| c.select(rows)).collect(),
        nrows: rows.len(),
    }
}

/// Reorder the keys; `priorities` (one per key, already in priority order) keeps a shuffle
/// within each priority.
fn order_keys(keys: &mut ResultSet, order: Order, priorities: Option<&[i64]>) {
    let n = keys.nrows;
    let idx: Vec<usize> = match order {
        Order::Original => return,
        Order::Reverse => (0..n).rev().collect(),
        Order::Random => {
            let mut seed = [0u8; 8];
            let _ = getrandom::fill(&mut seed);
            let mut state = u64::from_le_bytes(seed) | 1;
            let mut next = move || {
                // xorshift64: spreading workers needs no cryptographic randomness
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            let mut idx: Vec<usize> = (0..n).collect();
            let mut start = 0;
            while start < n {
                let mut end = start + 1;
                while end < n && priorities.is_none_or(|p| p[end] == p[start]) {
                    end += 1;
                }
                for i in (start + 1..end).rev() {
                    let j = start + (next() % ((i - start + 1) as u64)) as usize;
                    idx.swap(i, j);
                }
                start = end;
            }
            idx
        }
    };
    *keys = take_rows(keys, &idx);
}
