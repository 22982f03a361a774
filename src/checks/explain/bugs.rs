//! `explain.bugs`: the reference code's position pitfall (explain.md §4): the explanation of a
//! left-padded text names the word whose slot carries the gradient, with and without
//! out-of-vocabulary words, where the reference code's leading-slot reading does not. The other
//! pitfalls (a surrogate equal to f₀, fewer than three agreeing surrogates) are properties of
//! `select_models` and are its unit tests (`explain::tests::preconditions_are_errors`).

use crate::check::{Agg, Check, Ctx, Evidence};
use crate::error::Result;
use crate::explain::scores;
use crate::explain::text::{leading_slot_scores, left_pad, word_scores};
use crate::rng::{self, stream};
use nalgebra::DMatrix;
use std::collections::HashMap;

pub struct Bugs;

/// The parameters of `theory/explain.bugs.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    seed: u64,
}

/// The word named first by IP for a text whose gradient is non-zero only in `target`'s slot.
fn named(
    words: &[&str],
    vocab: &HashMap<String, usize>,
    target: &str,
    slots: usize,
    seed: u64,
) -> Result<(Option<String>, Option<String>)> {
    let padded = left_pad(words, vocab, slots)?;
    let t_idx = words.iter().position(|w| *w == target).unwrap_or(0);
    let slot = padded.word_slot[t_idx].unwrap_or(0);
    let mut r = rng::seeded(seed, stream::DIRECTIONS);
    let shared = rng::gaussian_matrix(&mut r, 1, 8, 1.0);
    let grads: Vec<DMatrix<f64>> = (0..4)
        .map(|_| {
            let mut g = DMatrix::zeros(slots, 8);
            let row = &shared + rng::gaussian_matrix(&mut r, 1, 8, 0.1);
            g.row_mut(slot).copy_from(&row);
            g
        })
        .collect();
    let sc = scores(&grads)?;
    let per_word = word_scores(&padded, &sc.ip);
    let best = per_word
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (i, s)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| words[i].to_string());
    let leading = leading_slot_scores(words.len(), &sc.ip);
    let buggy = leading
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .filter(|(_, s)| **s > 0.0)
        .map(|(i, _)| words[i].to_string());
    Ok((best, buggy))
}

impl Check for Bugs {
    fn id(&self) -> &'static str {
        "explain.bugs"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let P { seed } = ctx.params()?;
        let vocab: HashMap<String, usize> = ["this", "movie", "was", "good", "but", "plot", "bad"]
            .iter()
            .enumerate()
            .map(|(i, w)| (w.to_string(), i + 1))
            .collect();
        let clean = [
            "this", "movie", "was", "good", "but", "the", "plot", "was", "bad",
        ];
        let with_oov = [
            "this", "zzz", "movie", "qqq", "was", "good", "but", "the", "plot", "was", "bad",
        ];
        let mut wrong = 0;
        let mut buggy_right = 0;
        let texts = [&clean[..], &with_oov[..]];
        for words in texts {
            let (best, buggy) = named(words, &vocab, "good", 16, seed)?;
            wrong += usize::from(best.as_deref() != Some("good"));
            buggy_right += usize::from(buggy.as_deref() == Some("good"));
        }
        let mut ev = ctx.evidence();
        ev.record("word_map", Agg::count(wrong, texts.len()))
            .record("control.leading_slot", Agg::count(buggy_right, texts.len()));
        Ok(ev)
    }
}
