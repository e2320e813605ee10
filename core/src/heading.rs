//! A table's heading: its visible attributes, primary key and comment. Built from a definition
//! on declaration, or read back from the database's catalog (column comments `:type:comment`).

use crate::declare::Default;
use crate::error::{Error, Result};
use crate::types::{parse_type, AttrType, CoreType};

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub ty: AttrType,
    /// Declared spelling recorded in the column comment (`int32`, `varchar(30)`, `<npy@main>`).
    pub declared_type: String,
    pub in_key: bool,
    pub nullable: bool,
    pub default: Option<Default>,
    pub comment: String,
}

impl Attribute {
    /// The column comment the reference writes: `:type:comment`, with `"` escaped as `\"`.
    pub fn sql_comment(&self) -> String {
        format!(
            ":{}:{}",
            self.declared_type,
            self.comment.replace('"', "\\\"")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Heading {
    pub attributes: Vec<Attribute>,
    pub comment: String,
}

impl Heading {
    pub fn get(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.attributes.iter().position(|a| a.name == name)
    }
    pub fn primary_key(&self) -> impl Iterator<Item = &Attribute> {
        self.attributes.iter().filter(|a| a.in_key)
    }
    pub fn primary_key_names(&self) -> Vec<String> {
        self.primary_key().map(|a| a.name.clone()).collect()
    }
    pub fn names(&self) -> Vec<String> {
        self.attributes.iter().map(|a| a.name.clone()).collect()
    }
}

/// Split a column comment into (declared type, user comment) if it carries the `:type:` marker.
pub fn parse_column_comment(comment: &str) -> Option<(String, String)> {
    let rest = comment.strip_prefix(':')?;
    let end = rest.find(':')?;
    let ty = &rest[..end];
    if ty.is_empty() {
        return None;
    }
    Some((ty.to_string(), rest[end + 1..].replace("\\\"", "\"")))
}

/// One column as a backend's catalog describes it.
pub struct CatalogColumn<'a> {
    pub name: &'a str,
    /// The SQL type as the catalog spells it.
    pub sql_type: &'a str,
    pub comment: Option<&'a str>,
    pub in_key: bool,
    pub nullable: bool,
    pub default: Option<Default>,
}

/// Build an attribute from catalog information. `sql_type_guess` maps the backend's SQL type
/// to a core type when the column has no `:type:` marker (e.g. FK-inherited columns on PG).
pub fn attribute_from_catalog(
    table: &str,
    col: CatalogColumn,
    sql_type_guess: impl FnOnce() -> Option<CoreType>,
) -> Result<Attribute> {
    let CatalogColumn {
        name,
        sql_type,
        comment,
        in_key,
        nullable,
        default,
    } = col;
    let (declared, user_comment) = match comment.and_then(parse_column_comment) {
        Some(x) => x,
        None => {
            let c = comment.unwrap_or("").to_string();
            match sql_type_guess() {
                Some(core) => (core.canonical(), c),
                None => {
                    return Ok(Attribute {
                        name: name.to_string(),
                        ty: AttrType::Native(sql_type.to_ascii_lowercase()),
                        declared_type: sql_type.to_ascii_lowercase(),
                        in_key,
                        nullable,
                        default,
                        comment: c,
                    })
                }
            }
        }
    };
    if declared.starts_with("external") {
        return Err(Error::new(
            crate::error::ErrorCode::Unsupported,
            format!(
                "table `{table}`, attribute '{name}': legacy type '{declared}' must be migrated to DataJoint 2.x first"
            ),
        ));
    }
    let ty = parse_type(&declared).map_err(|e| {
        Error::definition(format!(
            "table `{table}`, attribute '{name}': unreadable type marker: {}",
            e.message
        ))
    })?;
    Ok(Attribute {
        name: name.to_string(),
        ty,
        declared_type: declared,
        in_key,
        nullable,
        default,
        comment: user_comment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn comments() {
        assert_eq!(
            parse_column_comment(":int32:id"),
            Some(("int32".into(), "id".into()))
        );
        assert_eq!(
            parse_column_comment(":<blob@main>:"),
            Some(("<blob@main>".into(), "".into()))
        );
        assert_eq!(
            parse_column_comment(":varchar(30):a \\\"q\\\": b"),
            Some(("varchar(30)".into(), "a \"q\": b".into()))
        );
        assert_eq!(parse_column_comment("plain"), None);
    }
}
