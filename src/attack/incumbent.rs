//! The per-row bookkeeping of an iterative attack, written once: the rows of a batch still
//! attacked ([`Live`]) and the point kept for every row with its score ([`Incumbent`]).
//!
//! An iteration attacks the live rows (the selection `x[live]`), gets one candidate and one
//! score per live row, and a candidate replaces the kept point of its row only where its score
//! is strictly better: ties and NaN keep the incumbent. The attacks differ only in the score and
//! in which rows stay live:
//!
//! | attack | kept point (score, better) | rows dropped |
//! |---|---|---|
//! | APGD (Croce & Hein 2020) | the iterate of largest loss (L, larger) and the last successful iterate | restarts skip the rows already broken |
//! | FAB-T | the misclassified iterate of smallest norm (‖δ‖, smaller; +∞ for a correct one) | none |
//! | Square | the query of smallest margin (z_y − max_{c≠y} z_c, smaller) | rows with a negative margin |
//! | DeepFool | the accumulated step | rows misclassified or out of iterations |
//! | the pipelines ([`mod@super::campaign`]) | every verified success | rows broken |
//!
//! Copies run column by column (the storage order), so a scatter costs one pass over the
//! columns it touches.

use nalgebra::DMatrix;

/// Copies row `r` of `src` into row `rows[r]` of `dst` wherever `take[r]`.
///
/// # Panics
/// If `src` does not have one row per entry of `rows` and of `take`, or the column counts
/// differ (a programming error of the caller, not bad input).
pub fn scatter_rows(dst: &mut DMatrix<f64>, rows: &[usize], src: &DMatrix<f64>, take: &[bool]) {
    assert!(
        src.nrows() == rows.len() && take.len() == rows.len() && src.ncols() == dst.ncols(),
        "scatter of {} × {} rows into {} × {} with {} targets and {} flags",
        src.nrows(),
        src.ncols(),
        dst.nrows(),
        dst.ncols(),
        rows.len(),
        take.len()
    );
    for j in 0..dst.ncols() {
        for (r, (&i, &t)) in rows.iter().zip(take).enumerate() {
            if t {
                dst[(i, j)] = src[(r, j)];
            }
        }
    }
}

/// The rows of a batch an attack still works on, in increasing order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Live {
    rows: Vec<usize>,
}

impl Live {
    /// Every row of a batch of `n`.
    pub fn all(n: usize) -> Self {
        Self {
            rows: (0..n).collect(),
        }
    }

    /// The rows `i < n` with `keep(i)`.
    pub fn filter(n: usize, keep: impl FnMut(&usize) -> bool) -> Self {
        Self {
            rows: (0..n).filter(keep).collect(),
        }
    }

    /// The live rows (indices into the batch).
    pub fn rows(&self) -> &[usize] {
        &self.rows
    }

    /// How many rows are live.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row is live.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The live rows of a batch matrix.
    pub fn select(&self, m: &DMatrix<f64>) -> DMatrix<f64> {
        m.select_rows(&self.rows)
    }

    /// The live entries of a per-row vector.
    pub fn gather<T: Copy>(&self, v: &[T]) -> Vec<T> {
        self.rows.iter().map(|&i| v[i]).collect()
    }

    /// Keeps the live rows whose position `r` (in the selection) has `keep[r]`.
    ///
    /// # Panics
    /// If `keep` does not have one flag per live row.
    pub fn retain(&mut self, keep: &[bool]) {
        assert_eq!(keep.len(), self.rows.len(), "one flag per live row");
        let mut flags = keep.iter();
        self.rows.retain(|_| *flags.next().unwrap_or(&false));
    }
}

/// Which score is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The smaller score wins (a norm, a margin).
    Smaller,
    /// The larger score wins (a loss).
    Larger,
}

impl Keep {
    /// Whether `candidate` is strictly better than `kept` (false for a tie or a NaN).
    pub fn better(self, candidate: f64, kept: f64) -> bool {
        match self {
            Keep::Smaller => candidate < kept,
            Keep::Larger => candidate > kept,
        }
    }
}

/// The point kept for every row of a batch and its score.
#[derive(Clone, Debug, PartialEq)]
pub struct Incumbent {
    x: DMatrix<f64>,
    score: Vec<f64>,
    keep: Keep,
}

impl Incumbent {
    /// Starts from the points `x` with their scores.
    ///
    /// # Panics
    /// If `score` does not have one entry per row of `x`.
    pub fn new(x: DMatrix<f64>, score: Vec<f64>, keep: Keep) -> Self {
        assert_eq!(score.len(), x.nrows(), "one score per kept point");
        Self { x, score, keep }
    }

    /// Offers `candidates` (row `r` for the batch row `rows[r]`) with their scores: a candidate
    /// replaces the kept point where its score is strictly better. Returns, per candidate,
    /// whether it replaced.
    ///
    /// # Panics
    /// If the candidates do not have one row and one score per entry of `rows`.
    pub fn offer(&mut self, rows: &[usize], candidates: &DMatrix<f64>, score: &[f64]) -> Vec<bool> {
        assert_eq!(score.len(), rows.len(), "one score per candidate");
        let replaced: Vec<bool> = rows
            .iter()
            .zip(score)
            .map(|(&i, &s)| self.keep.better(s, self.score[i]))
            .collect();
        scatter_rows(&mut self.x, rows, candidates, &replaced);
        for ((&i, &s), &r) in rows.iter().zip(score).zip(&replaced) {
            if r {
                self.score[i] = s;
            }
        }
        replaced
    }

    /// The kept points.
    pub fn x(&self) -> &DMatrix<f64> {
        &self.x
    }

    /// The kept scores.
    pub fn score(&self) -> &[f64] {
        &self.score
    }

    /// The kept points and their scores.
    pub fn into_parts(self) -> (DMatrix<f64>, Vec<f64>) {
        (self.x, self.score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scatter_writes_only_the_flagged_rows_to_their_targets() {
        let mut dst = DMatrix::from_fn(4, 2, |i, j| (10 * i + j) as f64);
        let src = DMatrix::from_fn(3, 2, |i, j| -((10 * i + j) as f64) - 1.0);
        scatter_rows(&mut dst, &[3, 0, 2], &src, &[true, false, true]);
        let want = DMatrix::from_row_slice(4, 2, &[0., 1., 10., 11., -21., -22., -1., -2.]);
        assert_eq!(dst, want);
    }

    #[test]
    #[should_panic(expected = "scatter of")]
    fn scatter_refuses_a_source_of_the_wrong_height() {
        let mut dst = DMatrix::zeros(3, 2);
        scatter_rows(&mut dst, &[0, 1], &DMatrix::zeros(3, 2), &[true, true]);
    }

    #[test]
    fn live_rows_select_gather_and_retain_in_order() {
        let mut live = Live::filter(5, |&i| i != 1);
        assert_eq!(live.rows(), &[0, 2, 3, 4]);
        assert_eq!((live.len(), live.is_empty()), (4, false));
        let m = DMatrix::from_fn(5, 2, |i, j| (10 * i + j) as f64);
        assert_eq!(live.select(&m), m.select_rows(&[0, 2, 3, 4]));
        assert_eq!(
            live.gather(&['a', 'b', 'c', 'd', 'e']),
            vec!['a', 'c', 'd', 'e']
        );
        live.retain(&[false, true, false, true]);
        assert_eq!(live.rows(), &[2, 4]);
        live.retain(&[false, false]);
        assert!(live.is_empty());
        assert_eq!(Live::all(3).rows(), &[0, 1, 2]);
    }

    #[test]
    #[should_panic(expected = "one flag per live row")]
    fn retain_refuses_flags_of_the_wrong_length() {
        Live::all(3).retain(&[true]);
    }

    #[test]
    fn better_is_strict_and_nan_never_wins() {
        assert!(Keep::Smaller.better(1.0, 2.0) && !Keep::Smaller.better(2.0, 1.0));
        assert!(Keep::Larger.better(2.0, 1.0) && !Keep::Larger.better(1.0, 2.0));
        for keep in [Keep::Smaller, Keep::Larger] {
            assert!(
                !keep.better(1.0, 1.0),
                "{keep:?}: a tie keeps the incumbent"
            );
            assert!(!keep.better(f64::NAN, 1.0) && !keep.better(1.0, f64::NAN));
        }
        assert!(Keep::Smaller.better(3.0, f64::INFINITY));
        assert!(!Keep::Smaller.better(f64::INFINITY, f64::INFINITY));
    }

    #[test]
    fn a_candidate_replaces_only_where_strictly_better() {
        let x = DMatrix::from_fn(3, 2, |i, _| i as f64);
        let mut inc = Incumbent::new(x, vec![1.0, 2.0, 3.0], Keep::Smaller);
        let cand = DMatrix::from_fn(3, 2, |i, _| 10.0 + i as f64);
        // Row 2 gets a better score, row 0 a tie, row 1 a worse one.
        let replaced = inc.offer(&[2, 0, 1], &cand, &[2.5, 1.0, 7.0]);
        assert_eq!(replaced, vec![true, false, false]);
        assert_eq!(inc.score(), &[1.0, 2.0, 2.5]);
        assert_eq!(inc.x().column(0).as_slice(), &[0.0, 1.0, 10.0]);
        let mut inc = Incumbent::new(DMatrix::zeros(2, 1), vec![0.0, 0.0], Keep::Larger);
        assert_eq!(
            inc.offer(&[0, 1], &DMatrix::from_element(2, 1, 4.0), &[1.0, -1.0]),
            vec![true, false]
        );
        let (x, score) = inc.into_parts();
        assert_eq!((x[(0, 0)], x[(1, 0)], score), (4.0, 0.0, vec![1.0, 0.0]));
    }

    #[test]
    #[should_panic(expected = "one score per candidate")]
    fn offer_refuses_scores_of_the_wrong_length() {
        let mut inc = Incumbent::new(DMatrix::zeros(2, 1), vec![0.0, 0.0], Keep::Larger);
        inc.offer(&[0, 1], &DMatrix::zeros(2, 1), &[1.0]);
    }
}
