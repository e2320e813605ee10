//! DataJoint core types: parsing the declared spelling, and the value kinds they accept.

use crate::error::{Error, Result};
use regex::Regex;
use std::sync::OnceLock;

/// A portable DataJoint core type (reference: datajoint-storage.md §1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreType {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Bool,
    /// decimal(precision, scale)
    Decimal(u8, u8),
    Char(u32),
    Varchar(u32),
    Date,
    /// datetime with optional fractional-second precision 0..=6
    Datetime(Option<u8>),
    Bytes,
    Json,
    Uuid,
    Enum(Vec<String>),
}

/// What a backend reports a computed column to be (see [`Kind::of_computed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueClass {
    Bool,
    Int,
    Number,
    Text,
    Bytes,
    Date,
    Datetime,
    Uuid,
    Json,
}

/// The type of an attribute: a core type, a codec (`<name@store>`), or a native SQL type found when
/// reading a table that was not declared with a core type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrType {
    Core(CoreType),
    /// `<name>` (store None), `<name@>` (store Some("")), `<name@store>`.
    Codec {
        name: String,
        store: Option<String>,
    },
    /// A native SQL type (passed through from a definition with the reference's warning, or
    /// found in the catalog of an older pipeline without a `:type:` marker).
    Native(NativeType),
    /// A value a query computes (`proj(n='count(*)')`): its buffer kind is chosen from the
    /// type the server reports for the result column ([`Kind::of_computed`]).
    Computed,
}

/// A native SQL type: its normalised spelling and how its values travel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeType {
    /// Lower case, single spaces, integer display widths removed (`int unsigned`).
    pub sql: String,
    pub repr: NativeRepr,
}

/// The value representation of a native type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NativeRepr {
    /// An integer of `bytes` bytes (1, 2, 3, 4 or 8).
    Int {
        bytes: u8,
        unsigned: bool,
    },
    Float32,
    Float64,
    /// `decimal(p,s)`; None for an unconstrained PostgreSQL `numeric`.
    Decimal(Option<(u8, u8)>),
    /// Text with an optional maximum length in characters.
    Text(Option<u32>),
    Bytes,
    Date,
    /// `timestamp`/`datetime` with its fractional-second precision.
    Datetime(Option<u8>),
    /// A time of day or duration, exchanged as text `[-]HH:MM:SS[.ffffff]`.
    Time,
    /// MySQL `year`.
    Year,
    Enum(Vec<String>),
    Json,
    Uuid,
    /// Anything else (bit, set, geometry, intervals, …): fetched as text, not writable.
    Other,
}

impl NativeType {
    pub fn kind(&self) -> Kind {
        match &self.repr {
            NativeRepr::Int { bytes, unsigned } => match (bytes, unsigned) {
                (1, false) => Kind::Int8,
                (1, true) | (2, false) => Kind::Int16,
                (2, true) | (3, _) | (4, false) => Kind::Int32,
                (4, true) | (8, false) => Kind::Int64,
                _ => Kind::UInt64,
            },
            NativeRepr::Float32 => Kind::Float32,
            NativeRepr::Float64 => Kind::Float64,
            NativeRepr::Decimal(_) => Kind::Decimal,
            NativeRepr::Text(_) | NativeRepr::Time | NativeRepr::Enum(_) | NativeRepr::Other => {
                Kind::String
            }
            NativeRepr::Bytes => Kind::Bytes,
            NativeRepr::Date => Kind::Date,
            NativeRepr::Datetime(_) => Kind::Datetime,
            NativeRepr::Year => Kind::Int16,
            NativeRepr::Json => Kind::Json,
            NativeRepr::Uuid => Kind::Uuid,
        }
    }

    /// A key the server generates when it is left out (MySQL `auto_increment`).
    pub fn is_auto_increment(&self) -> bool {
        self.sql.ends_with("auto_increment")
    }

    /// The inclusive value range of an integer type.
    pub fn int_range(&self) -> Option<(i128, i128)> {
        match self.repr {
            NativeRepr::Int { bytes, unsigned } => {
                let bits = 8 * bytes as u32;
                Some(if unsigned {
                    (0, (1i128 << bits) - 1)
                } else {
                    (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
                })
            }
            NativeRepr::Year => Some((0, 2155)),
            _ => None,
        }
    }
}

/// Parse a native SQL type as the reference accepts it in a definition (its INTEGER, NUMERIC,
/// FLOAT, STRING, TEMPORAL, NATIVE_BLOB and NATIVE_TEXT categories), or as a catalog spells it
/// (`catalog` also admits PostgreSQL's spellings and read-only types).
pub fn parse_native(text: &str, catalog: bool) -> Option<NativeType> {
    static WS: OnceLock<Regex> = OnceLock::new();
    static INT: OnceLock<Regex> = OnceLock::new();
    static NUM: OnceLock<Regex> = OnceLock::new();
    static FLT: OnceLock<Regex> = OnceLock::new();
    static STR: OnceLock<Regex> = OnceLock::new();
    static TMP: OnceLock<Regex> = OnceLock::new();
    static BLOB: OnceLock<Regex> = OnceLock::new();
    static TEXT: OnceLock<Regex> = OnceLock::new();
    let lower = re(&WS, r"\s+")
        .replace_all(text.trim(), " ")
        .to_ascii_lowercase()
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")");
    let int = re(
        &INT,
        r"^(?:(tiny|small|medium|big|)int|(integer))(\(\d+\))?( unsigned)?( zerofill)?( auto_increment)?$",
    );
    if let Some(c) = int.captures(&lower) {
        let prefix = c.get(1).map_or("", |m| m.as_str());
        let bytes = match prefix {
            "tiny" => 1,
            "small" => 2,
            "medium" => 3,
            "big" => 8,
            _ => 4,
        };
        let unsigned = c.get(4).is_some();
        let sql0 = if c.get(2).is_some() {
            "integer".to_string()
        } else {
            format!("{prefix}int")
        };
        let mut sql = sql0;
        if unsigned {
            sql.push_str(" unsigned");
        }
        if c.get(6).is_some() {
            sql.push_str(" auto_increment");
        }
        return Some(NativeType {
            sql,
            repr: NativeRepr::Int { bytes, unsigned },
        });
    }
    if lower == "serial" || (catalog && matches!(lower.as_str(), "smallserial" | "bigserial")) {
        let bytes = match lower.as_str() {
            "smallserial" => 2,
            "bigserial" => 8,
            _ => 4,
        };
        return Some(NativeType {
            sql: lower,
            repr: NativeRepr::Int {
                bytes,
                unsigned: false,
            },
        });
    }
    let num = re(
        &NUM,
        r"^(decimal|numeric|dec|fixed)(\((\d+)(,(\d+))?\))?( unsigned)?( zerofill)?$",
    );
    if let Some(c) = num.captures(&lower) {
        let ps = match c.get(3) {
            Some(p) => {
                let p: u32 = p.as_str().parse().ok()?;
                let s: u32 = c.get(5).map_or(Some(0), |s| s.as_str().parse().ok())?;
                if p == 0 || p > 65 || s > p {
                    return None;
                }
                Some((p.min(255) as u8, s as u8))
            }
            // MySQL's bare decimal is decimal(10,0); PostgreSQL's numeric is unconstrained.
            None if catalog => None,
            None => Some((10, 0)),
        };
        return Some(NativeType {
            sql: lower,
            repr: NativeRepr::Decimal(ps),
        });
    }
    let flt = re(
        &FLT,
        r"^(double precision|double|float|real|float4|float8)(\((\d+)(,\d+)?\))?( unsigned)?$",
    );
    if let Some(c) = flt.captures(&lower) {
        let single = match &c[1] {
            "real" | "float4" => true,
            "float" => match c.get(3) {
                // float(p): single precision up to 24 bits, as MySQL and PostgreSQL both do
                Some(p) if c.get(4).is_none() => p.as_str().parse::<u32>().ok()? <= 24,
                Some(_) => false,
                None => true,
            },
            _ => false,
        };
        return Some(NativeType {
            sql: lower,
            repr: if single {
                NativeRepr::Float32
            } else {
                NativeRepr::Float64
            },
        });
    }
    let st = re(
        &STR,
        r"^(varchar|char|character varying|character|nvarchar|nchar)(\((\d+)\))?$",
    );
    if let Some(c) = st.captures(&lower) {
        let n: Option<u32> = c.get(3).and_then(|m| m.as_str().parse().ok());
        if !catalog && (n.is_none() || !matches!(&c[1], "varchar" | "char")) {
            return None;
        }
        return Some(NativeType {
            sql: lower.clone(),
            repr: NativeRepr::Text(n.or(if &c[1] == "character" { Some(1) } else { None })),
        });
    }
    let tmp = re(
        &TMP,
        r"^(time|timestamp|year)(\((\d+)\))?( (with|without) time zone)?$",
    );
    if let Some(c) = tmp.captures(&lower) {
        let prec: Option<u8> = c.get(3).and_then(|m| m.as_str().parse().ok());
        if c.get(4).is_some() && !catalog {
            return None;
        }
        let repr = match &c[1] {
            "time" => NativeRepr::Time,
            "timestamp" => NativeRepr::Datetime(prec.map(|p| p.min(6))),
            _ => NativeRepr::Year,
        };
        return Some(NativeType { sql: lower, repr });
    }
    let blob = re(
        &BLOB,
        r"^((tiny|small|medium|long)?blob|bytea|(var)?binary\(\d+\))$",
    );
    if blob.is_match(&lower) {
        if !catalog && (lower == "bytea" || lower.contains("binary")) {
            return None;
        }
        return Some(NativeType {
            sql: lower,
            repr: NativeRepr::Bytes,
        });
    }
    let txt = re(&TEXT, r"^(tiny|medium|long)?text$");
    if txt.is_match(&lower) {
        let max = match lower.as_str() {
            "tinytext" => Some(255),
            "text" if !catalog => Some(65535),
            _ => None,
        };
        return Some(NativeType {
            sql: lower,
            repr: NativeRepr::Text(max),
        });
    }
    if !catalog {
        return None;
    }
    let repr = match lower.as_str() {
        "date" => NativeRepr::Date,
        "datetime" => NativeRepr::Datetime(None),
        "json" | "jsonb" => NativeRepr::Json,
        "uuid" => NativeRepr::Uuid,
        "boolean" | "bool" => NativeRepr::Int {
            bytes: 1,
            unsigned: false,
        },
        _ if lower.starts_with("datetime(") => {
            NativeRepr::Datetime(lower[9..lower.len() - 1].parse().ok().map(|p: u8| p.min(6)))
        }
        _ if lower.starts_with("enum(") => match parse_enum(text.trim()) {
            Ok(v) => NativeRepr::Enum(v),
            Err(_) => NativeRepr::Other,
        },
        _ => NativeRepr::Other,
    };
    Some(NativeType { sql: lower, repr })
}

/// How values of a type are laid out in columnar buffers (the C ABI's `DJ_KIND_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Kind {
    /// one byte per value, 0 or 1
    Bool = 1,
    Int8 = 2,
    Int16 = 3,
    Int32 = 4,
    Int64 = 5,
    Float32 = 6,
    Float64 = 7,
    /// UTF-8 text: offsets + bytes
    String = 8,
    /// arbitrary bytes: offsets + bytes
    Bytes = 9,
    /// int32 days since 1970-01-01
    Date = 10,
    /// int64 microseconds since 1970-01-01T00:00:00 (UTC by DataJoint convention)
    Datetime = 11,
    /// 16 bytes per value, RFC 4122 order
    Uuid = 12,
    /// exact decimal as UTF-8 text: offsets + bytes
    Decimal = 13,
    /// JSON document as UTF-8 text: offsets + bytes
    Json = 14,
    /// unsigned 64-bit integers (native `bigint unsigned` columns of older MySQL pipelines)
    UInt64 = 16,
    /// decoded `<blob>` value trees (one `dj_value` per row)
    Blob = 17,
}

impl Kind {
    /// The buffer kind of a computed result column, from the server's type named in a
    /// backend-neutral way: integers widen to int64, every inexact or exact number to float64
    /// (an `avg` or `sum` is a number to the user, whatever width the server picked).
    pub fn of_computed(class: ValueClass) -> Kind {
        match class {
            ValueClass::Bool => Kind::Bool,
            ValueClass::Int => Kind::Int64,
            ValueClass::Number => Kind::Float64,
            ValueClass::Text => Kind::String,
            ValueClass::Bytes => Kind::Bytes,
            ValueClass::Date => Kind::Date,
            ValueClass::Datetime => Kind::Datetime,
            ValueClass::Uuid => Kind::Uuid,
            ValueClass::Json => Kind::Json,
        }
    }

    pub fn from_i32(v: i32) -> Option<Kind> {
        Some(match v {
            1 => Kind::Bool,
            2 => Kind::Int8,
            3 => Kind::Int16,
            4 => Kind::Int32,
            5 => Kind::Int64,
            6 => Kind::Float32,
            7 => Kind::Float64,
            8 => Kind::String,
            9 => Kind::Bytes,
            10 => Kind::Date,
            11 => Kind::Datetime,
            12 => Kind::Uuid,
            13 => Kind::Decimal,
            14 => Kind::Json,
            16 => Kind::UInt64,
            17 => Kind::Blob,
            _ => return None,
        })
    }
    /// Variable-width kinds use an offsets array (n+1 int64) and a byte buffer.
    pub fn is_var_width(self) -> bool {
        matches!(
            self,
            Kind::String | Kind::Bytes | Kind::Decimal | Kind::Json
        )
    }
    /// Bytes per value for fixed-width kinds.
    pub fn width(self) -> usize {
        match self {
            Kind::Bool | Kind::Int8 => 1,
            Kind::Int16 => 2,
            Kind::Int32 | Kind::Float32 | Kind::Date => 4,
            Kind::Int64 | Kind::UInt64 | Kind::Float64 | Kind::Datetime => 8,
            Kind::Uuid => 16,
            _ => 0,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bool => "bool",
            Kind::Int8 => "int8",
            Kind::Int16 => "int16",
            Kind::Int32 => "int32",
            Kind::Int64 => "int64",
            Kind::Float32 => "float32",
            Kind::Float64 => "float64",
            Kind::String => "string",
            Kind::Bytes => "bytes",
            Kind::Date => "date",
            Kind::Datetime => "datetime",
            Kind::Uuid => "uuid",
            Kind::Decimal => "decimal",
            Kind::Json => "json",
            Kind::UInt64 => "uint64",
            Kind::Blob => "blob",
        }
    }
}

impl CoreType {
    /// The buffer kind a fetch returns for this type.
    pub fn kind(&self) -> Kind {
        match self {
            CoreType::Int8 => Kind::Int8,
            CoreType::Int16 => Kind::Int16,
            CoreType::Int32 => Kind::Int32,
            CoreType::Int64 => Kind::Int64,
            CoreType::Float32 => Kind::Float32,
            CoreType::Float64 => Kind::Float64,
            CoreType::Bool => Kind::Bool,
            CoreType::Decimal(..) => Kind::Decimal,
            CoreType::Char(_) | CoreType::Varchar(_) | CoreType::Enum(_) => Kind::String,
            CoreType::Date => Kind::Date,
            CoreType::Datetime(_) => Kind::Datetime,
            CoreType::Bytes => Kind::Bytes,
            CoreType::Json => Kind::Json,
            CoreType::Uuid => Kind::Uuid,
        }
    }

    /// Canonical spelling (used when no declared spelling is available).
    pub fn canonical(&self) -> String {
        match self {
            CoreType::Int8 => "int8".into(),
            CoreType::Int16 => "int16".into(),
            CoreType::Int32 => "int32".into(),
            CoreType::Int64 => "int64".into(),
            CoreType::Float32 => "float32".into(),
            CoreType::Float64 => "float64".into(),
            CoreType::Bool => "bool".into(),
            CoreType::Decimal(p, s) => format!("decimal({p},{s})"),
            CoreType::Char(n) => format!("char({n})"),
            CoreType::Varchar(n) => format!("varchar({n})"),
            CoreType::Date => "date".into(),
            CoreType::Datetime(None) => "datetime".into(),
            CoreType::Datetime(Some(n)) => format!("datetime({n})"),
            CoreType::Bytes => "bytes".into(),
            CoreType::Json => "json".into(),
            CoreType::Uuid => "uuid".into(),
            CoreType::Enum(v) => {
                let items: Vec<String> = v
                    .iter()
                    .map(|s| format!("'{}'", s.replace('\'', "''")))
                    .collect();
                format!("enum({})", items.join(","))
            }
        }
    }
}

impl AttrType {
    pub fn kind(&self) -> Kind {
        match self {
            AttrType::Core(c) => c.kind(),
            // Codec columns are surfaced raw until their codec is implemented: JSON metadata or bytes.
            AttrType::Codec { store: Some(_), .. } => Kind::Json,
            AttrType::Codec { store: None, .. } => Kind::Bytes,
            AttrType::Native(n) => n.kind(),
            AttrType::Computed => Kind::String,
        }
    }
    /// The buffer kind a fetch returns, after codecs decode: `<blob>` value trees, `<hash@>`
    /// bytes, `<attach>` local paths; the other codecs keep their JSON metadata.
    pub fn result_kind(&self) -> Kind {
        match self {
            AttrType::Codec { name, .. } => match name.as_str() {
                "blob" => Kind::Blob,
                "hash" => Kind::Bytes,
                "attach" => Kind::String,
                _ => self.kind(),
            },
            _ => self.kind(),
        }
    }
    /// A codec whose values are hash-addressed objects in a store (`<blob@>`, `<attach@>`,
    /// `<hash@>`).
    pub fn is_hash_object(&self) -> bool {
        matches!(self, AttrType::Codec { name, store: Some(_) } if matches!(name.as_str(), "blob" | "attach" | "hash"))
    }
    pub fn codec_name(&self) -> Option<&str> {
        match self {
            AttrType::Codec { name, .. } => Some(name),
            _ => None,
        }
    }
    pub fn core(&self) -> Option<&CoreType> {
        match self {
            AttrType::Core(c) => Some(c),
            _ => None,
        }
    }
    /// Blob-like and JSON attributes may not be part of a primary key.
    pub fn allowed_in_key(&self) -> bool {
        !matches!(
            self,
            AttrType::Core(CoreType::Json)
                | AttrType::Core(CoreType::Bytes)
                | AttrType::Codec { .. }
        ) && !matches!(self, AttrType::Native(n) if matches!(n.repr, NativeRepr::Bytes | NativeRepr::Json))
    }
}

fn re(cell: &'static OnceLock<Regex>, pat: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pat).expect("static regex"))
}

/// Parse a declared type (trimmed text as written in the definition).
pub fn parse_type(text: &str) -> Result<AttrType> {
    static NUM: OnceLock<Regex> = OnceLock::new();
    static DEC: OnceLock<Regex> = OnceLock::new();
    static STR: OnceLock<Regex> = OnceLock::new();
    static DT: OnceLock<Regex> = OnceLock::new();
    static CODEC: OnceLock<Regex> = OnceLock::new();
    let t = text.trim();
    if t.is_empty() {
        return Err(Error::definition("missing type"));
    }
    if t.starts_with('<') {
        let c = re(
            &CODEC,
            r"^<\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:@\s*([A-Za-z0-9_\-]*)\s*)?>$",
        );
        let caps = c
            .captures(t)
            .ok_or_else(|| Error::definition(format!("malformed codec type '{t}'")))?;
        let name = caps[1].to_string();
        let store = if t.contains('@') {
            Some(
                caps.get(2)
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default(),
            )
        } else {
            None
        };
        return Ok(AttrType::Codec { name, store });
    }
    let lower = t.to_ascii_lowercase();
    let simple = match lower.as_str() {
        "int8" => Some(CoreType::Int8),
        "int16" => Some(CoreType::Int16),
        "int32" => Some(CoreType::Int32),
        "int64" => Some(CoreType::Int64),
        "float32" => Some(CoreType::Float32),
        "float64" => Some(CoreType::Float64),
        "bool" | "boolean" => Some(CoreType::Bool),
        "date" => Some(CoreType::Date),
        "datetime" => Some(CoreType::Datetime(None)),
        "bytes" => Some(CoreType::Bytes),
        "json" | "jsonb" => Some(CoreType::Json),
        "uuid" => Some(CoreType::Uuid),
        _ => None,
    };
    if let Some(c) = simple {
        return Ok(AttrType::Core(c));
    }
    let num = re(&NUM, r"^(int8|int16|int32|int64|float32|float64)\s*\(");
    if num.is_match(&lower) {
        return Err(Error::definition(format!("type '{t}' takes no arguments")));
    }
    let dec = re(
        &DEC,
        r"^(decimal|numeric)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$",
    );
    if let Some(c) = dec.captures(&lower) {
        let p: u32 = c[2]
            .parse()
            .map_err(|_| Error::definition(format!("bad precision in '{t}'")))?;
        let s: u32 = match c.get(3) {
            Some(m) => m
                .as_str()
                .parse()
                .map_err(|_| Error::definition(format!("bad scale in '{t}'")))?,
            None => 0,
        };
        if p == 0 || p > 38 {
            return Err(Error::definition(format!(
                "decimal precision must be 1..38 in '{t}'"
            )));
        }
        if s > p {
            return Err(Error::definition(format!(
                "decimal scale exceeds precision in '{t}'"
            )));
        }
        return Ok(AttrType::Core(CoreType::Decimal(p as u8, s as u8)));
    }
    let st = re(&STR, r"^(char|varchar)\s*\(\s*(\d+)\s*\)$");
    if let Some(c) = st.captures(&lower) {
        let n: u32 = c[2]
            .parse()
            .map_err(|_| Error::definition(format!("bad length in '{t}'")))?;
        if n == 0 || n > 65535 {
            return Err(Error::definition(format!(
                "string length must be 1..65535 in '{t}'"
            )));
        }
        return Ok(AttrType::Core(if &c[1] == "char" {
            CoreType::Char(n)
        } else {
            CoreType::Varchar(n)
        }));
    }
    let dt = re(&DT, r"^datetime\s*\(\s*(\d+)\s*\)$");
    if let Some(c) = dt.captures(&lower) {
        let n: u32 = c[1].parse().unwrap_or(99);
        if n > 6 {
            return Err(Error::definition(format!(
                "datetime precision must be 0..6 in '{t}'"
            )));
        }
        return Ok(AttrType::Core(CoreType::Datetime(Some(n as u8))));
    }
    if lower.starts_with("enum") {
        return parse_enum(t).map(|v| AttrType::Core(CoreType::Enum(v)));
    }
    if let Some(n) = parse_native(t, false) {
        return Ok(AttrType::Native(n));
    }
    if lower.starts_with("char") || lower.starts_with("varchar") {
        return Err(Error::definition(format!(
            "type '{t}' needs a length, e.g. varchar(255)"
        )));
    }
    if lower.starts_with("decimal") || lower.starts_with("numeric") {
        return Err(Error::definition(format!(
            "type '{t}' needs a precision, e.g. decimal(10,2)"
        )));
    }
    Err(Error::definition(format!(
        "unknown type '{t}'; use a core type: int8, int16, int32, int64, float32, float64, bool, \
         decimal(p,s), char(n), varchar(n), date, datetime[(n)], bytes, json, uuid, enum(...), \
         or a native SQL type the reference accepts (int unsigned, double, longblob, …)"
    )))
}

/// Parse `enum('a','b',...)`; values may be single- or double-quoted, `''` escapes a quote.
fn parse_enum(t: &str) -> Result<Vec<String>> {
    let bad = || Error::definition(format!("malformed enum type '{t}'"));
    let open = t.find('(').ok_or_else(bad)?;
    if !t[..open].trim().eq_ignore_ascii_case("enum") || !t.ends_with(')') {
        return Err(bad());
    }
    let inner = &t[open + 1..t.len() - 1];
    let chars: Vec<char> = inner.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let q = chars[i];
        if q != '\'' && q != '"' {
            return Err(bad());
        }
        i += 1;
        let mut s = String::new();
        loop {
            if i >= chars.len() {
                return Err(bad());
            }
            if chars[i] == q {
                if i + 1 < chars.len() && chars[i + 1] == q {
                    s.push(q);
                    i += 2;
                    continue;
                }
                i += 1;
                break;
            }
            s.push(chars[i]);
            i += 1;
        }
        out.push(s);
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i < chars.len() {
            if chars[i] != ',' {
                return Err(bad());
            }
            i += 1;
        }
    }
    if out.is_empty() {
        return Err(Error::definition(format!("enum '{t}' has no values")));
    }
    let mut seen = std::collections::HashSet::new();
    for v in &out {
        if !seen.insert(v) {
            return Err(Error::definition(format!(
                "enum '{t}' repeats the value '{v}'"
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_core_types() {
        assert_eq!(
            parse_type("int32").unwrap(),
            AttrType::Core(CoreType::Int32)
        );
        assert_eq!(
            parse_type("INT64").unwrap(),
            AttrType::Core(CoreType::Int64)
        );
        assert_eq!(
            parse_type("decimal(10, 2)").unwrap(),
            AttrType::Core(CoreType::Decimal(10, 2))
        );
        assert_eq!(
            parse_type("varchar(30)").unwrap(),
            AttrType::Core(CoreType::Varchar(30))
        );
        assert_eq!(
            parse_type("datetime(3)").unwrap(),
            AttrType::Core(CoreType::Datetime(Some(3)))
        );
        assert_eq!(
            parse_type("enum('M','F', 'it''s')").unwrap(),
            AttrType::Core(CoreType::Enum(vec!["M".into(), "F".into(), "it's".into()]))
        );
        assert_eq!(
            parse_type("<blob@main>").unwrap(),
            AttrType::Codec {
                name: "blob".into(),
                store: Some("main".into())
            }
        );
        assert_eq!(
            parse_type("<npy@>").unwrap(),
            AttrType::Codec {
                name: "npy".into(),
                store: Some("".into())
            }
        );
    }

    #[test]
    fn parses_native_types() {
        let n = |t: &str| match parse_type(t).unwrap() {
            AttrType::Native(n) => n,
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(n("int unsigned").kind(), Kind::Int64);
        assert_eq!(n("INT(10) UNSIGNED").sql, "int unsigned");
        assert_eq!(n("tinyint").kind(), Kind::Int8);
        assert_eq!(n("tinyint unsigned").int_range(), Some((0, 255)));
        assert_eq!(n("bigint unsigned").kind(), Kind::UInt64);
        assert_eq!(n("smallint unsigned").kind(), Kind::Int32);
        assert_eq!(n("float").kind(), Kind::Float32);
        assert_eq!(n("double").kind(), Kind::Float64);
        assert_eq!(n("longblob").kind(), Kind::Bytes);
        assert_eq!(n("timestamp(3)").repr, NativeRepr::Datetime(Some(3)));
        assert_eq!(n("time").repr, NativeRepr::Time);
        assert_eq!(n("year").kind(), Kind::Int16);
        assert_eq!(n("text").kind(), Kind::String);
        assert_eq!(
            n("decimal(10,2) unsigned").repr,
            NativeRepr::Decimal(Some((10, 2)))
        );
        let c = parse_native("character varying(30)", true).unwrap();
        assert_eq!(c.repr, NativeRepr::Text(Some(30)));
        assert_eq!(
            parse_native("timestamp(6) without time zone", true)
                .unwrap()
                .repr,
            NativeRepr::Datetime(Some(6))
        );
        assert_eq!(
            parse_native("geometry", true).unwrap().repr,
            NativeRepr::Other
        );
    }

    #[test]
    fn rejects_bad_types() {
        for t in [
            "decimal(0,0)",
            "decimal(5,6)",
            "varchar",
            "varchar(0)",
            "datetime(7)",
            "enum()",
            "enum('a'",
            "int32(4)",
            "<blob",
            "int24",
            "tinyinteger",
            "bytea",
        ] {
            assert!(parse_type(t).is_err(), "{t} should be rejected");
        }
    }
}
