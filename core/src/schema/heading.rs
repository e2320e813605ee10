//! A table's heading: its visible attributes, primary key and comment. Built from a definition
//! on declaration, or read back from the database's catalog (column comments `:type:comment`).

use crate::declare::Default;
use crate::types::AttrType;

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
