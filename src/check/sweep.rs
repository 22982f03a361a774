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
        let grid = Self { axes };
        grid.checked_len()?;
        Ok(grid)
    }

    /// A grid from its axes (as a sweep record stores them), with the same checks as [`parse`](Self::parse).
    pub fn from_axes(axes: Vec<(String, Vec<f64>)>) -> Result<Self> {
        if axes.is_empty() || axes.iter().any(|(_, v)| v.is_empty()) {
            return Err(Error::input(
                "a sweep grid needs at least one value on every axis",
            ));
        }
        if axes.iter().flat_map(|(_, v)| v).any(|x| !x.is_finite()) {
            return Err(Error::input("a sweep grid's values must be finite"));
        }
        let grid = Self { axes };
        grid.checked_len()?;
        Ok(grid)
    }

    /// The number of points, refused when the product overflows or exceeds
    /// [`crate::limits::MAX_GRID_POINTS`].
    fn checked_len(&self) -> Result<usize> {
        let cap = crate::limits::MAX_GRID_POINTS;
        let mut total: usize = 1;
        for (_, v) in &self.axes {
            total = total
                .checked_mul(v.len())
                .filter(|&t| t <= cap)
                .ok_or_else(|| {
                    Error::input(format!(
                    "the grid has more than {cap} points (the product of its axes' lengths {:?}); \
                     split the sweep",
                    self.axes.iter().map(|(_, v)| v.len()).collect::<Vec<_>>()
                ))
                })?;
        }
        Ok(total)
    }

    /// The axes (name and values), in `--grid` order.
    pub fn axes(&self) -> &[(String, Vec<f64>)] {
        &self.axes
    }
    /// The axes' names.
    pub fn names(&self) -> Vec<&str> {
        self.axes.iter().map(|(n, _)| n.as_str()).collect()
    }
    /// Number of grid points (at most [`crate::limits::MAX_GRID_POINTS`], checked when built).
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

/// Parses `k/n` (1 ≤ k ≤ n ≤ [`crate::limits::MAX_GRID_POINTS`]).
pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let bad = || {
        Error::input(format!(
            "--shard `{s}` must be k/n with 1 ≤ k ≤ n ≤ {}",
            crate::limits::MAX_GRID_POINTS
        ))
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if k == 0 || k > n || n > crate::limits::MAX_GRID_POINTS {
        return Err(bad());
    }
    Ok((k, n))
}

/// The indices of shard k of n.
pub fn shard_points(total: usize, shard: (usize, usize)) -> Vec<usize> {
    (0..total).filter(|i| i % shard.1 == shard.0 - 1).collect()
}

/// Validates every point of the grid (not only one shard's) against the theory and the
/// resource caps before anything runs, so every shard of a sweep refuses the same bad grid.
pub fn validate(theory: &Theory, grid: &Grid, base: &RunConfig) -> Result<()> {
    for (name, _) in &grid.axes {
        if base.overrides.iter().any(|(k, _)| k == name) {
            return Err(Error::input(format!(
                "`{name}` is both swept (--grid) and fixed (--set)"
            )));
        }
    }
    for i in 0..grid.len() {
        let mut cfg = base.clone();
        cfg.overrides.extend(grid.point(i));
        super::resolve_params(theory, &cfg)
            .map_err(|e| Error::input(format!("grid point {i} {:?}: {e}", grid.point(i))))?;
    }
    Ok(())
}

/// What identifies one sweep: the check, the scale, the fixed settings and the grid. Every
/// record carries it, so `merge` can refuse shards of different sweeps.
pub fn identity(theory: &Theory, grid: &Grid, base: &RunConfig) -> Value {
    json!({
        "check": theory.id,
        "scale": format!("{:?}", base.scale).to_lowercase(),
        "seeds": base.seeds,
        "set": base.overrides.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "axes": grid.axes.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "total": grid.len(),
    })
}

/// Runs the points in parallel (each record is independent of the schedule) and returns one
/// JSON record per point, in point order; `done` receives each record as its point finishes
/// (in completion order), so a caller can write it out at once.
pub fn run_points(
    check: &dyn Check,
    theory: &Theory,
    grid: &Grid,
    base: &RunConfig,
    points: &[usize],
    done: &(dyn Fn(&Value) + Sync),
) -> Vec<Value> {
    let total = grid.len();
    let sweep = identity(theory, grid, base);
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
                    "sweep": sweep, "verdict": format!("{:?}", ev.outcome()), "evidence": ev,
                }),
                Err(e) => json!({
                    "check": theory.id, "point": i, "total": total, "grid": grid_values,
                    "sweep": sweep, "verdict": "CouldNotRun", "error": e.to_string(),
                }),
            };
            done(&rec);
            rec
        })
        .collect()
}

/// Joins shard records: one sweep (the same `sweep` identity on every record: check, scale,
/// fixed settings, grid axes and values, total), every point index inside the grid with the
/// grid values of that index, no point twice with different results. Returns the records in
/// point order and the indices still missing (a shard killed at its time limit leaves some).
pub fn merge(records: Vec<Value>) -> Result<(Vec<Value>, Vec<usize>)> {
    if records.is_empty() {
        return Err(Error::input("no sweep records to merge (empty input)"));
    }
    let mut by_point: std::collections::BTreeMap<usize, Value> = Default::default();
    let first = &records[0]["sweep"];
    let grid = sweep_grid(first)?;
    let total = grid.len();
    for (k, r) in records.iter().enumerate() {
        if r["sweep"] != *first {
            return Err(Error::input(format!(
                "record {} comes from a different sweep than record 1: {} vs {}",
                k + 1,
                r["sweep"],
                first
            )));
        }
        let p = r["point"]
            .as_u64()
            .and_then(|p| usize::try_from(p).ok())
            .filter(|&p| p < total)
            .ok_or_else(|| {
                Error::input(format!(
                    "record {}: point {} is not an index of the {total}-point grid",
                    k + 1,
                    r["point"]
                ))
            })?;
        if r["total"].as_u64() != Some(total as u64) {
            return Err(Error::input(format!(
                "record {}: total {} is not the grid's {total} points",
                k + 1,
                r["total"]
            )));
        }
        let expected: serde_json::Map<String, Value> = grid
            .point(p)
            .into_iter()
            .map(|(name, v)| (name, json!(v)))
            .collect();
        if r["grid"] != Value::Object(expected.clone()) {
            return Err(Error::input(format!(
                "record {}: point {p} has grid values {}, the grid says {}",
                k + 1,
                r["grid"],
                Value::Object(expected)
            )));
        }
        if let Some(old) = by_point.insert(p, r.clone()) {
            if old != *r {
                return Err(Error::input(format!(
                    "grid point {p} appears twice with different results"
                )));
            }
        }
    }
    let missing = (0..total).filter(|i| !by_point.contains_key(i)).collect();
    Ok((by_point.into_values().collect(), missing))
}

/// The grid a record's `sweep` identity describes.
fn sweep_grid(sweep: &Value) -> Result<Grid> {
    let bad = || {
        Error::input(
            "a record lacks a valid `sweep` identity (check, axes, total): not the output of this \
             version's `dimple sweep`",
        )
    };
    let axes = sweep["axes"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|a| {
            let name = a[0].as_str().ok_or_else(bad)?.to_string();
            let vals = a[1]
                .as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|v| v.as_f64().ok_or_else(bad))
                .collect::<Result<Vec<f64>>>()?;
            Ok((name, vals))
        })
        .collect::<Result<Vec<_>>>()?;
    let grid = Grid::from_axes(axes)?;
    if sweep["total"].as_u64() != Some(grid.len() as u64) || sweep["check"].as_str().is_none() {
        return Err(bad());
    }
    Ok(grid)
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

    #[test]
    fn grids_above_the_cap_or_overflowing_are_refused() {
        let axis = |name: &str| format!("{name}={}", vec!["1"; 256].join(","));
        let err = Grid::parse(&[axis("a"), axis("b"), axis("c")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("more than 100000 points"), "{err}");
        let eight: Vec<String> = (0..8).map(|k| axis(&format!("p{k}"))).collect();
        assert!(
            Grid::parse(&eight).is_err(),
            "2^64 points must not wrap to 0"
        );
        assert_eq!(Grid::parse(&[axis("a"), axis("b")]).unwrap().len(), 65536);
        assert!(parse_shard("1/100001").is_err());
    }

    fn items(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn malformed_grids_are_refused() {
        for bad in [
            vec![],
            vec!["a"],
            vec!["a=1,nan"],
            vec!["a=1,inf"],
            vec!["a=1,"],
            vec!["a=1", "b=2", "a=3"],
        ] {
            let e = Grid::parse(&items(&bad)).unwrap_err();
            assert!(matches!(e, Error::Input(_)), "{bad:?}: {e}");
        }
        // Spaces around values are allowed.
        let g = Grid::parse(&items(&["a= 1, 2"])).unwrap();
        assert_eq!(g.axes(), &[("a".to_string(), vec![1.0, 2.0])]);
        assert!(Grid::from_axes(vec![]).is_err());
        assert!(Grid::from_axes(vec![("a".into(), vec![])]).is_err());
        assert!(Grid::from_axes(vec![("a".into(), vec![1.0, f64::NAN])]).is_err());
        assert!(Grid::from_axes(vec![("a".into(), vec![f64::NEG_INFINITY])]).is_err());
        assert_eq!(Grid::from_axes(g.axes().to_vec()).unwrap(), g);
    }

    /// Points in row-major order of the axes, the last fastest: with axes of 2, 3 and 2 values,
    /// point 7 = 1·6 + 0·2 + 1.
    #[test]
    fn points_are_numbered_row_major() {
        let g = Grid::parse(&items(&["a=1,2", "b=10,20,30", "c=5,6"])).unwrap();
        assert_eq!((g.len(), g.is_empty()), (12, false));
        assert_eq!(g.names(), vec!["a", "b", "c"]);
        let p = |i: usize| g.point(i).into_iter().map(|(_, v)| v).collect::<Vec<_>>();
        assert_eq!(p(0), vec![1.0, 10.0, 5.0]);
        assert_eq!(p(7), vec![2.0, 10.0, 6.0]);
        assert_eq!(p(4), vec![1.0, 30.0, 5.0]);
        assert_eq!(p(11), vec![2.0, 30.0, 6.0]);
        assert_eq!(g.point(7)[1].0, "b");
        assert_eq!(shard_points(7, (2, 3)), vec![1, 4]);
        assert_eq!(shard_points(7, (3, 3)), vec![2, 5]);
        assert_eq!(shard_points(3, (1, 1)), vec![0, 1, 2]);
        assert_eq!(parse_shard("1/1").unwrap(), (1, 1));
        assert_eq!(parse_shard("3/3").unwrap(), (3, 3));
        assert_eq!(parse_shard("100000/100000").unwrap(), (100000, 100000));
        for bad in ["1/0", "a/2", "1/b", "1-2", "2/1"] {
            assert!(matches!(parse_shard(bad), Err(Error::Input(_))), "{bad}");
        }
    }

    fn schedule() -> (Theory, Box<dyn Check>) {
        let t = crate::theory::get("malt.apgd.schedule").unwrap();
        let c = crate::checks::select("malt.apgd.schedule")
            .unwrap()
            .remove(0);
        (t, c)
    }

    #[test]
    fn validation_covers_every_point_and_refuses_a_swept_fixed_name() {
        let (t, _) = schedule();
        let good = Grid::parse(&items(&["control_threshold=0.5,0.7"])).unwrap();
        assert!(validate(&t, &good, &RunConfig::default()).is_ok());
        let bad = Grid::parse(&items(&["control_threshold=0.5,0.7,1.5"])).unwrap();
        let e = validate(&t, &bad, &RunConfig::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("grid point 2"), "{e}");
        let fixed = RunConfig {
            overrides: vec![("control_threshold".into(), 0.6)],
            ..Default::default()
        };
        let e = validate(&t, &good, &fixed).unwrap_err().to_string();
        assert!(e.contains("both swept"), "{e}");
        let unknown = Grid::parse(&items(&["rho=0.5"])).unwrap();
        assert!(validate(&t, &unknown, &RunConfig::default()).is_err());
    }

    /// A real sweep of two points: records in point order with the grid values, the sweep's
    /// identity and a verdict; `done` sees each; the records merge back.
    #[test]
    fn a_sweep_runs_its_points_and_its_records_merge() {
        let (t, c) = schedule();
        let grid = Grid::parse(&items(&["control_threshold=0.7,0.6"])).unwrap();
        let base = RunConfig::default();
        let seen = std::sync::atomic::AtomicUsize::new(0);
        let recs = run_points(c.as_ref(), &t, &grid, &base, &[1, 0], &|r| {
            assert!(r["point"].is_u64());
            seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(seen.into_inner(), 2);
        assert_eq!(recs[0]["point"], 1);
        assert_eq!(recs[0]["grid"], json!({"control_threshold": 0.6}));
        assert_eq!(recs[1]["grid"], json!({"control_threshold": 0.7}));
        assert_eq!(recs[0]["verdict"], "Pass");
        assert_eq!(recs[0]["total"], 2);
        assert_eq!(recs[0]["sweep"], identity(&t, &grid, &base));
        let id = identity(&t, &grid, &base);
        assert_eq!(id["check"], "malt.apgd.schedule");
        assert_eq!(id["scale"], "test");
        assert_eq!(id["total"], 2);
        assert_eq!(id["axes"], json!([["control_threshold", [0.7, 0.6]]]));
        let (merged, missing) = merge(recs.clone()).unwrap();
        assert!(missing.is_empty());
        assert_eq!(merged[0]["point"], 0);
        assert_eq!(merged[1], recs[0]);
        // A check that cannot run gives a CouldNotRun record with its error.
        let bad = RunConfig {
            budget: crate::budget::Budget::from_gib(Some(1e-6)).unwrap(),
            ..Default::default()
        };
        let recs = run_points(c.as_ref(), &t, &grid, &bad, &[0], &|_| {});
        assert_eq!(recs[0]["verdict"], "CouldNotRun");
        assert!(
            recs[0]["error"].as_str().unwrap().contains("memory"),
            "{}",
            recs[0]
        );
    }

    /// Hand-made records of a 3-point sweep: merged in point order with the missing indices;
    /// every inconsistency refused with its record.
    #[test]
    fn merge_refuses_records_that_do_not_belong_together() {
        let (t, _) = schedule();
        let grid = Grid::parse(&items(&["control_threshold=0.5,0.6,0.7"])).unwrap();
        let sweep = identity(&t, &grid, &RunConfig::default());
        let rec = |p: usize, v: f64| {
            json!({"check": t.id, "point": p, "total": 3, "grid": {"control_threshold": v},
                   "sweep": sweep, "verdict": "Pass"})
        };
        let (m, missing) = merge(vec![rec(2, 0.7), rec(0, 0.5), rec(2, 0.7)]).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0]["point"].clone(), m[1]["point"].clone()),
            (json!(0), json!(2))
        );
        assert_eq!(missing, vec![1]);
        let err = |records: Vec<Value>| merge(records).unwrap_err().to_string();
        assert!(err(vec![]).contains("empty"));
        let mut other = rec(1, 0.6);
        other["sweep"]["seeds"] = json!(4);
        assert!(err(vec![rec(0, 0.5), other]).contains("record 2 comes from a different sweep"));
        let mut out = rec(1, 0.6);
        out["point"] = json!(3);
        assert!(err(vec![out]).contains("point 3 is not an index"));
        let mut neg = rec(1, 0.6);
        neg["point"] = json!(-1);
        assert!(err(vec![neg]).contains("not an index"));
        let mut total = rec(1, 0.6);
        total["total"] = json!(4);
        assert!(err(vec![total]).contains("total 4"));
        assert!(err(vec![rec(1, 0.7)]).contains("point 1 has grid values"));
        let mut changed = rec(1, 0.6);
        changed["verdict"] = json!("Fail");
        assert!(err(vec![rec(1, 0.6), changed]).contains("appears twice"));
        // A record without a valid identity.
        for broken in [
            json!({"check": t.id, "axes": [["a", [1.0]]]}),
            json!({"check": t.id, "axes": [["a", [1.0]]], "total": 2}),
            json!({"axes": [["a", [1.0]]], "total": 1}),
            json!({"check": t.id, "axes": [[1, [1.0]]], "total": 1}),
            json!({"check": t.id, "axes": [["a", 1.0]], "total": 1}),
            json!({"check": t.id, "axes": [["a", ["x"]]], "total": 1}),
            json!({"check": t.id, "total": 1}),
        ] {
            let mut r = rec(0, 0.5);
            r["sweep"] = broken.clone();
            assert!(err(vec![r]).contains("valid `sweep` identity"), "{broken}");
        }
    }
}
