//! Batches from windows: the encoder and target read `w[1..=T]`, the decoder `w[0..T]`; epoch
//! orders and the latent noise come from the run's seed, so a run (and a resumed run) repeats.

use rand::{Rng, SeedableRng};

use crate::corpus::Windows;

/// Training and validation windows of `T + 1` ids each.
#[derive(Clone, Debug, Default)]
pub struct TrainData {
    pub train: Windows,
    pub val: Windows,
}

/// One batch, batch-major: `batch * steps` ids in each field.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub enc: Vec<u32>,
    pub dec: Vec<u32>,
    pub target: Vec<u32>,
    pub batch: usize,
    pub steps: usize,
}

impl Batch {
    pub fn from_windows(w: &Windows, picks: &[usize]) -> Batch {
        let steps = w.len - 1;
        let mut b = Batch {
            enc: Vec::with_capacity(picks.len() * steps),
            dec: Vec::with_capacity(picks.len() * steps),
            target: Vec::new(),
            batch: picks.len(),
            steps,
        };
        for &i in picks {
            let win = w.get(i);
            b.dec.extend_from_slice(&win[..steps]);
            b.enc.extend_from_slice(&win[1..]);
        }
        b.target = b.enc.clone();
        b
    }

    pub fn tokens(&self) -> usize {
        self.batch * self.steps
    }
}

fn rng_for(seed: u64, stream: u64, n: u64) -> rand::rngs::StdRng {
    let key = blake3::hash(&[seed.to_le_bytes(), stream.to_le_bytes(), n.to_le_bytes()].concat());
    rand::rngs::StdRng::from_seed(*key.as_bytes())
}

/// The order of `count` windows in `epoch` of a run seeded `seed`.
pub fn epoch_order(count: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    let rng = &mut rng_for(seed, 1, epoch as u64);
    for i in (1..count).rev() {
        order.swap(i, rng.gen_range(0..=i));
    }
    order
}

/// `n` standard normal draws for step `step` of a run seeded `seed` (Box-Muller).
pub fn normal_draws(seed: u64, step: u64, n: usize) -> Vec<f32> {
    let rng = &mut rng_for(seed, 2, step);
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
        let u2: f64 = rng.gen();
        let r = (-2.0 * u1.ln()).sqrt();
        let a = 2.0 * std::f64::consts::PI * u2;
        out.push((r * a.cos()) as f32);
        out.push((r * a.sin()) as f32);
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_shift_decoder_input_against_the_target() {
        let w = Windows {
            len: 4,
            ids: vec![1, 2, 3, 4, 5, 6, 7, 8],
        };
        let b = Batch::from_windows(&w, &[1, 0]);
        assert_eq!(b.dec, vec![5, 6, 7, 1, 2, 3]);
        assert_eq!(b.enc, vec![6, 7, 8, 2, 3, 4]);
        assert_eq!(b.target, b.enc);
        assert_eq!((b.batch, b.steps), (2, 3));
    }

    #[test]
    fn orders_and_draws_repeat_by_seed_and_differ_between_epochs() {
        let a = epoch_order(50, 7, 0);
        assert_eq!(a, epoch_order(50, 7, 0));
        assert_ne!(a, epoch_order(50, 7, 1));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        let d = normal_draws(3, 9, 20_001);
        assert_eq!(d, normal_draws(3, 9, 20_001));
        let mean = d.iter().map(|&x| x as f64).sum::<f64>() / d.len() as f64;
        let var = d.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / d.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }
}
