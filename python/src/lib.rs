//! The native half of the Python module `dimple` (`dimple._native`).
//!
//! Each function converts numpy arrays (any float dtype and memory order, or anything with
//! `__array__`) and models (a `.safetensors` path or a dict of arrays) into the library's types,
//! releases the GIL, runs the operation of [`dimple::api`] — the same code and the same messages
//! as the command line — and returns JSON text plus numpy arrays, which `dimple/__init__.py`
//! turns into result objects. Bad input raises `InputError` (a `ValueError`) naming the argument,
//! the row and the column; a run that cannot finish raises `CouldNotRun` (a `RuntimeError`).

use dimple::api::{self, AttackRequest, Method, Multipliers, UnlearnRequest};
use dimple::check::{self, RunConfig, Scale};
use dimple::data::Binary;
use dimple::error::Error;
use dimple::model::io::{self, InMemory, Loaded, Tensors};
use dimple::model::{Classifier, Mlp, Model};
use nalgebra::{DMatrix, DVector};
use numpy::{PyArray1, PyArray2, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

create_exception!(
    _native,
    InputError,
    PyValueError,
    "Bad input: a parameter outside a theorem's assumptions, a malformed model or array, NaN/Inf, or shapes that do not match."
);
create_exception!(
    _native,
    CouldNotRun,
    PyRuntimeError,
    "The computation could not finish: a solver status other than Solved, or non-finite numbers along the way."
);

/// The library's error as the Python exception the command line's exit code corresponds to.
fn err(e: Error) -> PyErr {
    match e {
        Error::Solver(_) | Error::NonFinite(_) | Error::Contract(_) => {
            CouldNotRun::new_err(e.to_string())
        }
        other => InputError::new_err(other.to_string()),
    }
}

fn input(msg: impl Into<String>) -> PyErr {
    InputError::new_err(msg.into())
}

/// `numpy.asarray(obj, dtype=float64)`: no copy for float64 input, a widening copy otherwise.
fn as_f64<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let np = py.import("numpy")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", np.getattr("float64")?)?;
    np.call_method("asarray", (obj,), Some(&kwargs))
        .map_err(|e| input(format!("cannot read the array: {e}")))
}

/// A 2-D float array as a matrix (one copy into column-major storage); NaN/Inf named by row
/// and column.
fn matrix(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<DMatrix<f64>> {
    let a = as_f64(obj)?;
    let arr = a.cast::<PyArray2<f64>>().map_err(|_| {
        let ndim = a.getattr("ndim").map(|n| n.to_string()).unwrap_or_default();
        input(format!(
            "{name} must be a 2-D array (rows are points), got ndim = {ndim}"
        ))
    })?;
    let ro = arr.readonly();
    let v = ro.as_array();
    let (n, d) = v.dim();
    if n == 0 || d == 0 {
        return Err(input(format!("{name} is empty ({n} × {d})")));
    }
    let non_finite = |k: usize, x: f64, row_major: bool| {
        let (i, j) = if row_major {
            (k / d, k % d)
        } else {
            (k % n, k / n)
        };
        input(format!("{name}: row {i}, column {j} is {x}"))
    };
    // Contiguous input (the common case): one pass to check, one copy into nalgebra's
    // column-major storage (a blocked transpose for C order, a memcpy for Fortran order).
    if let Ok(sl) = ro.as_slice() {
        let row_major = v.is_standard_layout();
        if let Some(k) = sl.iter().position(|x| !x.is_finite()) {
            return Err(non_finite(k, sl[k], row_major));
        }
        return Ok(if row_major {
            dimple::linalg::from_row_major(n, d, sl)
        } else {
            DMatrix::from_column_slice(n, d, sl)
        });
    }
    let mut m = DMatrix::zeros(n, d);
    for j in 0..d {
        for i in 0..n {
            let x = v[[i, j]];
            if !x.is_finite() {
                return Err(input(format!("{name}: row {i}, column {j} is {x}")));
            }
            m[(i, j)] = x;
        }
    }
    Ok(m)
}

/// A 1-D float array.
fn vector(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Vec<f64>> {
    let a = as_f64(obj)?;
    let arr = a.cast::<PyArray1<f64>>().map_err(|_| {
        let ndim = a.getattr("ndim").map(|n| n.to_string()).unwrap_or_default();
        input(format!("{name} must be a 1-D array, got ndim = {ndim}"))
    })?;
    let v: Vec<f64> = arr.readonly().as_array().iter().copied().collect();
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(input(format!("{name}: entry {i} is {}", v[i])));
    }
    Ok(v)
}

/// Class labels 0..K−1.
fn classes(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Vec<usize>> {
    vector(obj, name)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            if v >= 0.0 && v.fract() == 0.0 && v < 1e9 {
                Ok(v as usize)
            } else {
                Err(input(format!(
                    "{name}: entry {i} is {v}, not a class index"
                )))
            }
        })
        .collect()
}

/// A model given as a `.safetensors` path or a dict of arrays (tensor name → array; the
/// metadata `dimple.kind`, `activation`, `train_output` as string values).
fn model(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Loaded> {
    if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
        let p: PathBuf = obj.extract()?;
        return io::load(&p).map_err(err);
    }
    let Ok(d) = obj.cast::<PyDict>() else {
        return Err(input(format!(
            "{name} must be a .safetensors path or a dict of arrays, got {}",
            obj.get_type().name()?
        )));
    };
    let np = obj.py().import("numpy")?;
    // The arrays as C-contiguous float64 (no copy when they already are), held here so that
    // the model can read them in place: the only copy is the one into the model's θ.
    let mut arrays = Vec::new();
    let mut metadata = HashMap::new();
    for (k, v) in d.iter() {
        let key: String = k
            .extract()
            .map_err(|_| input(format!("{name}: the keys must be strings")))?;
        if let Ok(s) = v.extract::<String>() {
            metadata.insert(key, s);
            continue;
        }
        let kwargs = PyDict::new(obj.py());
        kwargs.set_item("dtype", np.getattr("float64")?)?;
        let a = np
            .call_method("ascontiguousarray", (v,), Some(&kwargs))
            .map_err(|e| input(format!("{name}[{key:?}]: not an array: {e}")))?;
        let arr = a
            .cast_into::<PyArrayDyn<f64>>()
            .map_err(|_| input(format!("{name}[{key:?}]: not a float array")))?;
        arrays.push((key, arr.readonly()));
    }
    let mut tensors = BTreeMap::new();
    for (key, ro) in &arrays {
        let data = ro
            .as_slice()
            .map_err(|e| input(format!("{name}[{key:?}]: {e}")))?;
        tensors.insert(key.clone(), (ro.shape().to_vec(), data));
    }
    io::from_source(&InMemory {
        tensors,
        metadata,
        origin: PathBuf::from(format!("<{name} dict>")),
    })
    .map_err(err)
}

fn binary_model(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Box<dyn Model>> {
    match model(obj, name)? {
        Loaded::Binary(m) => Ok(m),
        Loaded::Classifier(_) => Err(input(format!(
            "{name} is a multi-class MLP; this needs a scalar-output model (linear or two-layer)"
        ))),
    }
}

fn mlp(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Mlp> {
    match model(obj, name)? {
        Loaded::Classifier(m) => Ok(m),
        Loaded::Binary(_) => Err(input(format!(
            "{name} is a scalar-output model; this needs a multi-class MLP (dimple.kind = mlp)"
        ))),
    }
}

/// A model as the dict form: tensor name → array, metadata as strings.
fn model_dict<'py>(py: Python<'py>, tensors: Tensors) -> PyResult<Bound<'py, PyDict>> {
    let (list, meta) = tensors;
    let out = PyDict::new(py);
    for (k, shape, data) in list {
        let a = PyArray1::from_vec(py, data).reshape(shape)?;
        out.set_item(k, a)?;
    }
    let mut meta: Vec<(String, String)> = meta.into_iter().collect();
    meta.sort();
    for (k, v) in meta {
        out.set_item(k, v)?;
    }
    Ok(out)
}

fn binary(x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<Binary> {
    let x = matrix(x, "X")?;
    let y = vector(y, "y")?;
    Binary::new(x, DVector::from_vec(y)).map_err(err)
}

fn json<T: serde::Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| CouldNotRun::new_err(format!("serialisation: {e}")))
}

/// A report as JSON text with two arrays beside it.
type JsonAndTwo<'py> = (String, Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// The certificate's options as the library takes them (shared by `certify` and its benchmark).
fn certify_request(
    box_delta: Option<f64>,
    route: &str,
    max_iters: i64,
    gap: f64,
    max_memory: Option<f64>,
) -> PyResult<api::CertifyRequest> {
    Ok(api::CertifyRequest {
        box_delta,
        route: api::Route::parse(route).map_err(err)?,
        matrix_free: dimple::margin::matrix_free::Options {
            max_iters: usize::try_from(max_iters).map_err(|_| {
                err(dimple::Error::input(format!(
                    "max_iters must be at least 1, got {max_iters}"
                )))
            })?,
            gap,
            ..Default::default()
        },
        budget: dimple::budget::Budget::from_gib(max_memory).map_err(err)?,
    })
}

/// The KKT certificate: (report JSON with its `route`, λ, margins).
#[pyfunction]
#[pyo3(signature = (model, x, y, box_delta=None, route="auto", max_iters=2000, gap=1e-3, max_memory=None))]
#[allow(clippy::too_many_arguments)]
fn certify<'py>(
    py: Python<'py>,
    model: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    box_delta: Option<f64>,
    route: &str,
    max_iters: i64,
    gap: f64,
    max_memory: Option<f64>,
) -> PyResult<JsonAndTwo<'py>> {
    let m = binary_model(model, "model")?;
    let data = binary(x, y)?;
    let req = certify_request(box_delta, route, max_iters, gap, max_memory)?;
    let out = py
        .detach(|| api::certify_with(m.as_ref(), &data, &req, &mut |_, _, _| {}))
        .map_err(err)?;
    let (lambda, margins) = match &out {
        api::CertifyOutcome::Dense(r) => (&r.certificate.lambda, &r.certificate.margins),
        api::CertifyOutcome::MatrixFree(r) => (&r.certificate.lambda, &r.certificate.margins),
    };
    Ok((
        json(&out)?,
        PyArray1::from_slice(py, lambda.as_slice()),
        PyArray1::from_slice(py, margins.as_slice()),
    ))
}

/// Unlearning: (JSON {report, retraining}, the unlearned model, the retrained model or None).
#[pyfunction]
#[pyo3(signature = (model, x, y, forget, fraction=1.0, multipliers="certificate", init=None, steps=2000, lr=None))]
#[allow(clippy::too_many_arguments)]
#[allow(clippy::type_complexity)]
fn unlearn<'py>(
    py: Python<'py>,
    model: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    forget: Vec<i64>,
    fraction: f64,
    multipliers: &str,
    init: Option<&Bound<'py, PyAny>>,
    steps: usize,
    lr: Option<f64>,
) -> PyResult<(String, Bound<'py, PyDict>, Option<Bound<'py, PyDict>>)> {
    let m = binary_model(model, "model")?;
    let init = init.map(|i| binary_model(i, "init")).transpose()?;
    let data = binary(x, y)?;
    let forget: Vec<usize> = forget
        .into_iter()
        .map(|i| usize::try_from(i).map_err(|_| input(format!("forget: index {i} is negative"))))
        .collect::<PyResult<_>>()?;
    let multipliers = Multipliers::parse(multipliers).map_err(err)?;
    let out = py
        .detach(|| {
            api::unlearn(
                m.as_ref(),
                &data,
                &UnlearnRequest {
                    forget: &forget,
                    fraction,
                    multipliers,
                    init: init.as_deref(),
                    lr,
                    steps,
                },
            )
        })
        .map_err(err)?;
    let text = json(&serde_json::json!({
        "report": out.unlearned.report,
        "retraining": out.retraining,
    }))?;
    let unlearned = model_dict(
        py,
        io::model_tensors(out.unlearned.model.as_ref()).map_err(err)?,
    )?;
    let retrained = out
        .retraining
        .as_ref()
        .map(|r| model_dict(py, io::model_tensors(r.model.as_ref()).map_err(err)?))
        .transpose()?;
    Ok((text, unlearned, retrained))
}

/// An attack: (JSON report, the adversarial points).
#[pyfunction]
#[pyo3(signature = (model, x, y, norm="linf", eps=0.1, method="malt", iters=100, k=None, testk=None, seed=0))]
#[allow(clippy::too_many_arguments)]
fn attack<'py>(
    py: Python<'py>,
    model: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    norm: &str,
    eps: f64,
    method: &str,
    iters: usize,
    k: Option<usize>,
    testk: Option<usize>,
    seed: u64,
) -> PyResult<(String, Bound<'py, PyArray2<f64>>)> {
    let net = mlp(model, "model")?;
    // The default: 9 targets as AutoAttack and MALT use, or all K − 1 for fewer classes.
    let k = k.unwrap_or_else(|| 9.min(net.classes().saturating_sub(1)));
    let x = matrix(x, "X")?;
    let y = classes(y, "y")?;
    let req = AttackRequest {
        iters,
        k,
        testk,
        seed,
        ..AttackRequest::new(
            api::parse_norm(norm).map_err(err)?,
            eps,
            Method::parse(method).map_err(err)?,
        )
    };
    let r = py.detach(|| api::attack(&net, &x, &y, &req)).map_err(err)?;
    let text = json(&serde_json::json!({
        "method": req.method, "norm": norm, "eps": eps, "points": x.nrows(),
        "clean_accuracy": r.clean_accuracy(), "robust_accuracy": r.robust_accuracy(),
        "broken": r.broken.iter().filter(|b| **b).count(),
        "broken_mask": r.broken, "clean_correct": r.clean_correct,
        "stages": r.stages, "cost": r.cost, "seconds": r.seconds,
        "sanity": r.sanity, "warnings": r.warnings,
    }))?;
    let (n, d) = r.x_adv.shape();
    let adv = PyArray2::from_vec2(
        py,
        &(0..n)
            .map(|i| (0..d).map(|j| r.x_adv[(i, j)]).collect())
            .collect::<Vec<Vec<f64>>>(),
    )?;
    Ok((text, adv))
}

/// Explanations: (IP, NORM, S as n × L arrays with NaN rows where the preconditions fail, the
/// reasons per image: None or the message).
#[pyfunction]
#[pyo3(signature = (model, surrogates, x, y, patch=4))]
#[allow(clippy::type_complexity)]
fn explain<'py>(
    py: Python<'py>,
    model: &Bound<'py, PyAny>,
    surrogates: Vec<Bound<'py, PyAny>>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    patch: usize,
) -> PyResult<(
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Vec<Option<String>>,
)> {
    let f0 = mlp(model, "model")?;
    let sur: Vec<Mlp> = surrogates
        .iter()
        .enumerate()
        .map(|(i, s)| mlp(s, &format!("surrogates[{i}]")))
        .collect::<PyResult<_>>()?;
    let x = matrix(x, "X")?;
    let y = classes(y, "y")?;
    let res = py
        .detach(|| api::explain(&f0, &sur, &x, &y, patch))
        .map_err(err)?;
    let l = res
        .iter()
        .find_map(|r| r.as_ref().ok().map(|s| s.ip.len()))
        .unwrap_or_else(|| (x.ncols() / (patch * patch)).max(1));
    let mut rows = [Vec::new(), Vec::new(), Vec::new()];
    let mut reasons = Vec::new();
    for r in &res {
        match r {
            Ok(s) => {
                rows[0].push(s.ip.clone());
                rows[1].push(s.norm.clone());
                rows[2].push(s.s.clone());
                reasons.push(None);
            }
            Err(e) => {
                for row in rows.iter_mut() {
                    row.push(vec![f64::NAN; l]);
                }
                reasons.push(Some(e.to_string()));
            }
        }
    }
    let [ip, norm, s] = rows;
    Ok((
        PyArray2::from_vec2(py, &ip)?,
        PyArray2::from_vec2(py, &norm)?,
        PyArray2::from_vec2(py, &s)?,
        reasons,
    ))
}

/// One check: the JSON record of `dimple check <id> --json`.
#[pyfunction]
#[pyo3(signature = (id, scale="test", seeds=None, overrides=Vec::new()))]
fn run_check(
    py: Python<'_>,
    id: &str,
    scale: &str,
    seeds: Option<usize>,
    overrides: Vec<(String, f64)>,
) -> PyResult<String> {
    let scale = Scale::parse(scale)
        .ok_or_else(|| input(format!("scale must be `test` or `default`, got `{scale}`")))?;
    let t = dimple::theory::get(id).map_err(err)?;
    let c = dimple::checks::select(id)
        .map_err(err)?
        .into_iter()
        .find(|c| c.id() == id)
        .ok_or_else(|| input(format!("`{id}` is a family; check() takes one check id")))?;
    let cfg = RunConfig {
        scale,
        seeds,
        overrides,
        budget: Default::default(),
    };
    check::resolve_params(&t, &cfg).map_err(err)?;
    let ev = py
        .detach(|| check::run(c.as_ref(), &t, &cfg))
        .map_err(err)?;
    Ok(dimple::report::Record::ran(&ev).to_line())
}

/// The registered checks as the JSON lines of `dimple list --json`.
#[pyfunction]
fn list_checks() -> PyResult<Vec<String>> {
    dimple::theory::all()
        .map_err(err)?
        .iter()
        .map(|t| {
            json(
                &serde_json::json!({"id": t.id, "family": t.family, "kind": t.kind,
                "provenance": t.provenance, "title": t.title}),
            )
        })
        .collect()
}

/// Seconds per call of the library's certify on already-converted inputs (mean over `reps`):
/// the computation alone, for measuring what a Python call adds to it.
#[pyfunction]
fn time_certify(
    py: Python<'_>,
    model: &Bound<'_, PyAny>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    reps: usize,
) -> PyResult<f64> {
    let m = binary_model(model, "model")?;
    let data = binary(x, y)?;
    let req = certify_request(None, "auto", 2000, 1e-3, None)?;
    let reps = reps.max(1);
    py.detach(|| {
        let start = std::time::Instant::now();
        for _ in 0..reps {
            api::certify_with(m.as_ref(), &data, &req, &mut |_, _, _| {})?;
        }
        Ok(start.elapsed().as_secs_f64() / reps as f64)
    })
    .map_err(err)
}

/// Seconds per conversion of the inputs of `certify` (model, X, y) into the library's types
/// (mean over `reps`): the part of a call's overhead that is copying.
#[pyfunction]
fn time_conversion(
    model: &Bound<'_, PyAny>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    reps: usize,
) -> PyResult<f64> {
    let reps = reps.max(1);
    let start = std::time::Instant::now();
    for _ in 0..reps {
        let m = binary_model(model, "model")?;
        let data = binary(x, y)?;
        std::hint::black_box((m, data));
    }
    Ok(start.elapsed().as_secs_f64() / reps as f64)
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add("CouldNotRun", m.py().get_type::<CouldNotRun>())?;
    m.add_function(wrap_pyfunction!(certify, m)?)?;
    m.add_function(wrap_pyfunction!(unlearn, m)?)?;
    m.add_function(wrap_pyfunction!(attack, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_function(wrap_pyfunction!(run_check, m)?)?;
    m.add_function(wrap_pyfunction!(list_checks, m)?)?;
    m.add_function(wrap_pyfunction!(time_certify, m)?)?;
    m.add_function(wrap_pyfunction!(time_conversion, m)?)?;
    Ok(())
}
