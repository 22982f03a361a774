//! Text inputs left-padded to a fixed number of slots, and the map from each word of the text to
//! its slot (explain.md §4, bug 1). The reference code left-pads (in-vocabulary tokens are
//! right-aligned) but reads the gradients of the *leading* slots and counts out-of-vocabulary
//! words as if they had slots; an explicit word → slot map avoids both.

use crate::error::{Error, Result};
use std::collections::HashMap;

/// A left-padded text.
#[derive(Clone, Debug, PartialEq)]
pub struct Padded {
    /// Number of slots.
    pub slots: usize,
    /// For each word of the text, its slot (`None` for an out-of-vocabulary word).
    pub word_slot: Vec<Option<usize>>,
    /// Token id per slot (0 = padding).
    pub tokens: Vec<usize>,
}

/// Left-pads the in-vocabulary words of `words` to `slots` slots (ids from `vocab`, 0 is the
/// padding id and must not be used by a word).
pub fn left_pad(words: &[&str], vocab: &HashMap<String, usize>, slots: usize) -> Result<Padded> {
    let ids: Vec<(usize, usize)> = words
        .iter()
        .enumerate()
        .filter_map(|(i, w)| vocab.get(*w).map(|&id| (i, id)))
        .collect();
    if ids.len() > slots {
        return Err(Error::input(format!(
            "{} in-vocabulary words do not fit {slots} slots",
            ids.len()
        )));
    }
    if ids.iter().any(|&(_, id)| id == 0) {
        return Err(Error::input("token id 0 is reserved for padding"));
    }
    let start = slots - ids.len();
    let mut tokens = vec![0; slots];
    let mut word_slot = vec![None; words.len()];
    for (k, &(i, id)) in ids.iter().enumerate() {
        tokens[start + k] = id;
        word_slot[i] = Some(start + k);
    }
    Ok(Padded {
        slots,
        word_slot,
        tokens,
    })
}

/// Per-word scores read through the slot map (`None` for out-of-vocabulary words).
pub fn word_scores(p: &Padded, per_slot: &[f64]) -> Vec<Option<f64>> {
    p.word_slot.iter().map(|s| s.map(|s| per_slot[s])).collect()
}

/// The reference code's reading, kept for the regression control: word i gets slot i.
pub fn leading_slot_scores(n_words: usize, per_slot: &[f64]) -> Vec<f64> {
    per_slot.iter().take(n_words).copied().collect()
}
