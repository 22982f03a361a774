//! Parameter sweeps: a check run over the cartesian product of parameter values, optionally one
//! shard of it, with one JSON record per grid point (so shards from a batch scheduler's array
//! jobs can be merged).
//!
//! Grid points are numbered in row-major order of the `--grid` options (the last varies
//! fastest); shard k of n (1-based) holds the points with index ≡ k − 1 (mod n).

use super::{run, Check, RunConfig};
use crate::error::{Error, Result};
use crate::theory::Theory;
use rayon::prelude::*;
use serde_json::{json, Value};

/// A parameter grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    axes: Vec<(String, Vec<f64>)>,
}

impl Grid {
    /// Parses `name=v1,v2,…` items.
    pub fn parse(items: &[String]) -> Result<Self> {
        if items.is_empty() {
            return Err(Error::input(
                "a sweep needs at least one --grid name=v1,v2,…",
            ));
        }
        let mut axes: Vec<(String, Vec<f64>)> = Vec::new();
        for it in items {
            let (name, vals) = it.split_once('=').ok_or_else(|| {
                Error::input(format!("--grid `{it}` is not of the form name=v1,v2,…"))
            })?;
            let vals = vals
                .split(',')
                .map(|v| {
                    v.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| {
                            Error::input(format!("--grid {name}: `{v}` is not a finite number"))
                        })
                })
                .collect::<Result<Vec<f64>>>()?;
            if axes.iter().any(|(n, _)| n == name) {
                return Err(Error::input(format!("--grid names `{name}` twice")));
            }
            axes.push((name.to_string(), vals));
        }
        Ok(Self { axes })
    }
    /// The axes' names.
    pub fn names(&self) -> Vec<&str> {
        self.axes.iter().map(|(n, _)| n.as_str()).collect()
    }
    /// Number of grid points.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|(_, v)| v.len()).product()
    }
    /// Whether the grid is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The overrides of point `i`.
    pub fn point(&self, mut i: usize) -> Vec<(String, f64)> {
        let mut out = vec![(String::new(), 0.0); self.axes.len()];
        for (a, (name, vals)) in self.axes.iter().enumerate().rev() {
            out[a] = (name.clone(), vals[i % vals.len()]);
            i /= vals.len();
        }
        out
    }
}

/// Parses `k/n` (1 ≤ k ≤ n).
pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let bad = || Error::input(format!("--shard `{s}` must be k/n with 1 ≤ k ≤ n"));
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// The indices of shard k of n.
pub fn shard_points(total: usize, shard: (usize, usize)) -> Vec<usize> {
    (0..total).filter(|i| i % shard.1 == shard.0 - 1).collect()
}

/// Validates every point's parameters against the theory before anything runs.
pub fn validate(theory: &Theory, grid: &Grid, base: &RunConfig, points: &[usize]) -> Result<()> {
    for &i in points {
        let mut cfg = base.clone();
        cfg.overrides.extend(grid.point(i));
        super::resolve_params(theory, &cfg)?;
    }
    Ok(())
}

/// Runs the points in parallel (each record is independent of the schedule) and returns one
/// JSON record per point, in point order; `done` is called after each point.
pub fn run_points(
    check: &dyn Check,
    theory: &Theory,
    grid: &Grid,
    base: &RunConfig,
    points: &[usize],
    done: &(dyn Fn() + Sync),
) -> Vec<Value> {
    let total = grid.len();
    points
        .par_iter()
        .map(|&i| {
            let mut cfg = base.clone();
            let over = grid.point(i);
            cfg.overrides.extend(over.clone());
            let grid_values: serde_json::Map<String, Value> =
                over.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let rec = match run(check, theory, &cfg) {
                Ok(ev) => json!({
                    "check": theory.id, "point": i, "total": total, "grid": grid_values,
                    "verdict": format!("{:?}", ev.outcome()), "evidence": ev,
                }),
                Err(e) => json!({
                    "check": theory.id, "point": i, "total": total, "grid": grid_values,
                    "verdict": "CouldNotRun", "error": e.to_string(),
                }),
            };
            done();
            rec
        })
        .collect()
}

/// Joins shard records: one check, one grid size, no point twice; returns them in point order
/// and the indices still missing.
pub fn merge(records: Vec<Value>) -> Result<(Vec<Value>, Vec<usize>)> {
    let mut by_point: std::collections::BTreeMap<usize, Value> = Default::default();
    let (mut check, mut total) = (None::<String>, None::<usize>);
    for r in records {
        let c = r["check"].as_str().map(str::to_string);
        let t = r["total"].as_u64().map(|v| v as usize);
        let p = r["point"].as_u64().map(|v| v as usize);
        let (Some(c), Some(t), Some(p)) = (c, t, p) else {
            return Err(Error::input(
                "a record lacks `check`, `total` or `point`: not a sweep output",
            ));
        };
        if *check.get_or_insert(c.clone()) != c || *total.get_or_insert(t) != t {
            return Err(Error::input(format!(
                "records from different sweeps: {c} ({t} points) vs {} ({} points)",
                check.unwrap_or_default(),
                total.unwrap_or(0)
            )));
        }
        if let Some(old) = by_point.insert(p, r.clone()) {
            if old != r {
                return Err(Error::input(format!(
                    "grid point {p} appears twice with different results"
                )));
            }
        }
    }
    let missing = (0..total.unwrap_or(0))
        .filter(|i| !by_point.contains_key(i))
        .collect();
    Ok((by_point.into_values().collect(), missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_points_and_shards_cover_the_product_once() {
        let g = Grid::parse(&["a=1,2".into(), "b=10,20,30".into()]).unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(g.point(4), vec![("a".into(), 2.0), ("b".into(), 20.0)]);
        let mut all: Vec<usize> = (1..=4).flat_map(|k| shard_points(6, (k, 4))).collect();
        all.sort();
        assert_eq!(all, (0..6).collect::<Vec<_>>());
        assert!(
            parse_shard("0/3").is_err() && parse_shard("4/3").is_err() && parse_shard("x").is_err()
        );
        assert!(Grid::parse(&["a=1,x".into()]).is_err());
    }
}
