//! Embedding lookups as single ops with hand-written backward passes (dfdx's `gather` walks an
//! index iterator per value and its backward another). The models use [`embedded_linear`]: the
//! lookup (and the VAE-LSTM decoder's `embed[id] * keep + lifted z`) fused with the first LSTM
//! layer's input product. The plain fused lookups (`embedding`, `embedding_plus`) are kept for
//! the tests, as the reference the product is checked against.

use dfdx::prelude::*;

use super::linalg::{matmul, to_vec, Real};
use super::Mat;

/// A matrix on a tape, one row per position.
pub type Rows<E, T> = Tensor<(usize, usize), E, Cpu, T>;

#[cfg(test)]
/// Rows `table[ids[r]]` (`ids.len() x E`), recording on `tape` the gradient into `table`.
/// An id past the table is a caller bug and panics, like `gather`.
pub fn embedding<E: Real, T: Tape<E, Cpu>>(
    table: &Mat<E>,
    ids: &[u32],
    tape: T,
) -> Tensor<(usize, usize), E, Cpu, T>
where
    Cpu: Device<E>,
{
    let x = embed_rows(table, ids, None, None);
    record(table, ids, None, x, tape, None)
}

#[cfg(test)]
/// The decoder input of `ids.len()` positions of windows `steps` long: row `r` is
/// `table[ids[r]] * keep[r] + lifted[r / steps]` (`keep` all ones when `None`), on `lifted`'s
/// tape, with the gradient into both `table` and `lifted`.
pub fn embedding_plus<E: Real, T: Tape<E, Cpu>>(
    table: &Mat<E>,
    ids: &[u32],
    keep: Option<Vec<E>>,
    lifted: Tensor<(usize, usize), E, Cpu, T>,
    steps: usize,
) -> Tensor<(usize, usize), E, Cpu, T>
where
    Cpu: Device<E>,
{
    let (lifted, tape) = lifted.split_tape();
    assert_eq!(lifted.shape().1, table.shape().1, "embedding_plus: widths");
    assert_eq!(
        lifted.shape().0 * steps,
        ids.len(),
        "embedding_plus: one lifted row per window"
    );
    let lv = to_vec(&lifted);
    let x = embed_rows(table, ids, keep.as_deref(), Some((&lv, steps)));
    record(table, ids, keep, x, tape, Some((lifted, steps)))
}

#[cfg(test)]
fn embed_rows<E: Real>(
    table: &Mat<E>,
    ids: &[u32],
    keep: Option<&[E]>,
    add: Option<(&[E], usize)>,
) -> Vec<E> {
    let (v, e) = *table.shape();
    let tab = to_vec(table);
    let mut out = vec![E::zero(); ids.len() * e];
    for (r, (row, &id)) in out.chunks_exact_mut(e).zip(ids).enumerate() {
        let id = id as usize;
        assert!(id < v, "embedding: id {id} past a table of {v} rows");
        let src = &tab[id * e..(id + 1) * e];
        let k = keep.map_or(E::one(), |k| k[r]);
        match add {
            Some((l, steps)) => {
                let l = &l[(r / steps) * e..(r / steps + 1) * e];
                for ((y, &x), &l) in row.iter_mut().zip(src).zip(l) {
                    *y = x * k + l;
                }
            }
            None => row.copy_from_slice(src),
        }
    }
    out
}

#[cfg(test)]
fn record<E: Real, T: Tape<E, Cpu>>(
    table: &Mat<E>,
    ids: &[u32],
    keep: Option<Vec<E>>,
    x: Vec<E>,
    mut tape: T,
    lifted: Option<(Mat<E>, usize)>,
) -> Tensor<(usize, usize), E, Cpu, T>
where
    Cpu: Device<E>,
{
    let e = table.shape().1;
    let out = table.device().tensor_from_vec(x, (ids.len(), e));
    if T::OWNS_TAPE {
        let (table, out, ids) = (table.clone(), out.clone(), ids.to_vec());
        tape.add_backward_op(move |grads| {
            let dy = E::grad(grads, &out)?.clone();
            let dt = E::grad(grads, &table)?;
            for (r, (d, &id)) in dy.chunks_exact(e).zip(&ids).enumerate() {
                let k = keep.as_ref().map_or(E::one(), |k| k[r]);
                let g = &mut dt[id as usize * e..(id as usize + 1) * e];
                g.iter_mut().zip(d).for_each(|(g, &d)| *g += d * k);
            }
            if let Some((lifted, steps)) = &lifted {
                let dl = E::grad(grads, lifted)?;
                for (r, d) in dy.chunks_exact(e).enumerate() {
                    let g = &mut dl[(r / steps) * e..(r / steps + 1) * e];
                    g.iter_mut().zip(d).for_each(|(g, &d)| *g += d);
                }
            }
            Ok(())
        });
    }
    out.put_tape(tape)
}

/// `(table[ids[r]] * keep[r] + lifted[r / steps]) W + bias` for every position `r` (the first LSTM
/// layer's input product), computed from the products of the table's `V` rows and the `B`
/// lifted rows with `W` instead of the `N` positions' rows: the same values up to rounding, about
/// `N / (V + B)` times fewer multiply-adds forward and backward. `lifted` is `None` for the
/// encoder's plain lookup, whose tape then comes from `tape`.
pub fn embedded_linear<E: Real, T: Tape<E, Cpu>>(
    table: &Mat<E>,
    ids: &[u32],
    keep: Option<Vec<E>>,
    lifted: Option<(Rows<E, T>, usize)>,
    (w, bias): (&Mat<E>, &Mat<E>),
    tape: T,
) -> Tensor<(usize, usize), E, Cpu, T>
where
    Cpu: Device<E>,
{
    let (v, e) = *table.shape();
    let o = w.shape().1;
    assert_eq!(w.shape().0, e, "embedded_linear: weight {:?}", w.shape());
    let (lifted, mut tape) = match lifted {
        Some((l, steps)) => {
            let (l, t) = l.split_tape();
            assert_eq!(l.shape().1, e, "embedded_linear: lifted width");
            assert_eq!(l.shape().0 * steps, ids.len(), "embedded_linear: rows");
            (Some((l, steps)), tape.merge(t))
        }
        None => (None, tape),
    };
    let (tab, wv, bv) = (to_vec(table), to_vec(w), to_vec(bias));
    let mut tw = vec![E::zero(); v * o];
    matmul((v, e, o), &tab, false, &wv, false, &mut tw, false);
    let lw = lifted.as_ref().map(|(l, _)| {
        let lv = to_vec(l);
        let mut lw = vec![E::zero(); l.shape().0 * o];
        matmul((l.shape().0, e, o), &lv, false, &wv, false, &mut lw, false);
        (lv, lw)
    });
    let mut y = vec![E::zero(); ids.len() * o];
    for (r, (row, &id)) in y.chunks_exact_mut(o).zip(ids).enumerate() {
        let id = id as usize;
        assert!(id < v, "embedding: id {id} past a table of {v} rows");
        let k = keep.as_ref().map_or(E::one(), |k| k[r]);
        let t = &tw[id * o..(id + 1) * o];
        match (&lw, &lifted) {
            (Some((_, lw)), Some((_, steps))) => {
                let l = &lw[(r / steps) * o..(r / steps + 1) * o];
                for (((y, &t), &l), &b) in row.iter_mut().zip(t).zip(l).zip(&bv) {
                    *y = t * k + l + b;
                }
            }
            _ => {
                for ((y, &t), &b) in row.iter_mut().zip(t).zip(&bv) {
                    *y = t * k + b;
                }
            }
        }
    }
    let out = table.device().tensor_from_vec(y, (ids.len(), o));
    if T::OWNS_TAPE {
        let (table, w, bias, out, ids) = (
            table.clone(),
            w.clone(),
            bias.clone(),
            out.clone(),
            ids.to_vec(),
        );
        tape.add_backward_op(move |grads| {
            let dy = E::grad(grads, &out)?.clone();
            // Position gradients summed per table row (times keep) and per lifted row.
            let mut s = vec![E::zero(); v * o];
            let mut sl = lifted
                .as_ref()
                .map(|(l, _)| vec![E::zero(); l.shape().0 * o]);
            let gb = E::grad(grads, &bias)?;
            for (r, (d, &id)) in dy.chunks_exact(o).zip(&ids).enumerate() {
                let k = keep.as_ref().map_or(E::one(), |k| k[r]);
                let row = &mut s[id as usize * o..(id as usize + 1) * o];
                row.iter_mut().zip(d).for_each(|(s, &d)| *s += d * k);
                gb.iter_mut().zip(d).for_each(|(g, &d)| *g += d);
                if let (Some(sl), Some((_, steps))) = (sl.as_mut(), &lifted) {
                    let row = &mut sl[(r / steps) * o..(r / steps + 1) * o];
                    row.iter_mut().zip(d).for_each(|(s, &d)| *s += d);
                }
            }
            let gw = E::grad(grads, &w)?;
            matmul((e, v, o), &tab, true, &s, false, gw, true);
            if let (Some(sl), Some((lv, _))) = (&sl, &lw) {
                matmul((e, sl.len() / o, o), lv, true, sl, false, gw, true);
            }
            matmul(
                (v, o, e),
                &s,
                false,
                &wv,
                true,
                E::grad(grads, &table)?,
                true,
            );
            if let (Some(sl), Some((l, _))) = (&sl, &lifted) {
                let dl = E::grad(grads, l)?;
                matmul((sl.len() / o, o, e), sl, false, &wv, true, dl, true);
            }
            Ok(())
        });
    }
    out.put_tape(tape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::vae::{id_tensor, repeat_rows, word_mask};
    use crate::model::{init_uniform, linalg::to_vec};
    use rand::SeedableRng;

    /// The fused decoder input against the dfdx ops it replaced (gather, row mask, gather of
    /// the lifted rows, add): same values, same gradients for the table and the lifted rows.
    #[test]
    fn fused_decoder_input_matches_the_dfdx_ops_it_replaced() {
        let dev = Cpu::default();
        let rng = &mut rand::rngs::StdRng::seed_from_u64(3);
        let (v, e, batch, steps) = (11, 5, 3, 7);
        let table: Mat<f64> = init_uniform(&dev, rng, (v, e), 1.0);
        let lifted: Mat<f64> = init_uniform(&dev, rng, (batch, e), 1.0);
        let ids: Vec<u32> = (0..batch * steps).map(|i| (i * 7 % v) as u32).collect();
        let r: Mat<f64> = init_uniform(&dev, rng, (batch * steps, e), 1.0);
        let mask = word_mask(&dev, (batch * steps, e), 0.4, Some(9)).unwrap();
        let mask = dev.tensor_from_vec(
            to_vec(&mask).into_iter().map(|x| x as f64).collect(),
            (batch * steps, e),
        );
        let keep: Vec<f64> = to_vec(&word_mask(&dev, (batch * steps, 1), 0.4, Some(9)).unwrap())
            .into_iter()
            .map(|x| x as f64)
            .collect();
        assert!(keep.contains(&0.0) && keep.contains(&1.0));

        let old_grads = {
            let l = lifted.clone().traced(Gradients::leaky());
            let (l, tape) = l.split_tape();
            let x = table.clone().put_tape(tape).gather(id_tensor(&dev, &ids)) * mask;
            let (x, tape) = x.split_tape();
            let lr = l.put_tape(tape).gather(repeat_rows(&dev, batch, steps));
            let (lr, tape) = lr.split_tape();
            let y = x.put_tape(tape) + lr;
            let old = y.as_vec();
            let g = (y * r.clone()).sum::<Rank0, _>().backward();
            (old, g.get(&table).as_vec(), g.get(&lifted).as_vec())
        };
        let y = embedding_plus(
            &table,
            &ids,
            Some(keep),
            lifted.clone().traced(Gradients::leaky()),
            steps,
        );
        let new = y.as_vec();
        let g = (y * r.clone()).sum::<Rank0, _>().backward();
        let close = |a: &[f64], b: &[f64]| {
            assert_eq!(a.len(), b.len());
            a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-12)
        };
        assert!(close(&new, &old_grads.0), "values");
        assert!(close(&g.get(&table).as_vec(), &old_grads.1), "table grad");
        assert!(close(&g.get(&lifted).as_vec(), &old_grads.2), "lifted grad");

        // The plain lookup against `gather`.
        let y = embedding(&table, &ids, OwnedTape::default());
        let old = table
            .clone()
            .traced(Gradients::leaky())
            .gather(id_tensor(&dev, &ids));
        assert!(close(&y.as_vec(), &old.as_vec()));
        let g_new = (y * r.clone()).sum::<Rank0, _>().backward();
        let g_old = (old * r).sum::<Rank0, _>().backward();
        assert!(close(
            &g_new.get(&table).as_vec(),
            &g_old.get(&table).as_vec()
        ));
    }
}

#[cfg(test)]
mod linear_tests {
    use super::*;
    use crate::model::vae::word_mask;
    use crate::model::{init_uniform, linear};
    use rand::SeedableRng;

    /// The first layer's input product from table and lifted rows equals `linear` of the
    /// per-position inputs (the path it replaced): values and every gradient.
    #[test]
    fn embedded_linear_matches_linear_of_the_embedded_rows() {
        let dev = Cpu::default();
        let rng = &mut rand::rngs::StdRng::seed_from_u64(4);
        let (v, e, o, batch, steps) = (9, 4, 6, 3, 5);
        let table: Mat<f64> = init_uniform(&dev, rng, (v, e), 1.0);
        let w: Mat<f64> = init_uniform(&dev, rng, (e, o), 1.0);
        let b: Mat<f64> = init_uniform(&dev, rng, (1, o), 1.0);
        let lifted: Mat<f64> = init_uniform(&dev, rng, (batch, e), 1.0);
        let r: Mat<f64> = init_uniform(&dev, rng, (batch * steps, o), 1.0);
        let ids: Vec<u32> = (0..batch * steps).map(|i| (i * 4 % v) as u32).collect();
        let keep: Vec<f64> = to_vec(&word_mask(&dev, (batch * steps, 1), 0.4, Some(2)).unwrap())
            .into_iter()
            .map(|x| x as f64)
            .collect();
        let close = |what: &str, a: &[f64], b: &[f64]| {
            assert_eq!(a.len(), b.len(), "{what}");
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < 1e-12, "{what}: {x} vs {y}");
            }
        };
        for with_lifted in [false, true] {
            let keep = with_lifted.then(|| keep.clone());
            let l = lifted.clone().traced(Gradients::leaky());
            let (l, tape) = l.split_tape();
            let old = if with_lifted {
                embedding_plus(&table, &ids, keep.clone(), l.clone().put_tape(tape), steps)
            } else {
                embedding(&table, &ids, tape)
            };
            let old = linear(old, &w, &b);
            let new = embedded_linear(
                &table,
                &ids,
                keep,
                with_lifted.then(|| (l.traced(Gradients::leaky()), steps)),
                (&w, &b),
                OwnedTape::default(),
            );
            close("values", &new.as_vec(), &old.as_vec());
            let go = (old * r.clone()).sum::<Rank0, _>().backward();
            let gn = (new * r.clone()).sum::<Rank0, _>().backward();
            for (what, p) in [("table", &table), ("w", &w), ("bias", &b)] {
                close(what, &gn.get(p).as_vec(), &go.get(p).as_vec());
            }
            if with_lifted {
                close(
                    "lifted",
                    &gn.get(&lifted).as_vec(),
                    &go.get(&lifted).as_vec(),
                );
            }
        }
    }
}
