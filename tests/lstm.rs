//! The hand-written LSTM against PyTorch's `nn.LSTM` (fixture made by
//! peers/make_lstm_fixture.py) and against finite differences.

use dfdx::prelude::*;
use improv::model::lstm::{Lstm, LstmConfig, LstmLayer};
use improv::model::Mat;
use rand::{Rng, SeedableRng};
use serde_json::Value;

fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().flat_map(flat).collect(),
        x => vec![x.as_f64().expect("number")],
    }
}

/// A `(rows, cols)` PyTorch matrix transposed into our `(cols, rows)` layout.
fn transposed(v: &Value) -> (Vec<f64>, usize, usize) {
    let rows = v.as_array().unwrap().len();
    let m = flat(v);
    let cols = m.len() / rows;
    let mut t = vec![0.0; m.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = m[r * cols + c];
        }
    }
    (t, cols, rows)
}

fn close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}[{i}]: {g} vs {w}");
    }
}

struct Fixture {
    json: Value,
    lstm: Lstm<f64>,
    x: Mat<f64>,
    t: usize,
    b: usize,
    i: usize,
    h: usize,
}

fn fixture(dev: &Cpu) -> Fixture {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lstm_reference.json"),
    )
    .unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let n = |k: &str| json[k].as_u64().unwrap() as usize;
    let (t, b, i, h, layers) = (
        n("T"),
        n("B"),
        n("input_size"),
        n("hidden_size"),
        n("layers"),
    );
    assert_eq!(json["gate_order"], "i,f,g,o");
    let p = &json["params"];
    let layers = (0..layers)
        .map(|l| {
            let (wih, r1, c1) = transposed(&p[format!("weight_ih_l{l}")]);
            let (whh, r2, c2) = transposed(&p[format!("weight_hh_l{l}")]);
            let bias: Vec<f64> = flat(&p[format!("bias_ih_l{l}")])
                .iter()
                .zip(flat(&p[format!("bias_hh_l{l}")]))
                .map(|(a, b)| a + b)
                .collect();
            LstmLayer {
                w_ih: dev.tensor_from_vec(wih, (r1, c1)),
                w_hh: dev.tensor_from_vec(whh, (r2, c2)),
                bias: dev.tensor_from_vec(bias.clone(), (1, bias.len())),
            }
        })
        .collect();
    let lstm = Lstm {
        cfg: LstmConfig {
            input: i,
            hidden: h,
            layers: n("layers"),
        },
        layers,
    };
    // Time-major x[t][b] to our batch-major rows b * T + t.
    let xt = flat(&json["x"]);
    let mut x = vec![0.0; t * b * i];
    for tt in 0..t {
        for bb in 0..b {
            let src = (tt * b + bb) * i;
            x[(bb * t + tt) * i..(bb * t + tt + 1) * i].copy_from_slice(&xt[src..src + i]);
        }
    }
    let x = dev.tensor_from_vec(x, (b * t, i));
    Fixture {
        json,
        lstm,
        x,
        t,
        b,
        i,
        h,
    }
}

fn time_major(v: &[f64], t: usize, b: usize, w: usize) -> Vec<f64> {
    let mut out = vec![0.0; v.len()];
    for tt in 0..t {
        for bb in 0..b {
            let src = (bb * t + tt) * w;
            out[(tt * b + bb) * w..(tt * b + bb + 1) * w].copy_from_slice(&v[src..src + w]);
        }
    }
    out
}

#[test]
fn outputs_and_gradients_match_pytorch() {
    let dev = Cpu::default();
    let f = fixture(&dev);
    let out = f
        .lstm
        .forward(f.x.clone().traced(Gradients::leaky()), f.b, f.t);
    close(
        "output",
        &time_major(&out.as_vec(), f.t, f.b, f.h),
        &flat(&f.json["output"]),
        1e-12,
    );
    let loss = (out.square().sum::<Rank0, _>()) * 0.5;
    assert!((loss.array() - f.json["loss"].as_f64().unwrap()).abs() < 1e-12);
    let grads = loss.backward();
    let g = &f.json["grads"];
    for (l, layer) in f.lstm.layers.iter().enumerate() {
        let want = |k: &str| transposed(&g[format!("{k}_l{l}")]).0;
        close(
            "grad w_ih",
            &grads.get(&layer.w_ih).as_vec(),
            &want("weight_ih"),
            1e-12,
        );
        close(
            "grad w_hh",
            &grads.get(&layer.w_hh).as_vec(),
            &want("weight_hh"),
            1e-12,
        );
        let gb = grads.get(&layer.bias).as_vec();
        close(
            "grad bias_ih",
            &gb,
            &flat(&g[format!("bias_ih_l{l}")]),
            1e-12,
        );
        close(
            "grad bias_hh",
            &gb,
            &flat(&g[format!("bias_hh_l{l}")]),
            1e-12,
        );
    }
    let gx = grads.get(&f.x).as_vec();
    close(
        "grad x",
        &time_major(&gx, f.t, f.b, f.i),
        &flat(&f.json["grad_x"]),
        1e-12,
    );
}

#[test]
fn one_token_steps_carry_the_state_like_pytorch() {
    let dev = Cpu::default();
    let f = fixture(&dev);
    let w = f.lstm.weights();
    let mut state = w.zero_state(f.b);
    let xt = flat(&f.json["x"]);
    let want = flat(&f.json["output"]);
    for t in 0..f.t {
        let h = w.step(&xt[t * f.b * f.i..(t + 1) * f.b * f.i], &mut state);
        close(
            "step output",
            h,
            &want[t * f.b * f.h..(t + 1) * f.b * f.h],
            1e-12,
        );
    }
    close("h_n", &state.h.concat(), &flat(&f.json["h_n"]), 1e-12);
    close("c_n", &state.c.concat(), &flat(&f.json["c_n"]), 1e-12);
}

#[test]
fn gradients_match_finite_differences() {
    let dev = Cpu::default();
    let rng = &mut rand::rngs::StdRng::seed_from_u64(7);
    let cfg = LstmConfig {
        input: 3,
        hidden: 4,
        layers: 2,
    };
    let (b, t) = (2, 6);
    let mut lstm: Lstm<f64> = cfg.build(&dev, rng);
    let x: Vec<f64> = (0..b * t * cfg.input)
        .map(|_| rng.gen_range(-1.0..1.0))
        .collect();
    let x = dev.tensor_from_vec(x, (b * t, cfg.input));
    // A loss that weighs every output differently, so no gradient can cancel by symmetry.
    let r: Vec<f64> = (0..b * t * cfg.hidden)
        .map(|_| rng.gen_range(-1.0..1.0))
        .collect();
    let r = dev.tensor_from_vec(r, (b * t, cfg.hidden));
    let loss_of = |lstm: &Lstm<f64>, x: &Mat<f64>| -> f64 {
        (lstm.forward(x.clone(), b, t) * r.clone())
            .sum::<Rank0, _>()
            .array()
    };
    let out = lstm.forward(x.clone().traced(Gradients::leaky()), b, t);
    let grads = (out * r.clone()).sum::<Rank0, _>().backward();
    let eps = 1e-6;
    let mut checked = 0;
    for l in 0..cfg.layers {
        for which in 0..3 {
            fn pick(lstm: &mut Lstm<f64>, l: usize, which: usize) -> &mut Mat<f64> {
                let layer = &mut lstm.layers[l];
                [&mut layer.w_ih, &mut layer.w_hh, &mut layer.bias][which]
            }
            let analytic = grads.get(&*pick(&mut lstm, l, which)).as_vec();
            for k in (0..analytic.len()).step_by(2) {
                let mut v = pick(&mut lstm, l, which).as_vec();
                let orig = v[k];
                v[k] = orig + eps;
                pick(&mut lstm, l, which).copy_from(&v);
                let up = loss_of(&lstm, &x);
                v[k] = orig - eps;
                pick(&mut lstm, l, which).copy_from(&v);
                let down = loss_of(&lstm, &x);
                v[k] = orig;
                pick(&mut lstm, l, which).copy_from(&v);
                let numeric = (up - down) / (2.0 * eps);
                assert!(
                    (numeric - analytic[k]).abs() < 1e-7,
                    "layer {l} param {which} [{k}]: numeric {numeric} vs analytic {}",
                    analytic[k]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100);
    let gx = grads.get(&x).as_vec();
    let xv = x.as_vec();
    for k in 0..xv.len() {
        let mut v = xv.clone();
        v[k] += eps;
        let up = loss_of(&lstm, &dev.tensor_from_vec(v.clone(), (b * t, cfg.input)));
        v[k] -= 2.0 * eps;
        let down = loss_of(&lstm, &dev.tensor_from_vec(v, (b * t, cfg.input)));
        assert!(((up - down) / (2.0 * eps) - gx[k]).abs() < 1e-7, "x[{k}]");
    }
}

/// The recurrence runs in slices of the batch in parallel: a batch of 70 windows (slices of 32,
/// 32 and 6) gives each window the output and the gradient share it has when run alone.
#[test]
fn a_large_batch_equals_its_windows_run_one_at_a_time() {
    let dev = Cpu::default();
    let rng = &mut rand::rngs::StdRng::seed_from_u64(11);
    let cfg = LstmConfig {
        input: 3,
        hidden: 5,
        layers: 2,
    };
    let (b, t) = (70, 4);
    let lstm: Lstm<f64> = cfg.build(&dev, rng);
    let xs: Vec<f64> = (0..b * t * cfg.input)
        .map(|_| rng.gen_range(-1.0..1.0))
        .collect();
    let rs: Vec<f64> = (0..b * t * cfg.hidden)
        .map(|_| rng.gen_range(-1.0..1.0))
        .collect();
    let x = dev.tensor_from_vec(xs.clone(), (b * t, cfg.input));
    let r = dev.tensor_from_vec(rs.clone(), (b * t, cfg.hidden));
    let out = lstm.forward(x.clone().traced(Gradients::leaky()), b, t);
    let all = out.as_vec();
    let grads = (out * r).sum::<Rank0, _>().backward();
    let params = |l: &LstmLayer<f64>| [l.w_ih.clone(), l.w_hh.clone(), l.bias.clone()];
    let mut summed: Vec<Vec<f64>> = lstm
        .layers
        .iter()
        .flat_map(params)
        .map(|p| vec![0.0; p.shape().0 * p.shape().1])
        .collect();
    for w in 0..b {
        let xw = dev.tensor_from_vec(
            xs[w * t * cfg.input..(w + 1) * t * cfg.input].to_vec(),
            (t, cfg.input),
        );
        let rw = dev.tensor_from_vec(
            rs[w * t * cfg.hidden..(w + 1) * t * cfg.hidden].to_vec(),
            (t, cfg.hidden),
        );
        let o = lstm.forward(xw.clone().traced(Gradients::leaky()), 1, t);
        close(
            "window output",
            &o.as_vec(),
            &all[w * t * cfg.hidden..(w + 1) * t * cfg.hidden],
            1e-12,
        );
        let g = (o * rw).sum::<Rank0, _>().backward();
        close(
            "window grad x",
            &g.get(&xw).as_vec(),
            &grads.get(&x).as_vec()[w * t * cfg.input..(w + 1) * t * cfg.input],
            1e-12,
        );
        for (s, p) in summed.iter_mut().zip(lstm.layers.iter().flat_map(params)) {
            s.iter_mut()
                .zip(g.get(&p).as_vec())
                .for_each(|(s, d)| *s += d);
        }
    }
    for (s, p) in summed.iter().zip(lstm.layers.iter().flat_map(params)) {
        close("summed weight grad", &grads.get(&p).as_vec(), s, 1e-10);
    }
}
