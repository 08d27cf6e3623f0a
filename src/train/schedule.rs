//! Schedules by step: learning-rate warm-up then cosine decay, and the KL weight (beta) with
//! linear or cyclical annealing (Fu et al. 2019) so the decoder cannot learn to ignore z early.

use serde::{Deserialize, Serialize};

/// Linear warm-up from 0 to `lr` over `warmup` steps, then cosine decay to `min_lr` at `total`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    pub lr: f64,
    pub min_lr: f64,
    pub warmup: usize,
    pub total: usize,
}

impl LrSchedule {
    pub fn at(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.lr * (step + 1) as f64 / self.warmup as f64;
        }
        let span = self.total.saturating_sub(self.warmup).max(1);
        let p = ((step - self.warmup) as f64 / span as f64).min(1.0);
        self.min_lr + 0.5 * (self.lr - self.min_lr) * (1.0 + (std::f64::consts::PI * p).cos())
    }
}

/// How the KL weight moves from 0 to its maximum.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Anneal {
    /// Always the maximum.
    None,
    /// From 0 to the maximum over `steps`, then flat.
    Linear { steps: usize },
    /// `cycles` saw-tooth cycles over the run: each rises over its first `ratio` part, then stays.
    Cyclical { cycles: usize, ratio: f64 },
}

/// The KL weight at a step of a run of `total` steps.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BetaSchedule {
    pub max: f64,
    pub anneal: Anneal,
}

impl BetaSchedule {
    pub fn at(&self, step: usize, total: usize) -> f64 {
        let frac = match self.anneal {
            Anneal::None => 1.0,
            Anneal::Linear { steps } => (step as f64 / steps.max(1) as f64).min(1.0),
            Anneal::Cyclical { cycles, ratio } => {
                let period = (total as f64 / cycles.max(1) as f64).max(1.0);
                let pos = (step as f64 % period) / period;
                (pos / ratio.clamp(1e-6, 1.0)).min(1.0)
            }
        };
        self.max * frac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rate_warms_up_then_decays_to_the_floor() {
        let s = LrSchedule {
            lr: 1e-3,
            min_lr: 1e-5,
            warmup: 10,
            total: 110,
        };
        assert!((s.at(0) - 1e-4).abs() < 1e-12);
        assert!((s.at(9) - 1e-3).abs() < 1e-12);
        assert!((s.at(60) - (1e-5 + 0.5 * (1e-3 - 1e-5))).abs() < 1e-12);
        assert!((s.at(110) - 1e-5).abs() < 1e-12);
        assert!((s.at(500) - 1e-5).abs() < 1e-12);
    }

    #[test]
    fn beta_anneals_linearly_and_in_cycles() {
        let lin = BetaSchedule {
            max: 0.5,
            anneal: Anneal::Linear { steps: 100 },
        };
        assert_eq!(lin.at(0, 1000), 0.0);
        assert!((lin.at(50, 1000) - 0.25).abs() < 1e-12);
        assert_eq!(lin.at(400, 1000), 0.5);
        let cyc = BetaSchedule {
            max: 1.0,
            anneal: Anneal::Cyclical {
                cycles: 4,
                ratio: 0.5,
            },
        };
        // Period 250: rises over 125 steps, holds, then starts again.
        assert_eq!(cyc.at(0, 1000), 0.0);
        assert!((cyc.at(62, 1000) - 62.0 / 125.0).abs() < 1e-12);
        assert_eq!(cyc.at(200, 1000), 1.0);
        assert_eq!(cyc.at(250, 1000), 0.0);
    }
}
