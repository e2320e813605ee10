//! One error type for the whole core, with stable numeric codes that the C ABI and every binding
//! expose unchanged. Codes are never renumbered; new ones are appended.

use std::fmt;

/// Stable error codes. The numeric values are part of the public C ABI (`DJ_E_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorCode {
    /// A function argument is invalid (NULL where not allowed, bad UTF-8, out of range option).
    InvalidArgument = -1,
    /// A handle is NULL or not of the expected kind.
    InvalidHandle = -2,
    /// The connection (or an object that depends on it) was closed.
    Closed = -3,
    /// A schema, table, attribute value or row that was asked for does not exist.
    NotFound = -4,
    /// A row with the same primary key (or unique index value) already exists.
    Duplicate = -5,
    /// A foreign-key or other integrity constraint would be violated.
    Integrity = -6,
    /// A value does not fit the attribute's type (wrong kind, out of range, not an enum member, …).
    Type = -7,
    /// A table definition (or a type in it) is malformed.
    Definition = -8,
    /// The database backend reported an error not covered by a more specific code.
    Backend = -9,
    /// The configuration (datajoint.json, environment) is missing or malformed.
    Config = -10,
    /// `fetch1` found more than one row.
    NotUnique = -11,
    /// A row or key names an attribute the table does not have.
    UnknownAttribute = -12,
    /// Object store error (unknown store, unreachable endpoint, …).
    Store = -13,
    /// A codec could not encode or decode a value.
    Codec = -14,
    /// Local I/O failed.
    Io = -15,
    /// The database server cannot be reached.
    Connection = -16,
    /// The operation is valid but not supported by this backend or version.
    Unsupported = -17,
    /// The operation is not allowed here: a direct insert into a Computed/Imported table
    /// outside its `make`, a populate inside a transaction, a nested transaction.
    NotAllowed = -18,
    /// A `make` callback failed (its message is the callback's).
    MakeFailed = -19,
    /// A Rust panic was caught at the C ABI boundary.
    Panic = -98,
    /// A bug: an invariant of the library does not hold.
    Internal = -99,
}

impl ErrorCode {
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// Short CamelCase name, used for MATLAB error identifiers (`DataJoint:<Name>`) and messages.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "InvalidArgument",
            ErrorCode::InvalidHandle => "InvalidHandle",
            ErrorCode::Closed => "Closed",
            ErrorCode::NotFound => "NotFound",
            ErrorCode::Duplicate => "Duplicate",
            ErrorCode::Integrity => "Integrity",
            ErrorCode::Type => "Type",
            ErrorCode::Definition => "Definition",
            ErrorCode::Backend => "Backend",
            ErrorCode::Config => "Config",
            ErrorCode::NotUnique => "NotUnique",
            ErrorCode::UnknownAttribute => "UnknownAttribute",
            ErrorCode::Store => "Store",
            ErrorCode::Codec => "Codec",
            ErrorCode::Io => "Io",
            ErrorCode::Connection => "Connection",
            ErrorCode::Unsupported => "Unsupported",
            ErrorCode::NotAllowed => "NotAllowed",
            ErrorCode::MakeFailed => "MakeFailed",
            ErrorCode::Panic => "Panic",
            ErrorCode::Internal => "Internal",
        }
    }

    pub const ALL: [ErrorCode; 21] = [
        ErrorCode::InvalidArgument,
        ErrorCode::InvalidHandle,
        ErrorCode::Closed,
        ErrorCode::NotFound,
        ErrorCode::Duplicate,
        ErrorCode::Integrity,
        ErrorCode::Type,
        ErrorCode::Definition,
        ErrorCode::Backend,
        ErrorCode::Config,
        ErrorCode::NotUnique,
        ErrorCode::UnknownAttribute,
        ErrorCode::Store,
        ErrorCode::Codec,
        ErrorCode::Io,
        ErrorCode::Connection,
        ErrorCode::Unsupported,
        ErrorCode::NotAllowed,
        ErrorCode::MakeFailed,
        ErrorCode::Panic,
        ErrorCode::Internal,
    ];
}

/// The core's error: a stable code and a message that names the table, attribute or path involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }
    pub fn invalid_arg(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, m)
    }
    pub fn definition(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Definition, m)
    }
    pub fn type_err(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Type, m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, m)
    }
    pub fn backend(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Backend, m)
    }
    pub fn config(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Config, m)
    }
    pub fn closed() -> Self {
        Self::new(ErrorCode::Closed, "the connection is closed")
    }
    pub fn internal(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, m)
    }

    /// Prefix the message with context (e.g. the table name), keeping the code.
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.message = format!("{ctx}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code.name(), self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
