//! Pieces both benchmarks use: status checks, an open table that frees itself, and columnar
//! inserts through the C ABI.

use datajoint::*;
use std::ffi::{c_char, c_void, CStr};
use std::ptr;
use std::time::Instant;

pub fn check(s: dj_status) {
    if s != DJ_OK {
        let msg = unsafe { CStr::from_ptr(dj_last_error_message()) };
        panic!("dj call failed ({s}): {}", msg.to_string_lossy());
    }
}

/// A connection, schema and table; freed on drop (the temp folder, if any, after them).
pub struct Db {
    pub conn: *mut dj_conn,
    pub schema: *mut dj_schema,
    pub table: *mut dj_table,
    pub _dir: Option<tempfile::TempDir>,
}

impl Db {
    /// Open schema `bench` of `conn` and declare `class` from `definition` in it.
    pub fn declare(conn: *mut dj_conn, class: &CStr, definition: &CStr) -> Db {
        let mut schema = ptr::null_mut();
        let mut table = ptr::null_mut();
        unsafe {
            check(dj_schema_open(conn, c"bench".as_ptr(), 1, &mut schema));
            check(dj_table_declare(
                schema,
                class.as_ptr(),
                DJ_TIER_MANUAL,
                definition.as_ptr(),
                &mut table,
            ));
        }
        Db {
            conn,
            schema,
            table,
            _dir: None,
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        unsafe {
            dj_table_free(self.table);
            dj_schema_free(self.schema);
            dj_conn_free(self.conn);
        }
    }
}

/// A fixed-width input column (`kind` DJ_KIND_*, including DJ_KIND_ARRAY with `dj_array_in`s).
pub fn column<T>(name: &'static CStr, kind: i32, data: &[T]) -> dj_column_in {
    dj_column_in {
        name: name.as_ptr() as *const c_char,
        kind,
        data: data.as_ptr() as *const c_void,
        offsets: ptr::null(),
        validity: ptr::null(),
    }
}

/// A DJ_KIND_STRING input column.
pub fn string_column(name: &'static CStr, bytes: &[u8], offsets: &[i64]) -> dj_column_in {
    dj_column_in {
        offsets: offsets.as_ptr(),
        ..column(name, DJ_KIND_STRING, bytes)
    }
}

/// Insert `nrows` rows from `cols`; returns the elapsed seconds.
pub fn insert_columns(db: &Db, cols: &[dj_column_in], nrows: usize) -> f64 {
    let t0 = Instant::now();
    let mut n = 0u64;
    unsafe {
        check(dj_table_insert_columns(
            db.table,
            cols.as_ptr(),
            cols.len(),
            nrows,
            ptr::null(),
            &mut n,
        ))
    };
    let dt = t0.elapsed().as_secs_f64();
    assert_eq!(n as usize, nrows);
    dt
}
