//! Parser for DataJoint table definitions (datajoint-storage.md §2.1). It produces a
//! [`Definition`]; resolving foreign keys against parent tables happens in `schema.rs`.

use crate::error::{Error, Result};
use crate::types::{parse_type, AttrType, CoreType};
use regex::Regex;
use std::sync::OnceLock;

/// The default of an attribute as declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Default {
    /// `= NULL`: the attribute is nullable.
    Null,
    /// An SQL expression kept verbatim (`CURRENT_TIMESTAMP`, `CURRENT_TIMESTAMP(3)`).
    Expression(String),
    /// A literal value (quotes removed); rendered as a quoted SQL literal.
    Literal(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttrDecl {
    pub name: String,
    /// The type exactly as written (trimmed); recorded in the column comment.
    pub declared_type: String,
    pub ty: AttrType,
    pub default: Option<Default>,
    pub comment: String,
}

impl AttrDecl {
    pub fn nullable(&self) -> bool {
        matches!(self.default, Some(Default::Null))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKeyDecl {
    /// As written: `Parent`, `Master.Part`, or `master` inside a part table.
    pub parent: String,
    pub nullable: bool,
    pub unique: bool,
    /// `(new, old)` renames from `Parent.proj(new='old')`.
    pub renames: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexDecl {
    pub unique: bool,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    Attribute(AttrDecl),
    ForeignKey(ForeignKeyDecl),
    Index(IndexDecl),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    /// Above the `---` divider.
    pub in_key: bool,
    /// 1-based line number in the definition, for error messages.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Definition {
    pub comment: String,
    pub items: Vec<Item>,
}

fn line_err(line_no: usize, line: &str, msg: impl std::fmt::Display) -> Error {
    Error::definition(format!("line {line_no} `{line}`: {msg}"))
}

fn re(cell: &'static OnceLock<Regex>, pat: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pat).expect("static regex"))
}

/// Position of the first occurrence of `target` outside single/double quotes.
fn find_unquoted(s: &str, target: char) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == target => return Some(i),
            None => {}
        }
    }
    None
}

/// Parse a full definition string.
pub fn parse_definition(text: &str) -> Result<Definition> {
    let mut def = Definition::default();
    let mut in_key = true;
    let mut seen_divider = false;
    let mut first_seen = false;
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw.trim();
        if !first_seen && !line.is_empty() {
            first_seen = true;
            // The first non-blank line is the table comment when it starts with '#'.
            if let Some(c) = line.strip_prefix('#') {
                let c = c.trim();
                if c.starts_with(':') {
                    return Err(line_err(
                        line_no,
                        line,
                        "a table comment may not start with ':'",
                    ));
                }
                def.comment = c.to_string();
                continue;
            }
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("---") {
            if !line.chars().all(|c| c == '-') {
                return Err(line_err(
                    line_no,
                    line,
                    "the primary-key divider must be dashes only",
                ));
            }
            if seen_divider {
                return Err(line_err(line_no, line, "a second primary-key divider"));
            }
            seen_divider = true;
            in_key = false;
            continue;
        }
        let kind = parse_line(line_no, line)?;
        if let ItemKind::ForeignKey(fk) = &kind {
            if in_key && fk.nullable {
                return Err(line_err(
                    line_no,
                    line,
                    "a primary-key foreign key cannot be nullable",
                ));
            }
        }
        if let ItemKind::Attribute(a) = &kind {
            if in_key && a.nullable() {
                return Err(line_err(
                    line_no,
                    line,
                    format!("primary-key attribute '{}' cannot default to NULL", a.name),
                ));
            }
            if in_key && !a.ty.allowed_in_key() {
                return Err(line_err(
                    line_no,
                    line,
                    format!(
                        "attribute '{}' of type {} cannot be in the primary key",
                        a.name, a.declared_type
                    ),
                ));
            }
        }
        if let ItemKind::Index(_) = &kind {
            def.items.push(Item {
                kind,
                in_key: false,
                line: line_no,
            });
            continue;
        }
        def.items.push(Item {
            kind,
            in_key,
            line: line_no,
        });
    }
    Ok(def)
}

fn parse_line(line_no: usize, line: &str) -> Result<ItemKind> {
    static INDEX: OnceLock<Regex> = OnceLock::new();
    // Foreign key: `->` with no quote or '#' before it.
    if let Some(pos) = line.find("->") {
        let before = &line[..pos];
        if !before.contains(['"', '\'', '#']) {
            if !before.trim().is_empty() {
                return Err(line_err(line_no, line, "unexpected text before '->'"));
            }
            return parse_foreign_key(line_no, line, &line[pos + 2..]).map(ItemKind::ForeignKey);
        }
    }
    let index = re(
        &INDEX,
        r"(?i)^(unique\s+)?index\s*\((?P<cols>[^)]*)\)\s*(?:#.*)?$",
    );
    if let Some(c) = index.captures(line) {
        let cols: Vec<String> = c["cols"].split(',').map(|s| s.trim().to_string()).collect();
        if cols.iter().any(|s| s.is_empty()) {
            return Err(line_err(line_no, line, "empty attribute in index"));
        }
        for col in &cols {
            if !valid_attr_name(col) {
                return Err(line_err(
                    line_no,
                    line,
                    format!(
                        "'{col}' is not an attribute name (index expressions are not supported)"
                    ),
                ));
            }
        }
        return Ok(ItemKind::Index(IndexDecl {
            unique: c.get(1).is_some(),
            columns: cols,
        }));
    }
    let lower = line.to_ascii_lowercase();
    if (lower.starts_with("index") || lower.starts_with("unique")) && !line.contains(':') {
        return Err(line_err(line_no, line, "malformed index"));
    }
    parse_attribute(line_no, line).map(ItemKind::Attribute)
}

fn valid_attr_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_ascii_lowercase())
        && c.all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
}

fn parse_foreign_key(line_no: usize, line: &str, rest: &str) -> Result<ForeignKeyDecl> {
    static REF: OnceLock<Regex> = OnceLock::new();
    let mut rest = rest.trim();
    if let Some(h) = find_unquoted(rest, '#') {
        rest = rest[..h].trim();
    }
    let mut nullable = false;
    let mut unique = false;
    if let Some(r) = rest.strip_prefix('[') {
        let close = r
            .find(']')
            .ok_or_else(|| line_err(line_no, line, "missing ']' after foreign-key options"))?;
        for opt in r[..close].split(',') {
            let o = opt.trim().to_ascii_lowercase();
            match o.as_str() {
                "nullable" => nullable = true,
                "unique" => unique = true,
                "" => {}
                other => {
                    return Err(line_err(
                        line_no,
                        line,
                        format!("unknown foreign-key option '{other}' (allowed: nullable, unique)"),
                    ))
                }
            }
        }
        rest = r[close + 1..].trim();
    }
    if rest.is_empty() {
        return Err(line_err(
            line_no,
            line,
            "missing referenced table after '->'",
        ));
    }
    let reference = re(
        &REF,
        r"^(?P<name>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*?)(?:\.proj\((?P<args>.*)\))?$",
    );
    let caps = reference.captures(rest).ok_or_else(|| {
        line_err(
            line_no,
            line,
            format!(
                "'{rest}' is not a table reference (Parent, Master.Part or Parent.proj(new='old'))"
            ),
        )
    })?;
    let name = caps["name"].to_string();
    if name.split('.').any(|p| p == "proj") {
        return Err(line_err(line_no, line, "malformed .proj(...)"));
    }
    let mut renames = Vec::new();
    if let Some(args) = caps.name("args") {
        for arg in split_top_level(args.as_str()) {
            let arg = arg.trim();
            if arg.is_empty() {
                continue;
            }
            let (new, old) = arg.split_once('=').ok_or_else(|| {
                line_err(
                    line_no,
                    line,
                    format!("projection argument '{arg}' must be new_name='old_name'"),
                )
            })?;
            let new = new.trim();
            let old = old.trim();
            let old = old
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .or_else(|| old.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
                .ok_or_else(|| {
                    line_err(
                        line_no,
                        line,
                        format!("'{old}' in .proj() must be a quoted attribute name"),
                    )
                })?;
            if !valid_attr_name(new) || !valid_attr_name(old) {
                return Err(line_err(
                    line_no,
                    line,
                    format!("invalid attribute name in projection '{arg}'"),
                ));
            }
            renames.push((new.to_string(), old.to_string()));
        }
    }
    Ok(ForeignKeyDecl {
        parent: name,
        nullable,
        unique,
        renames,
    })
}

fn split_top_level(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                cur.push(c)
            }
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                cur.push(c)
            }
            None if c == ',' => out.push(std::mem::take(&mut cur)),
            None => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn parse_attribute(line_no: usize, line: &str) -> Result<AttrDecl> {
    // name
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if name.is_empty() {
        return Err(line_err(
            line_no,
            line,
            "expected `name [= default] : type [# comment]`",
        ));
    }
    if name.starts_with('_') {
        return Err(line_err(
            line_no,
            line,
            format!(
                "attribute name '{name}' may not start with '_' (reserved for hidden attributes)"
            ),
        ));
    }
    if !valid_attr_name(name) {
        return Err(line_err(
            line_no,
            line,
            format!("attribute name '{name}' must be lower case: [a-z][a-z0-9_]*"),
        ));
    }
    let mut rest = line[name_end..].trim_start();
    // default
    let mut default_text: Option<String> = None;
    if let Some(r) = rest.strip_prefix('=') {
        let colon = find_unquoted(r, ':')
            .ok_or_else(|| line_err(line_no, line, "missing ':' before the type"))?;
        let d = r[..colon].trim();
        if d.is_empty() {
            return Err(line_err(line_no, line, "empty default after '='"));
        }
        default_text = Some(d.to_string());
        rest = &r[colon..];
    }
    let rest = rest
        .strip_prefix(':')
        .ok_or_else(|| line_err(line_no, line, "missing ':' between the name and the type"))?
        .trim_start();
    // type and comment
    let (type_text, comment) = if rest.starts_with('<') {
        let close = rest
            .find('>')
            .ok_or_else(|| line_err(line_no, line, "missing '>' in codec type"))?;
        let after = rest[close + 1..].trim();
        let comment = if after.is_empty() {
            ""
        } else if let Some(c) = after.strip_prefix('#') {
            c
        } else {
            return Err(line_err(
                line_no,
                line,
                format!("unexpected '{after}' after the type"),
            ));
        };
        (&rest[..=close], comment)
    } else {
        match find_unquoted(rest, '#') {
            Some(h) => (&rest[..h], &rest[h + 1..]),
            None => (rest, ""),
        }
    };
    let type_text = type_text.trim();
    if type_text.is_empty() {
        return Err(line_err(line_no, line, "missing type after ':'"));
    }
    let ty = parse_type(type_text).map_err(|e| line_err(line_no, line, e.message))?;
    if let AttrType::Codec { name, store } = &ty {
        crate::codecs::check_declared(name, store.as_deref())
            .map_err(|e| line_err(line_no, line, e.message))?;
    }
    let comment = comment.trim();
    if comment.starts_with(':') {
        return Err(line_err(
            line_no,
            line,
            "an attribute comment may not start with ':'",
        ));
    }
    let default = default_text.map(|d| parse_default(&d));
    if let (Some(def), AttrType::Core(CoreType::Bytes) | AttrType::Codec { .. }) = (&default, &ty) {
        if *def != Default::Null {
            return Err(line_err(
                line_no,
                line,
                format!("attribute '{name}' of type {type_text} may only default to NULL"),
            ));
        }
    }
    Ok(AttrDecl {
        name: name.to_string(),
        declared_type: type_text.to_string(),
        ty,
        default,
        comment: comment.to_string(),
    })
}

fn parse_default(d: &str) -> Default {
    if d.eq_ignore_ascii_case("null") {
        return Default::Null;
    }
    let head = d.split('(').next().unwrap_or("").trim();
    if head.eq_ignore_ascii_case("current_timestamp") {
        return Default::Expression(d.to_ascii_uppercase());
    }
    if d.len() >= 2
        && ((d.starts_with('"') && d.ends_with('"')) || (d.starts_with('\'') && d.ends_with('\'')))
    {
        let q = &d[..1];
        let inner = &d[1..d.len() - 1];
        return Default::Literal(inner.replace(&format!("{q}{q}"), q));
    }
    Default::Literal(d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_grammar() {
        let def = parse_definition(
            "# a session of recording
            -> Subject
            session_id : int16   # session number
            ---
            -> [nullable] Rig
            -> [unique] Operator.proj(experimenter='operator_id')
            session_date = CURRENT_TIMESTAMP : datetime(3)
            note = \"n/a: none\" : varchar(255) # the note
            weight = null : float64
            mode = 'a' : enum('a', 'b # c')
            unique index(note)
            index (session_date, weight)  # speed
            ",
        )
        .unwrap();
        assert_eq!(def.comment, "a session of recording");
        assert_eq!(def.items.len(), 10);
        let ItemKind::ForeignKey(fk) = &def.items[0].kind else {
            panic!()
        };
        assert_eq!(fk.parent, "Subject");
        assert!(def.items[0].in_key);
        let ItemKind::Attribute(a) = &def.items[1].kind else {
            panic!()
        };
        assert_eq!(
            (a.name.as_str(), a.comment.as_str()),
            ("session_id", "session number")
        );
        let ItemKind::ForeignKey(fk) = &def.items[2].kind else {
            panic!()
        };
        assert!(fk.nullable && !def.items[2].in_key);
        let ItemKind::ForeignKey(fk) = &def.items[3].kind else {
            panic!()
        };
        assert!(fk.unique);
        assert_eq!(
            fk.renames,
            vec![("experimenter".to_string(), "operator_id".to_string())]
        );
        let ItemKind::Attribute(a) = &def.items[4].kind else {
            panic!()
        };
        assert_eq!(
            a.default,
            Some(Default::Expression("CURRENT_TIMESTAMP".into()))
        );
        let ItemKind::Attribute(a) = &def.items[5].kind else {
            panic!()
        };
        assert_eq!(a.default, Some(Default::Literal("n/a: none".into())));
        assert_eq!(a.comment, "the note");
        let ItemKind::Attribute(a) = &def.items[6].kind else {
            panic!()
        };
        assert!(a.nullable());
        let ItemKind::Attribute(a) = &def.items[7].kind else {
            panic!()
        };
        assert_eq!(
            a.ty,
            AttrType::Core(CoreType::Enum(vec!["a".into(), "b # c".into()]))
        );
        let ItemKind::Index(i) = &def.items[8].kind else {
            panic!()
        };
        assert!(i.unique && i.columns == vec!["note".to_string()]);
    }
}
