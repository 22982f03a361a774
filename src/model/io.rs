//! Saving and loading models as `.safetensors`.
//!
//! Tensor names and shapes (f64 or f32; f32 is widened on load):
//!
//! | model | tensors | metadata `dimple.kind` |
//! |---|---|---|
//! | linear | `w` `[d]` | `linear` |
//! | two-layer | `W` `[m, d]`, `v` `[m]`, optional `b` `[m]` | `two_layer` |
//! | MLP | `layers.{l}.weight` `[out, in]`, `layers.{l}.bias` `[out]`, l = 0, 1, … | `mlp` |
//!
//! Further metadata: `activation` = `relu` (default) or `leaky_relu:<a>`; for two-layer nets
//! `train_output` = `true` or `false` (default `false`: v is held fixed, the V1 model). A PyTorch
//! user writes these with `safetensors.torch.save_file({...}, path, metadata={...})`; without
//! `dimple.kind` the kind is inferred from the tensor names.

use super::{Activation, Linear, Mlp, Model, OutputLayer, TwoLayer};
use crate::error::{Error, Result};
use nalgebra::DVector;
use safetensors::{tensor::TensorView, Dtype, SafeTensors};
use std::collections::HashMap;
use std::path::Path;

/// A model read from a file.
pub enum Loaded {
    /// A scalar-output model (linear or two-layer).
    Binary(Box<dyn Model>),
    /// A multi-class MLP.
    Classifier(Mlp),
}

/// One tensor: its shape and its entries in row-major (C) order.
pub type Tensor = (Vec<usize>, Vec<f64>);

/// Where tensors come from: a safetensors file, or named arrays handed over in memory.
pub trait TensorSource {
    /// The tensor names.
    fn names(&self) -> Vec<String>;
    /// The tensor `name`, widened to f64 and checked finite.
    fn tensor(&self, name: &str) -> Result<Tensor>;
    /// The metadata entries (`dimple.kind`, `activation`, `train_output`).
    fn metadata(&self) -> HashMap<String, String>;
    /// The origin named in error messages.
    fn origin(&self) -> &Path;
}

/// Tensors borrowed from memory (the Python module's dict form: numpy's buffers), with their
/// metadata. Each tensor is read once, when the model takes it: one finiteness pass and one copy
/// into the model's θ.
pub struct InMemory<'a> {
    /// Name → (shape, entries in row-major order).
    pub tensors: std::collections::BTreeMap<String, (Vec<usize>, &'a [f64])>,
    /// Metadata entries.
    pub metadata: HashMap<String, String>,
    /// The origin named in error messages.
    pub origin: std::path::PathBuf,
}

impl TensorSource for InMemory<'_> {
    fn names(&self) -> Vec<String> {
        self.tensors.keys().cloned().collect()
    }
    fn tensor(&self, name: &str) -> Result<Tensor> {
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| Error::format(&self.origin, format!("no tensor `{name}`")))?;
        let want: usize = t.0.iter().product();
        if want != t.1.len() {
            return Err(Error::format(
                &self.origin,
                format!("tensor `{name}`: shape {:?} but {} entries", t.0, t.1.len()),
            ));
        }
        crate::error::ensure_finite(
            &format!("tensor `{name}` of {}", self.origin.display()),
            t.1,
        )?;
        Ok((t.0.clone(), t.1.to_vec()))
    }
    fn metadata(&self) -> HashMap<String, String> {
        self.metadata.clone()
    }
    fn origin(&self) -> &Path {
        &self.origin
    }
}

struct File<'a> {
    st: SafeTensors<'a>,
    meta: HashMap<String, String>,
    path: &'a Path,
}

impl TensorSource for File<'_> {
    fn names(&self) -> Vec<String> {
        self.st.names().into_iter().map(str::to_string).collect()
    }
    fn tensor(&self, name: &str) -> Result<Tensor> {
        tensor(&self.st, name, self.path)
    }
    fn metadata(&self) -> HashMap<String, String> {
        self.meta.clone()
    }
    fn origin(&self) -> &Path {
        self.path
    }
}

fn tensor(st: &SafeTensors<'_>, name: &str, path: &Path) -> Result<(Vec<usize>, Vec<f64>)> {
    let t = st
        .tensor(name)
        .map_err(|e| Error::format(path, format!("tensor `{name}`: {e}")))?;
    let data: Vec<f64> = match t.dtype() {
        Dtype::F64 => t
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect(),
        Dtype::F32 => t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4])) as f64)
            .collect(),
        other => {
            return Err(Error::format(
                path,
                format!("tensor `{name}` has dtype {other:?}; use F64 or F32"),
            ))
        }
    };
    crate::error::ensure_finite(&format!("tensor `{name}` of {}", path.display()), &data)?;
    Ok((t.shape().to_vec(), data))
}

fn expect_shape(name: &str, got: &[usize], want: &[usize], path: &Path) -> Result<()> {
    if got != want {
        return Err(Error::format(
            path,
            format!("tensor `{name}` has shape {got:?}, expected {want:?}"),
        ));
    }
    Ok(())
}

/// Parses a model from `.safetensors` bytes; `path` names the file in errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Loaded> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| Error::format(path, format!("not a safetensors file: {e}")))?;
    let (_, header) =
        SafeTensors::read_metadata(bytes).map_err(|e| Error::format(path, e.to_string()))?;
    let meta = header.metadata().clone().unwrap_or_default();
    from_source(&File { st, meta, path })
}

/// Builds a model from named tensors and metadata (the layout of the table above).
pub fn from_source(src: &dyn TensorSource) -> Result<Loaded> {
    let path = src.origin();
    let meta = src.metadata();
    let names_owned = src.names();
    let names: Vec<&str> = names_owned.iter().map(String::as_str).collect();
    let act = match meta.get("activation") {
        None => Activation::Relu,
        Some(s) => Activation::parse(s)
            .ok_or_else(|| Error::format(path, format!("unknown activation `{s}`")))?,
    };
    let kind = match meta.get("dimple.kind") {
        Some(k) => k.clone(),
        None if names.contains(&"w") => "linear".into(),
        None if names.contains(&"W") => "two_layer".into(),
        None if names.iter().any(|n| n.starts_with("layers.")) => "mlp".into(),
        None => {
            return Err(Error::format(
                path,
                format!("cannot tell the model kind from tensors {names:?}"),
            ))
        }
    };
    match kind.as_str() {
        "linear" => {
            let (shape, w) = src.tensor("w")?;
            if shape.len() != 1 {
                return Err(Error::format(
                    path,
                    format!("tensor `w` must be 1-D, has shape {shape:?}"),
                ));
            }
            Ok(Loaded::Binary(Box::new(Linear::new(DVector::from_vec(w)))))
        }
        "two_layer" => {
            let (ws, w) = src.tensor("W")?;
            if ws.len() != 2 {
                return Err(Error::format(
                    path,
                    format!("tensor `W` must be 2-D [m, d], has shape {ws:?}"),
                ));
            }
            let (m, d) = (ws[0], ws[1]);
            let (vs, v) = src.tensor("v")?;
            expect_shape("v", &vs, &[m], path)?;
            let b = if names.contains(&"b") {
                let (bs, b) = src.tensor("b")?;
                expect_shape("b", &bs, &[m], path)?;
                Some(b)
            } else {
                None
            };
            let trained = match meta.get("train_output").map(String::as_str) {
                None | Some("false") => false,
                Some("true") => true,
                Some(o) => {
                    return Err(Error::format(
                        path,
                        format!("train_output must be true or false, got `{o}`"),
                    ))
                }
            };
            let mut theta = w;
            if let Some(b) = &b {
                theta.extend_from_slice(b);
            }
            let output = if trained {
                theta.extend_from_slice(&v);
                OutputLayer::Trained
            } else {
                OutputLayer::Fixed(DVector::from_vec(v))
            };
            let net = TwoLayer::new(d, m, act, b.is_some(), output, DVector::from_vec(theta))?;
            Ok(Loaded::Binary(Box::new(net)))
        }
        "mlp" => {
            let mut sizes = Vec::new();
            let mut theta = Vec::new();
            let mut l = 0;
            while names.contains(&format!("layers.{l}.weight").as_str()) {
                let (ws, w) = src.tensor(&format!("layers.{l}.weight"))?;
                if ws.len() != 2 {
                    return Err(Error::format(
                        path,
                        format!("layers.{l}.weight must be 2-D, has shape {ws:?}"),
                    ));
                }
                if l == 0 {
                    sizes.push(ws[1]);
                } else if sizes[l] != ws[1] {
                    return Err(Error::format(
                        path,
                        format!(
                            "layers.{l}.weight takes {} inputs, previous layer gives {}",
                            ws[1], sizes[l]
                        ),
                    ));
                }
                sizes.push(ws[0]);
                let (bs, b) = src.tensor(&format!("layers.{l}.bias"))?;
                expect_shape(&format!("layers.{l}.bias"), &bs, &[ws[0]], path)?;
                theta.extend_from_slice(&w);
                theta.extend_from_slice(&b);
                l += 1;
            }
            if l == 0 {
                return Err(Error::format(path, "no tensor `layers.0.weight`"));
            }
            // A layer after a gap (layers.0, layers.2 without layers.1) is not silently dropped.
            if let Some(extra) = names.iter().find(|n| {
                n.strip_prefix("layers.")
                    .and_then(|r| r.split('.').next())
                    .and_then(|i| i.parse::<usize>().ok())
                    .is_some_and(|i| i >= l)
            }) {
                return Err(Error::format(
                    path,
                    format!("tensor `{extra}` follows a missing `layers.{l}.weight`"),
                ));
            }
            Ok(Loaded::Classifier(Mlp::new(
                sizes,
                act,
                DVector::from_vec(theta),
            )?))
        }
        other => Err(Error::format(
            path,
            format!("unknown dimple.kind `{other}`"),
        )),
    }
}

/// Reads a model file.
pub fn load(path: &Path) -> Result<Loaded> {
    parse(&crate::data::files::read(path)?, path)
}

fn bytes_of(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn serialize(
    tensors: Vec<(String, Vec<usize>, Vec<f64>)>,
    meta: HashMap<String, String>,
) -> Result<Vec<u8>> {
    let raw: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(n, s, d)| (n, s, bytes_of(&d)))
        .collect();
    let views = raw
        .iter()
        .map(|(n, s, b)| TensorView::new(Dtype::F64, s.clone(), b).map(|v| (n.clone(), v)))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::input(format!("cannot serialise model: {e}")))?;
    safetensors::serialize(views, Some(meta))
        .map_err(|e| Error::input(format!("cannot serialise model: {e}")))
}

/// Named tensors (row-major) and metadata of a model, in the layout of the table above.
pub type Tensors = (Vec<(String, Vec<usize>, Vec<f64>)>, HashMap<String, String>);

fn linear_tensors(model: &Linear) -> Tensors {
    let meta = HashMap::from([("dimple.kind".to_string(), "linear".to_string())]);
    (
        vec![(
            "w".into(),
            vec![model.input_dim()],
            model.weights().as_slice().to_vec(),
        )],
        meta,
    )
}

/// Serialises named tensors and metadata as `.safetensors` bytes (any layout; [`parse`] decides
/// whether it is a model).
pub fn tensors_bytes(tensors: Tensors) -> Result<Vec<u8>> {
    serialize(tensors.0, tensors.1)
}

/// Serialises a linear model.
pub fn linear_bytes(model: &Linear) -> Result<Vec<u8>> {
    let (t, meta) = linear_tensors(model);
    serialize(t, meta)
}

/// Serialises a two-layer net.
pub fn two_layer_bytes(net: &TwoLayer) -> Result<Vec<u8>> {
    let (t, meta) = two_layer_tensors(net);
    serialize(t, meta)
}

fn two_layer_tensors(net: &TwoLayer) -> Tensors {
    let (m, d) = (net.width(), net.input_dim());
    let meta = HashMap::from([
        ("dimple.kind".to_string(), "two_layer".to_string()),
        ("activation".to_string(), net.activation().tag()),
        ("train_output".to_string(), net.trained_output().to_string()),
    ]);
    let mut t = vec![
        (
            "W".to_string(),
            vec![m, d],
            net.params().as_slice()[..m * d].to_vec(),
        ),
        ("v".to_string(), vec![m], net.v().to_vec()),
    ];
    if let Some(b) = net.b() {
        t.push(("b".into(), vec![m], b.to_vec()));
    }
    (t, meta)
}

/// Serialises an MLP.
pub fn mlp_bytes(net: &Mlp) -> Result<Vec<u8>> {
    let (t, meta) = mlp_tensors(net);
    serialize(t, meta)
}

/// The named tensors and metadata of an MLP.
pub fn mlp_tensors(net: &Mlp) -> Tensors {
    use super::Classifier;
    let meta = HashMap::from([
        ("dimple.kind".to_string(), "mlp".to_string()),
        ("activation".to_string(), net.activation().tag()),
    ]);
    let s = net.params().as_slice();
    let mut off = 0;
    let mut t = Vec::new();
    for (l, w) in net.sizes().windows(2).enumerate() {
        t.push((
            format!("layers.{l}.weight"),
            vec![w[1], w[0]],
            s[off..off + w[0] * w[1]].to_vec(),
        ));
        off += w[0] * w[1];
        t.push((
            format!("layers.{l}.bias"),
            vec![w[1]],
            s[off..off + w[1]].to_vec(),
        ));
        off += w[1];
    }
    (t, meta)
}

/// The named tensors and metadata of any scalar-output model of this crate.
pub fn model_tensors(model: &dyn Model) -> Result<Tensors> {
    if let Some(l) = model.as_any().downcast_ref::<Linear>() {
        Ok(linear_tensors(l))
    } else if let Some(t) = model.as_any().downcast_ref::<TwoLayer>() {
        Ok(two_layer_tensors(t))
    } else {
        Err(Error::input(format!(
            "cannot serialise model {}",
            model.name()
        )))
    }
}

/// Serialises any scalar-output model of this crate (linear or two-layer).
pub fn model_bytes(model: &dyn Model) -> Result<Vec<u8>> {
    let (t, meta) = model_tensors(model)?;
    serialize(t, meta)
}

/// Writes bytes produced by one of the `*_bytes` functions.
pub fn save(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|source| Error::Io {
        path: path.into(),
        source,
    })
}
