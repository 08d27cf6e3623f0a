//! Genre classifiers on feature rows: kNN, RBF SVM, random forest, gradient-boosted trees, an MLP,
//! a CNN on mel spectrograms and soft-voting ensembles, behind one serde enum, with
//! standardisation fitted on the training split only.

mod cnn;
mod forest;
mod knn;
mod mlp;
mod svm;
mod tree;

pub use cnn::{Cnn, CnnConfig};
pub use forest::{Forest, ForestConfig, Gbt, GbtConfig};
pub use knn::Knn;
pub use mlp::{Mlp, MlpConfig};
pub use svm::{Svm, SvmConfig};

use serde::{Deserialize, Serialize};

pub use crate::rng::Rng;

/// Per-feature mean and standard deviation of the training rows.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Standardizer {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Standardizer {
    pub fn fit(x: &[Vec<f64>]) -> Standardizer {
        let d = x.first().map_or(0, |r| r.len());
        let n = x.len().max(1) as f64;
        let mean: Vec<f64> = (0..d)
            .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n)
            .collect();
        let std = (0..d)
            .map(|j| {
                let v = x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n;
                if v > 1e-24 {
                    v.sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        Standardizer { mean, std }
    }

    pub fn apply(&self, row: &[f64]) -> Vec<f64> {
        row.iter()
            .zip(self.mean.iter().zip(&self.std))
            .map(|(v, (m, s))| {
                let z = (v - m) / s;
                if z.is_finite() {
                    z
                } else {
                    0.0
                }
            })
            .collect()
    }
}

/// Which classifier, as the CLI spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Knn,
    Svm,
    Rf,
    Gbt,
    Mlp,
    Ensemble,
    /// The CNN on mel spectrograms (audio only).
    Cnn,
    /// The soft-voting ensemble with the CNN as a sixth member (audio only).
    #[value(name = "ensemble-cnn")]
    #[serde(rename = "ensemble-cnn")]
    EnsembleCnn,
}

impl Kind {
    /// Whether the classifier reads mel spectrograms (stored after the features in a row).
    pub fn needs_mel(self) -> bool {
        matches!(self, Kind::Cnn | Kind::EnsembleCnn)
    }
}

/// Where mel windows sit in a row: after `offset` feature values, `bands * frames` values each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MelLayout {
    pub offset: usize,
    pub bands: usize,
    pub frames: usize,
}

impl MelLayout {
    /// Rows that hold 3-second mel windows only.
    pub fn windows_only() -> MelLayout {
        MelLayout {
            offset: 0,
            bands: crate::analysis::features::N_MELS,
            frames: crate::analysis::mel::WINDOW_FRAMES,
        }
    }
}

/// A fitted classifier.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Model {
    Knn(Knn),
    Svm(Svm),
    Rf(Forest),
    Gbt(Gbt),
    Mlp(Mlp),
    Ensemble {
        members: Vec<Model>,
    },
    Cnn(Cnn),
    /// A feature model that reads the first `len` values of a row (the rest are mel windows).
    Head {
        len: usize,
        model: Box<Model>,
    },
}

impl Model {
    /// Fits a classifier of `kind` on standardised rows `x` with labels `y` in 0..classes.
    /// Rows of a CNN kind hold mel windows only (see [`Model::fit_with`]).
    pub fn fit(kind: Kind, x: &[Vec<f64>], y: &[usize], classes: usize, seed: u64) -> Model {
        Model::fit_with(kind, x, y, classes, seed, MelLayout::windows_only())
    }

    /// Fits a classifier whose rows hold features and then mel windows as `mel` says: the CNN
    /// reads the windows, the other classifiers the features.
    pub fn fit_with(
        kind: Kind,
        x: &[Vec<f64>],
        y: &[usize],
        classes: usize,
        seed: u64,
        mel: MelLayout,
    ) -> Model {
        match kind {
            Kind::Cnn => Model::Cnn(Cnn::fit(
                x,
                y,
                classes,
                mel.offset,
                (mel.bands, mel.frames),
                &CnnConfig::default(),
                seed,
            )),
            Kind::EnsembleCnn => {
                let head: Vec<Vec<f64>> = x.iter().map(|r| r[..mel.offset].to_vec()).collect();
                let mut members: Vec<Model> =
                    [Kind::Knn, Kind::Svm, Kind::Rf, Kind::Gbt, Kind::Mlp]
                        .into_iter()
                        .map(|k| Model::Head {
                            len: mel.offset,
                            model: Box::new(Model::fit(k, &head, y, classes, seed)),
                        })
                        .collect();
                members.push(Model::fit_with(Kind::Cnn, x, y, classes, seed, mel));
                Model::Ensemble { members }
            }
            Kind::Knn => Model::Knn(Knn::fit(x, y, classes, 5)),
            Kind::Svm => Model::Svm(Svm::fit(x, y, classes, &SvmConfig::default())),
            Kind::Rf => Model::Rf(Forest::fit(x, y, classes, &ForestConfig::default(), seed)),
            Kind::Gbt => Model::Gbt(Gbt::fit(x, y, classes, &GbtConfig::default(), seed)),
            Kind::Mlp => Model::Mlp(Mlp::fit(x, y, classes, &MlpConfig::default(), seed)),
            Kind::Ensemble => Model::Ensemble {
                members: [Kind::Knn, Kind::Svm, Kind::Rf, Kind::Gbt, Kind::Mlp]
                    .into_iter()
                    .map(|k| Model::fit(k, x, y, classes, seed))
                    .collect(),
            },
        }
    }

    /// Class probabilities of one standardised row.
    pub fn proba(&self, row: &[f64]) -> Vec<f64> {
        match self {
            Model::Knn(m) => m.proba(row),
            Model::Svm(m) => m.proba(row),
            Model::Rf(m) => m.proba(row),
            Model::Gbt(m) => m.proba(row),
            Model::Mlp(m) => m.proba(row),
            Model::Cnn(m) => m.proba(row),
            Model::Head { len, model } => model.proba(&row[..(*len).min(row.len())]),
            Model::Ensemble { members } => {
                let mut sum = members[0].proba(row);
                for m in &members[1..] {
                    for (s, p) in sum.iter_mut().zip(m.proba(row)) {
                        *s += p;
                    }
                }
                sum.iter().map(|s| s / members.len() as f64).collect()
            }
        }
    }
}

/// Softmax of scores, stable.
pub(crate) fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Index of the largest value.
pub fn argmax(v: &[f64]) -> usize {
    (0..v.len())
        .max_by(|&a, &b| v[a].total_cmp(&v[b]))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three Gaussian blobs in 4 dimensions, and rings that no linear boundary separates.
    fn blobs(n: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<usize>) {
        let mut rng = Rng::new(seed);
        let centres = [
            [0.0, 0.0, 0.0, 0.0],
            [3.0, 3.0, 0.0, 0.0],
            [0.0, 3.0, 3.0, 0.0],
        ];
        (0..n)
            .map(|i| {
                let c = i % 3;
                (
                    centres[c].iter().map(|m| m + rng.normal() * 0.7).collect(),
                    c,
                )
            })
            .unzip()
    }

    fn rings(n: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<usize>) {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|i| {
                let c = i % 2;
                let r = if c == 0 { 1.0 } else { 3.0 } + rng.normal() * 0.2;
                let a = rng.unit() * std::f64::consts::TAU;
                (vec![r * a.cos(), r * a.sin()], c)
            })
            .unzip()
    }

    fn accuracy(m: &Model, x: &[Vec<f64>], y: &[usize]) -> f64 {
        x.iter()
            .zip(y)
            .filter(|(r, &c)| argmax(&m.proba(r)) == c)
            .count() as f64
            / y.len() as f64
    }

    #[test]
    fn every_classifier_learns_blobs_and_rings() {
        let (x, y) = blobs(300, 1);
        let (tx, ty) = blobs(150, 2);
        let (rx, ry) = rings(300, 3);
        let (rtx, rty) = rings(150, 4);
        for kind in [
            Kind::Knn,
            Kind::Svm,
            Kind::Rf,
            Kind::Gbt,
            Kind::Mlp,
            Kind::Ensemble,
        ] {
            let m = Model::fit(kind, &x, &y, 3, 9);
            let acc = accuracy(&m, &tx, &ty);
            assert!(acc > 0.9, "{kind:?} on blobs: {acc}");
            let p = m.proba(&tx[0]);
            assert!(
                (p.iter().sum::<f64>() - 1.0).abs() < 1e-9,
                "{kind:?}: {p:?}"
            );
            let m = Model::fit(kind, &rx, &ry, 2, 9);
            let acc = accuracy(&m, &rtx, &rty);
            assert!(acc > 0.9, "{kind:?} on rings: {acc}");
        }
    }

    #[test]
    fn models_save_and_load_with_identical_probabilities() {
        let (x, y) = blobs(90, 5);
        for kind in [
            Kind::Knn,
            Kind::Svm,
            Kind::Rf,
            Kind::Gbt,
            Kind::Mlp,
            Kind::Ensemble,
        ] {
            let m = Model::fit(kind, &x, &y, 3, 1);
            let json = serde_json::to_string(&m).unwrap();
            let back: Model = serde_json::from_str(&json).unwrap();
            assert_eq!(m.proba(&x[7]), back.proba(&x[7]), "{kind:?}");
        }
    }

    #[test]
    fn standardizer_uses_training_statistics_only() {
        let s = Standardizer::fit(&[vec![1.0, 5.0], vec![3.0, 5.0]]);
        assert_eq!(s.apply(&[2.0, 5.0]), vec![0.0, 0.0]);
        assert_eq!(s.apply(&[3.0, 7.0]), vec![1.0, 2.0]);
    }
}
