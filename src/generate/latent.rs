//! Latent vectors: encode a primer to its posterior mean, and interpolate between two latents
//! along the sphere (spherical interpolation keeps the norm a Gaussian latent expects).

use dfdx::prelude::*;

use crate::model::Vae;

/// The posterior mean of the encoder for the last `window` ids (at least two).
pub fn encode_mean(model: &impl Vae, ids: &[u32], window: usize) -> Option<Vec<f32>> {
    let ids = &ids[ids.len().saturating_sub(window)..];
    if ids.len() < 2 {
        return None;
    }
    let stats = model.encode(ids, 1, NoneTape, None).as_vec();
    let z = model.config().latent;
    Some(stats[..z].to_vec())
}

/// Spherical interpolation from `a` (t = 0) to `b` (t = 1); linear when they are parallel.
pub fn slerp(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    let cos = (dot / (na * nb).max(1e-12)).clamp(-1.0, 1.0);
    let omega = cos.acos();
    if omega.abs() < 1e-4 {
        return a.iter().zip(b).map(|(x, y)| x + (y - x) * t).collect();
    }
    let (wa, wb) = (
        ((1.0 - t) * omega).sin() / omega.sin(),
        (t * omega).sin() / omega.sin(),
    );
    a.iter().zip(b).map(|(x, y)| wa * x + wb * y).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slerp_endpoints_are_the_two_latents() {
        let a = [1.0, 0.5, -2.0, 0.0];
        let b = [-0.3, 2.0, 1.0, 1.5];
        let close = |x: &[f32], y: &[f32]| x.iter().zip(y).all(|(p, q)| (p - q).abs() < 1e-5);
        assert!(close(&slerp(&a, &b, 0.0), &a));
        assert!(close(&slerp(&a, &b, 1.0), &b));
        // Halfway between two orthogonal unit vectors lies on the unit circle.
        let mid = slerp(&[1.0, 0.0], &[0.0, 1.0], 0.5);
        assert!((mid[0] - mid[1]).abs() < 1e-6 && (mid[0].hypot(mid[1]) - 1.0).abs() < 1e-6);
        assert!(close(&slerp(&a, &a, 0.3), &a));
    }
}
