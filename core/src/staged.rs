//! Staged insert of one row (datajoint-storage.md §8): `<object@>` values are written straight
//! to their final store paths — as one streamed file, as keys of a folder (Zarr-style stores),
//! or, for a `file` store, into a real local folder — and the row is inserted on commit, with
//! each object's size and file count measured from the store. Abort, a failed commit, or
//! dropping the staged insert removes everything it wrote.

use crate::codecs::object::{check_relative, now_iso, path_ext, ObjectMeta};
use crate::error::{Error, ErrorCode, Result};
use crate::objpath::build_object_path;
use crate::store::tree::{ObjectWriter, Progress};
use crate::store::Store;
use crate::table::{InsertOptions, Row, Table};
use crate::types::AttrType;
use crate::value::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How a staged field is being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// one file at the path (`open`)
    File,
    /// files under the path (`put`, `open_key`, `local_dir`)
    Folder,
}

struct Field {
    name: String,
    store: Arc<Store>,
    path: String,
    ext: Option<String>,
    mode: Mode,
}

/// One row being written: set its attributes, write its `<object@>` fields, then `commit`.
pub struct StagedInsert {
    table: Table,
    row: Row,
    fields: Vec<Field>,
    written: Arc<AtomicU64>,
    progress: Option<Progress>,
    finished: bool,
}

impl std::fmt::Debug for StagedInsert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedInsert")
            .field("table", &self.table.full_name())
            .field("row", &self.row)
            .field(
                "fields",
                &self.fields.iter().map(|x| &x.path).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl StagedInsert {
    pub(crate) fn begin(table: &Table) -> Result<StagedInsert> {
        if table.is_restricted() {
            return Err(Error::invalid_arg(format!(
                "{}: cannot insert into a restricted table",
                table.full_name()
            )));
        }
        Ok(StagedInsert {
            table: table.clone(),
            row: Row::new(),
            fields: Vec::new(),
            written: Arc::new(AtomicU64::new(0)),
            progress: None,
            finished: false,
        })
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The row's values set so far.
    pub fn row(&self) -> &Row {
        &self.row
    }

    /// Set an attribute of the row. Primary-key attributes cannot change once a field was
    /// written (its path contains them); staged fields are set by the commit.
    pub fn set(&mut self, name: &str, v: Value) -> Result<()> {
        let tname = self.table.full_name();
        let a = self.table.heading().get(name).ok_or_else(|| {
            Error::new(
                ErrorCode::UnknownAttribute,
                format!("{tname} has no attribute '{name}'"),
            )
        })?;
        if a.in_key && !self.fields.is_empty() && self.row.get(name) != Some(&v) {
            return Err(Error::invalid_arg(format!(
                "{tname}: primary-key attribute '{name}' cannot change after a field was written"
            )));
        }
        if self.fields.iter().any(|f| f.name == name) {
            return Err(Error::invalid_arg(format!(
                "{tname}: attribute '{name}' is being written by this staged insert"
            )));
        }
        self.row.set(name, v);
        Ok(())
    }

    /// Called with the total bytes written so far by this staged insert.
    pub fn set_progress(&mut self, p: Option<Progress>) {
        self.progress = p;
    }

    pub fn bytes_written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// The field's destination, made on first use (the full primary key must be set).
    fn field(&mut self, name: &str, ext: Option<&str>, mode: Mode) -> Result<&Field> {
        if self.finished {
            return Err(Error::invalid_arg("the staged insert is already finished"));
        }
        let tname = self.table.full_name();
        if let Some(i) = self.fields.iter().position(|f| f.name == name) {
            let f = &self.fields[i];
            if f.mode != mode {
                return Err(Error::invalid_arg(format!(
                    "{tname}, attribute '{name}': already written as a {}",
                    if f.mode == Mode::File {
                        "single file (open)"
                    } else {
                        "folder (put/local_dir)"
                    }
                )));
            }
            if mode == Mode::File {
                return Err(Error::invalid_arg(format!(
                    "{tname}, attribute '{name}': the file was already opened once"
                )));
            }
            return Ok(&self.fields[i]);
        }
        let a = self.table.heading().get(name).ok_or_else(|| {
            Error::new(
                ErrorCode::UnknownAttribute,
                format!("{tname} has no attribute '{name}'"),
            )
        })?;
        let AttrType::Codec {
            name: codec,
            store: Some(declared),
        } = &a.ty
        else {
            return Err(Error::type_err(format!(
                "{tname}, attribute '{name}' is {}: only <object@> attributes can be staged",
                a.declared_type
            )));
        };
        if codec != "object" {
            return Err(Error::type_err(format!(
                "{tname}, attribute '{name}' is {}: only <object@> attributes can be staged",
                a.declared_type
            )));
        }
        if self.row.get(name).is_some() {
            return Err(Error::invalid_arg(format!(
                "{tname}: attribute '{name}' already has a value in the row"
            )));
        }
        let key = self.table.key_values(&self.row)?;
        let store = self
            .table
            .stores()
            .get(declared)
            .map_err(|e| e.context(format!("{tname}, attribute '{name}'")))?;
        let ext = ext.filter(|e| !e.is_empty()).map(str::to_string);
        let path = build_object_path(
            &store.spec,
            self.table.schema(),
            self.table.name(),
            &key,
            name,
            &path_ext(ext.as_deref()),
        );
        self.fields.push(Field {
            name: name.to_string(),
            store,
            path,
            ext,
            mode,
        });
        Ok(self.fields.last().expect("just pushed"))
    }

    fn writer_for(&self, store: &Arc<Store>, rel: &str) -> Result<ObjectWriter> {
        Ok(store
            .writer(rel, self.progress.clone())?
            .with_counter(self.written.clone()))
    }

    /// The store path of a field (made on first use; `ext` counts only then).
    pub fn path(&mut self, field: &str, ext: &str, folder: bool) -> Result<String> {
        let mode = if folder { Mode::Folder } else { Mode::File };
        Ok(self.field(field, Some(ext), mode)?.path.clone())
    }

    /// A writable stream for the field as one file, `{field}_{token}{ext}`. Finish it before
    /// the commit.
    pub fn open(&mut self, field: &str, ext: &str) -> Result<ObjectWriter> {
        let f = self.field(field, Some(ext), Mode::File)?;
        let (store, path) = (f.store.clone(), f.path.clone());
        self.writer_for(&store, &path)
    }

    /// A writable stream for the file `key` of the field's folder (e.g. a Zarr chunk).
    pub fn open_key(&mut self, field: &str, key: &str) -> Result<ObjectWriter> {
        let (store, path) = self.key_dest(field, key)?;
        self.writer_for(&store, &path)
    }

    /// The store and path of the file `key` of the field's folder.
    fn key_dest(&mut self, field: &str, key: &str) -> Result<(Arc<Store>, String)> {
        check_relative(key, "staged key")
            .map_err(|e| e.context(format!("{}, attribute '{field}'", self.table.full_name())))?;
        let f = self.field(field, None, Mode::Folder)?;
        Ok((f.store.clone(), format!("{}/{key}", f.path)))
    }

    /// Write the file `key` of the field's folder in one piece (key/value stores like Zarr).
    pub fn put(&mut self, field: &str, key: &str, data: &[u8]) -> Result<()> {
        let (store, path) = self.key_dest(field, key)?;
        // one write (a local file, or one PUT), no stream buffer: chunked formats put many
        // small keys
        store.put_bytes(&path, data)?;
        let total =
            self.written.fetch_add(data.len() as u64, Ordering::Relaxed) + data.len() as u64;
        if let Some(p) = &self.progress {
            p(total);
        }
        Ok(())
    }

    /// For a `file` store: the field's folder on the local disk (created), for libraries that
    /// write files themselves (HDF5, Zarr, TIFF). Its files are measured at commit.
    pub fn local_dir(&mut self, field: &str) -> Result<PathBuf> {
        let f = self.field(field, None, Mode::Folder)?;
        f.store
            .local_dir(&f.path)
            .map_err(|e| e.context(format!("attribute '{}'", f.name)))
    }

    /// Measure every field, insert the row, and finish. On any error everything written is
    /// removed and the error returned.
    pub fn commit(mut self) -> Result<()> {
        let r = self.try_commit();
        if r.is_err() {
            // best effort: what cannot be removed is left for gc
            let _ = self.cleanup();
        }
        self.finished = true;
        r
    }

    fn try_commit(&mut self) -> Result<()> {
        if self.finished {
            return Err(Error::invalid_arg("the staged insert is already finished"));
        }
        let tname = self.table.full_name();
        let mut row = self.row.clone();
        for f in &self.fields {
            let ctx = |e: Error| e.context(format!("{tname}, attribute '{}'", f.name));
            let (size, is_dir, item_count) = match f.mode {
                Mode::File => {
                    let h = f.store.head(&f.path).map_err(ctx)?.ok_or_else(|| {
                        Error::invalid_arg(format!(
                            "{tname}, attribute '{}': nothing was written (finish the stream before the commit)",
                            f.name
                        ))
                    })?;
                    (h.size, false, None)
                }
                Mode::Folder => {
                    let files = f.store.list(&f.path).map_err(ctx)?;
                    let prefix = format!("{}/", f.path);
                    let files: Vec<_> = files
                        .into_iter()
                        .filter(|l| l.path.starts_with(&prefix))
                        .collect();
                    let local_folder = f.store.local_path(&f.path).is_some_and(|p| p.is_dir());
                    if files.is_empty() && !local_folder {
                        return Err(Error::invalid_arg(format!(
                            "{tname}, attribute '{}': nothing was written into the folder",
                            f.name
                        )));
                    }
                    (
                        files.iter().map(|l| l.size).sum(),
                        true,
                        Some(files.len() as u64),
                    )
                }
            };
            let meta = ObjectMeta {
                path: f.path.clone(),
                store: f.store.name().to_string(),
                size: Some(size),
                ext: f.ext.clone(),
                is_dir,
                item_count,
                timestamp: Some(now_iso()),
                hash: None,
            };
            row.set(&f.name, Value::Json(meta.to_json()));
        }
        self.table.insert1(&row, InsertOptions::default())?;
        // inside a transaction (a make) that rolls back, the fields go too
        self.table.conn().added_objects(
            self.table.schema(),
            crate::table::StoredObjects {
                schema_addressed: self
                    .fields
                    .iter()
                    .map(|f| (f.store.name().to_string(), f.path.clone(), true))
                    .collect(),
                hashed: Vec::new(),
            },
        );
        Ok(())
    }

    /// Remove everything written and finish.
    pub fn abort(mut self) -> Result<()> {
        let r = self.cleanup();
        self.finished = true;
        r
    }

    /// Best effort: every field's file or folder is removed; the first failure is returned
    /// (what could not be removed is left for gc).
    fn cleanup(&mut self) -> Result<()> {
        let mut first = Ok(());
        for f in &self.fields {
            if let Err(e) = f.store.delete_tree(&f.path) {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}

impl Drop for StagedInsert {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.cleanup();
        }
    }
}
