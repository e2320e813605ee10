//! Table tiers and the reference's class-name → SQL-table-name rules (datajoint-storage.md §2.3).

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Tier {
    Manual = 0,
    Lookup = 1,
    Imported = 2,
    Computed = 3,
    Part = 4,
}

impl Tier {
    pub fn from_i32(v: i32) -> Option<Tier> {
        Some(match v {
            0 => Tier::Manual,
            1 => Tier::Lookup,
            2 => Tier::Imported,
            3 => Tier::Computed,
            4 => Tier::Part,
            _ => return None,
        })
    }
    pub fn prefix(self) -> &'static str {
        match self {
            Tier::Manual | Tier::Part => "",
            Tier::Lookup => "#",
            Tier::Imported => "_",
            Tier::Computed => "__",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Tier::Manual => "Manual",
            Tier::Lookup => "Lookup",
            Tier::Imported => "Imported",
            Tier::Computed => "Computed",
            Tier::Part => "Part",
        }
    }
}

/// `SessionTrial` → `session_trial`; `ProcessedEMG` → `processed_e_m_g` (every capital after the
/// first gets an underscore, exactly as the reference does). Underscores in the class name are dropped.
pub fn from_camel_case(class_name: &str) -> Result<String> {
    let cleaned: String = class_name.chars().filter(|c| *c != '_').collect();
    let mut chars = cleaned.chars();
    match chars.next() {
        Some(c) if c.is_ascii_uppercase() => {}
        _ => {
            return Err(Error::invalid_arg(format!(
                "class name '{class_name}' must be CamelCase and start with a capital letter"
            )))
        }
    }
    if !cleaned.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::invalid_arg(format!(
            "class name '{class_name}' must be alphanumeric CamelCase"
        )));
    }
    let mut out = String::with_capacity(cleaned.len() + 4);
    for (i, c) in cleaned.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// `session_trial` → `SessionTrial` (inverse for names made by [`from_camel_case`]).
pub fn to_camel_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// SQL table name for a class of a tier. Parts are named by [`part_table_name`].
pub fn table_name(class_name: &str, tier: Tier) -> Result<String> {
    if tier == Tier::Part {
        return Err(Error::invalid_arg(
            "a Part table is declared through its master table",
        ));
    }
    Ok(format!("{}{}", tier.prefix(), from_camel_case(class_name)?))
}

pub fn part_table_name(master_sql_name: &str, part_class: &str) -> Result<String> {
    Ok(format!(
        "{master_sql_name}__{}",
        from_camel_case(part_class)?
    ))
}

/// The tier of an SQL table name, or None for hidden (`~…`) and unrecognised names.
pub fn tier_of(sql_name: &str) -> Option<Tier> {
    if sql_name.starts_with('~') {
        return None;
    }
    let stripped = sql_name
        .strip_prefix("__")
        .or_else(|| sql_name.strip_prefix('_'))
        .or_else(|| sql_name.strip_prefix('#'))
        .unwrap_or(sql_name);
    if stripped.contains("__") {
        return Some(Tier::Part);
    }
    if sql_name.starts_with("__") {
        Some(Tier::Computed)
    } else if sql_name.starts_with('_') {
        Some(Tier::Imported)
    } else if sql_name.starts_with('#') {
        Some(Tier::Lookup)
    } else {
        Some(Tier::Manual)
    }
}

/// The SQL name of a part table's master (`#sess__trial` → `#sess`), None for other tiers.
pub fn master_of(sql_name: &str) -> Option<&str> {
    if tier_of(sql_name) != Some(Tier::Part) {
        return None;
    }
    let prefix = if sql_name.starts_with("__") {
        2
    } else if sql_name.starts_with('_') || sql_name.starts_with('#') {
        1
    } else {
        0
    };
    sql_name[prefix..]
        .find("__")
        .map(|i| &sql_name[..prefix + i])
}

/// Candidate SQL names for a reference written in a definition (`Parent`, `Master.Part`).
pub fn candidate_names(reference: &str) -> Result<Vec<String>> {
    let parts: Vec<&str> = reference.split('.').collect();
    let master = from_camel_case(parts[0])?;
    let mut base: Vec<String> = ["", "#", "_", "__"]
        .iter()
        .map(|p| format!("{p}{master}"))
        .collect();
    for part in &parts[1..] {
        let p = from_camel_case(part)?;
        base = base.into_iter().map(|b| format!("{b}__{p}")).collect();
    }
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn camel() {
        assert_eq!(from_camel_case("SessionTrial").unwrap(), "session_trial");
        assert_eq!(from_camel_case("ProcessedEMG").unwrap(), "processed_e_m_g");
        assert_eq!(from_camel_case("Session2P").unwrap(), "session2_p");
        assert!(from_camel_case("session").is_err());
        assert!(from_camel_case("Bad-Name").is_err());
        assert_eq!(table_name("Subject", Tier::Lookup).unwrap(), "#subject");
        assert_eq!(table_name("Spikes", Tier::Computed).unwrap(), "__spikes");
        assert_eq!(part_table_name("_imp", "P").unwrap(), "_imp__p");
        assert_eq!(tier_of("__session_trial__unit"), Some(Tier::Part));
        assert_eq!(tier_of("#x"), Some(Tier::Lookup));
        assert_eq!(tier_of("~lineage"), None);
        assert_eq!(master_of("#sess__trial"), Some("#sess"));
        assert_eq!(master_of("__rec__unit"), Some("__rec"));
        assert_eq!(master_of("subject"), None);
        assert_eq!(to_camel_case("session_trial"), "SessionTrial");
    }
}
