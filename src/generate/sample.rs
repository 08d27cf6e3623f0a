//! Choosing the next token from logits: arg-max, temperature, top-k, top-p (nucleus) and a
//! repetition penalty, with a seed for repeatable runs.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// An illegal sampling setting.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SampleError {
    #[error("temperature must be > 0 (got {0}); use arg-max for deterministic output")]
    Temperature(f32),
    #[error("top-p must be in (0, 1] (got {0})")]
    TopP(f32),
    #[error("top-k must be at least 1 (got 0)")]
    TopK,
    #[error("repetition penalty must be >= 1 (got {0})")]
    Penalty(f32),
}

/// How the next token is chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Always take the most likely token (the paper's decoding, which repeats itself).
    pub argmax: bool,
    pub temperature: f32,
    /// Keep only the k most likely tokens.
    pub top_k: Option<usize>,
    /// Keep the smallest set of most likely tokens whose probability reaches p.
    pub top_p: Option<f32>,
    /// Divide positive logits (multiply negative ones) of recently used tokens by this.
    pub repetition_penalty: f32,
    /// How many recent tokens the penalty looks at.
    pub penalty_window: usize,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            argmax: false,
            temperature: 1.0,
            top_k: None,
            top_p: Some(0.95),
            repetition_penalty: 1.0,
            penalty_window: 32,
        }
    }
}

impl Sampling {
    pub fn validate(&self) -> Result<(), SampleError> {
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return Err(SampleError::Temperature(self.temperature));
        }
        if let Some(p) = self.top_p {
            if !(p > 0.0 && p <= 1.0) {
                return Err(SampleError::TopP(p));
            }
        }
        if self.top_k == Some(0) {
            return Err(SampleError::TopK);
        }
        if !(self.repetition_penalty >= 1.0 && self.repetition_penalty.is_finite()) {
            return Err(SampleError::Penalty(self.repetition_penalty));
        }
        Ok(())
    }

    /// The tokens that may be drawn and their probabilities (summing to 1), after the penalty,
    /// temperature, top-k and top-p. Arg-max keeps the single best token.
    pub fn distribution(&self, logits: &[f32], recent: &[u32]) -> Vec<(u32, f64)> {
        let mut z: Vec<f64> = logits.iter().map(|&v| v as f64).collect();
        if self.repetition_penalty > 1.0 {
            let start = recent.len().saturating_sub(self.penalty_window);
            let mut seen = vec![false; z.len()];
            for &t in &recent[start..] {
                if let Some(s) = seen.get_mut(t as usize) {
                    *s = true;
                }
            }
            let p = self.repetition_penalty as f64;
            for (v, s) in z.iter_mut().zip(&seen) {
                if *s {
                    *v = if *v > 0.0 { *v / p } else { *v * p };
                }
            }
        }
        let mut order: Vec<u32> = (0..z.len() as u32)
            .filter(|&i| z[i as usize].is_finite())
            .collect();
        order.sort_by(|&a, &b| z[b as usize].total_cmp(&z[a as usize]).then(a.cmp(&b)));
        if order.is_empty() {
            return vec![(0, 1.0)];
        }
        if self.argmax {
            return vec![(order[0], 1.0)];
        }
        let t = self.temperature as f64;
        let top = z[order[0] as usize];
        let mut kept: Vec<(u32, f64)> = order
            .iter()
            .map(|&i| (i, ((z[i as usize] - top) / t).exp()))
            .collect();
        if let Some(k) = self.top_k {
            kept.truncate(k.max(1));
        }
        let total: f64 = kept.iter().map(|p| p.1).sum();
        kept.iter_mut().for_each(|p| p.1 /= total);
        if let Some(p) = self.top_p {
            let mut acc = 0.0;
            let mut n = 0;
            for (_, q) in &kept {
                acc += q;
                n += 1;
                if acc >= p as f64 - 1e-12 {
                    break;
                }
            }
            kept.truncate(n.max(1));
            let total: f64 = kept.iter().map(|p| p.1).sum();
            kept.iter_mut().for_each(|p| p.1 /= total);
        }
        kept
    }

    /// Draws the next token.
    pub fn sample(&self, logits: &[f32], recent: &[u32], rng: &mut Rng) -> u32 {
        let dist = self.distribution(logits, recent);
        let mut u = rng.unit();
        for (t, p) in &dist {
            if u < *p {
                return *t;
            }
            u -= p;
        }
        dist[dist.len() - 1].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGITS: [f32; 6] = [1.0, 3.0, 2.5, -1.0, 0.0, 2.9];

    #[test]
    fn illegal_settings_are_errors() {
        let bad = |s: Sampling| s.validate().unwrap_err().to_string();
        assert!(bad(Sampling {
            temperature: 0.0,
            ..Sampling::default()
        })
        .contains("temperature"));
        assert!(bad(Sampling {
            temperature: -1.0,
            ..Sampling::default()
        })
        .contains("> 0"));
        assert!(bad(Sampling {
            top_p: Some(0.0),
            ..Sampling::default()
        })
        .contains("(0, 1]"));
        assert!(bad(Sampling {
            top_p: Some(1.5),
            ..Sampling::default()
        })
        .contains("top-p"));
        assert!(bad(Sampling {
            top_k: Some(0),
            ..Sampling::default()
        })
        .contains("top-k"));
        assert!(Sampling::default().validate().is_ok());
    }

    #[test]
    fn a_seed_repeats_a_run() {
        let s = Sampling::default();
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (0..50)
                .map(|_| s.sample(&LOGITS, &[], &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }

    #[test]
    fn temperature_towards_zero_is_argmax() {
        let cold = Sampling {
            temperature: 1e-4,
            top_p: None,
            ..Sampling::default()
        };
        let greedy = Sampling {
            argmax: true,
            ..Sampling::default()
        };
        let mut rng = Rng::new(1);
        for _ in 0..200 {
            assert_eq!(cold.sample(&LOGITS, &[], &mut rng), 1);
        }
        assert_eq!(greedy.sample(&LOGITS, &[], &mut rng), 1);
    }

    #[test]
    fn top_k_and_top_p_never_leave_the_kept_set() {
        let k = Sampling {
            top_k: Some(2),
            top_p: None,
            ..Sampling::default()
        };
        let p = Sampling {
            top_k: None,
            top_p: Some(0.5),
            ..Sampling::default()
        };
        let dist = p.distribution(&LOGITS, &[]);
        let kept: Vec<u32> = dist.iter().map(|d| d.0).collect();
        // Probabilities at T = 1: token 1 0.36, token 5 0.33 -> together past 0.5.
        assert_eq!(kept, [1, 5]);
        let mut rng = Rng::new(3);
        let mut seen = [0usize; 6];
        for _ in 0..2000 {
            assert!([1, 5].contains(&k.sample(&LOGITS, &[], &mut rng)));
            seen[p.sample(&LOGITS, &[], &mut rng) as usize] += 1;
        }
        assert_eq!(seen[0] + seen[2] + seen[3] + seen[4], 0);
        assert!(seen[1] > 0 && seen[5] > 0);
    }

    #[test]
    fn repetition_penalty_lowers_recent_tokens() {
        let s = Sampling {
            repetition_penalty: 3.0,
            top_p: None,
            ..Sampling::default()
        };
        let plain = Sampling {
            top_p: None,
            ..Sampling::default()
        };
        let with = s.distribution(&LOGITS, &[1, 1]);
        let without = plain.distribution(&LOGITS, &[1, 1]);
        let p1 = |d: &[(u32, f64)]| d.iter().find(|x| x.0 == 1).unwrap().1;
        assert!(p1(&with) < 0.5 * p1(&without));
        assert!((with.iter().map(|x| x.1).sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
