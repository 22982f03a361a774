//! The registered checks, one module per family; each check ties a theory id to code.

pub mod common;
pub mod dimpled;
pub mod explain;
pub mod kkt;
pub mod malt;
pub mod subspace;
pub mod unlearn;

use crate::check::Check;
use crate::error::{Error, Result};

/// Every registered check, in documentation order.
pub fn registry() -> Vec<Box<dyn Check>> {
    let mut v: Vec<Box<dyn Check>> = Vec::new();
    v.extend(kkt::checks());
    v.extend(unlearn::checks());
    v.extend(subspace::checks());
    v.extend(dimpled::checks());
    v.extend(malt::checks());
    v.extend(explain::checks());
    v
}

/// The checks selected by `target`: a check id, a family name, or `all`.
pub fn select(target: &str) -> Result<Vec<Box<dyn Check>>> {
    let all = registry();
    if target == "all" {
        return Ok(all);
    }
    let chosen: Vec<Box<dyn Check>> = all
        .into_iter()
        .filter(|c| c.id() == target || c.id().split('.').next() == Some(target))
        .collect();
    if chosen.is_empty() {
        return Err(Error::UnknownCheck(target.to_string()));
    }
    Ok(chosen)
}
