//! Boundary helpers: panic catching, thread-local last error, handle and argument checks.

use crate::handles::{dj_row, Handle};
use crate::{dj_status, DJ_OK};
use datajoint_core::{Error, ErrorCode, Result, Row};
use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    static LAST_ERROR: RefCell<(dj_status, CString)> = RefCell::new((DJ_OK, CString::default()));
}

pub fn cstring_lossy(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

fn set_error(e: &Error) -> dj_status {
    let code = e.code.as_i32();
    LAST_ERROR.with(|l| *l.borrow_mut() = (code, cstring_lossy(&e.message)));
    code
}

/// Clear the thread's last error (before a callback whose failures are read back).
pub fn clear_last_error() {
    clear_error()
}

/// The thread's last error message, if a call failed since the last clear.
pub fn take_last_error() -> Option<String> {
    LAST_ERROR.with(|l| {
        let l = l.borrow();
        (l.0 != DJ_OK).then(|| l.1.to_string_lossy().into_owned())
    })
}

fn clear_error() {
    LAST_ERROR.with(|l| {
        let mut l = l.borrow_mut();
        if l.0 != DJ_OK {
            *l = (DJ_OK, CString::default());
        }
    });
}

pub fn last_error_code() -> dj_status {
    LAST_ERROR.with(|l| l.borrow().0)
}

pub fn last_error_message_ptr() -> *const c_char {
    LAST_ERROR.with(|l| l.borrow().1.as_ptr())
}

fn panic_error(p: Box<dyn std::any::Any + Send>) -> Error {
    let msg = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Error::new(
        ErrorCode::Panic,
        format!("internal panic (please report this bug): {msg}"),
    )
}

/// Run a fallible body: clear the last error, catch panics, record failures.
pub fn call(f: impl FnOnce() -> Result<()>) -> dj_status {
    clear_error();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => DJ_OK,
        Ok(Err(e)) => set_error(&e),
        Err(p) => set_error(&panic_error(p)),
    }
}

/// Like `call`, for constructors: `*out` is set to the new handle, or NULL on failure.
pub unsafe fn call_out<T>(out: *mut *mut T, f: impl FnOnce() -> Result<Box<T>>) -> dj_status {
    call(|| {
        let o = out_ref(out, "out")?;
        *o = std::ptr::null_mut();
        *o = Box::into_raw(f()?);
        Ok(())
    })
}

/// Like `call`, for operations that report a count into an optional out parameter.
pub unsafe fn call_count(out: *mut u64, f: impl FnOnce() -> Result<u64>) -> dj_status {
    call(|| {
        if !out.is_null() {
            *out = 0;
        }
        let n = f()?;
        if !out.is_null() {
            *out = n;
        }
        Ok(())
    })
}

/// For infallible getters: clear the error, catch panics, return `default` on any failure.
pub fn guard_value<T>(default: T, f: impl FnOnce() -> Result<T>) -> T {
    clear_error();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            set_error(&e);
            default
        }
        Err(p) => {
            set_error(&panic_error(p));
            default
        }
    }
}

pub unsafe fn handle_ref<'a, T: Handle>(p: *const T) -> Result<&'a T> {
    if p.is_null() {
        return Err(Error::new(
            ErrorCode::InvalidHandle,
            format!("{} handle is NULL", T::NAME),
        ));
    }
    let h = &*p;
    if h.tag() != T::TAG {
        return Err(Error::new(
            ErrorCode::InvalidHandle,
            format!(
                "not a valid {} handle (wrong type, or already freed)",
                T::NAME
            ),
        ));
    }
    Ok(h)
}

pub unsafe fn handle_mut<'a, T: Handle>(p: *mut T) -> Result<&'a mut T> {
    handle_ref(p as *const T)?;
    Ok(&mut *p)
}

/// Free a handle; NULL and already-freed (tag cleared) handles are ignored. Never unwinds.
pub unsafe fn free_handle<T: Handle>(p: *mut T) {
    if p.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if (*p).tag() != T::TAG {
            return;
        }
        (*p).clear_tag();
        drop(Box::from_raw(p));
    }));
}

pub unsafe fn out_ref<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T> {
    if p.is_null() {
        return Err(Error::invalid_arg(format!("{name} is NULL")));
    }
    Ok(&mut *p)
}

pub unsafe fn req_str<'a>(p: *const c_char, name: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::invalid_arg(format!("{name} is NULL")));
    }
    CStr::from_ptr(p)
        .to_str()
        .map_err(|_| Error::invalid_arg(format!("{name} is not valid UTF-8")))
}

pub unsafe fn opt_str<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        req_str(p, name).map(Some)
    }
}

pub unsafe fn bytes_arg<'a>(p: *const u8, len: usize, name: &str) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Error::invalid_arg(format!("{name} is NULL")));
    }
    Ok(std::slice::from_raw_parts(p, len))
}

pub unsafe fn row_list(rows: *const *const dj_row, n: usize) -> Result<Vec<Row>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if rows.is_null() {
        return Err(Error::invalid_arg("rows is NULL"));
    }
    std::slice::from_raw_parts(rows, n)
        .iter()
        .map(|&r| handle_ref(r).map(|h| h.row.clone()))
        .collect()
}

pub fn static_cstr(s: &'static str) -> *const c_char {
    match s {
        "duckdb" => c"duckdb".as_ptr(),
        "postgresql" => c"postgresql".as_ptr(),
        "mysql" => c"mysql".as_ptr(),
        _ => c"unknown".as_ptr(),
    }
}

/// Static C string of a kind's name (the core's spelling).
pub fn kind_name_ptr(k: datajoint_core::Kind) -> *const c_char {
    static NAMES: std::sync::OnceLock<Vec<(i32, CString)>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        // every kind the core has (15 is DJ_KIND_ARRAY, an input-only kind)
        (1..=32)
            .filter_map(datajoint_core::Kind::from_i32)
            .map(|k| (k as i32, CString::new(k.name()).unwrap_or_default()))
            .collect()
    });
    names
        .iter()
        .find(|(c, _)| *c == k as i32)
        .map(|(_, n)| n.as_ptr())
        .unwrap_or(c"unknown".as_ptr())
}

pub fn status_name_ptr(status: dj_status) -> *const c_char {
    if status == DJ_OK {
        return c"OK".as_ptr();
    }
    static NAMES: std::sync::OnceLock<Vec<(i32, CString)>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        ErrorCode::ALL
            .iter()
            .map(|c| (c.as_i32(), CString::new(c.name()).unwrap_or_default()))
            .collect()
    });
    names
        .iter()
        .find(|(c, _)| *c == status)
        .map(|(_, n)| n.as_ptr())
        .unwrap_or(c"Unknown".as_ptr())
}

pub unsafe fn write_str_buf(
    s: &str,
    buf: *mut c_char,
    len: usize,
    out_needed: *mut usize,
) -> Result<()> {
    if !out_needed.is_null() {
        *out_needed = s.len();
    }
    if buf.is_null() || len == 0 {
        return if len == 0 && buf.is_null() {
            Ok(())
        } else {
            Err(Error::invalid_arg("buf is NULL"))
        };
    }
    if s.len() + 1 > len {
        *buf = 0;
        return Err(Error::invalid_arg(format!(
            "buffer too small: {} bytes needed",
            s.len() + 1
        )));
    }
    std::ptr::copy_nonoverlapping(s.as_ptr(), buf as *mut u8, s.len());
    *buf.add(s.len()) = 0;
    Ok(())
}
