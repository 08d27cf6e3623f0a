"""Reference numbers from PyTorch for testing a hand-written LSTM (and the VAE's KL and
cross-entropy) without installing PyTorch. Writes fixtures/lstm_reference.json (run it from tests/).

Layout: time-major input x[T][B][I]; PyTorch gate order (input, forget, cell, output);
weight_ih[4H][I], weight_hh[4H][H], bias_ih[4H], bias_hh[4H] per layer (two biases, add them if
you keep one). Loss = sum(output**2) / 2 with output the last layer's h at every step; grads are
d loss / d parameter and d loss / d x.
"""
import json, torch
torch.manual_seed(1234)
T, B, I, H, L = 5, 2, 4, 3, 2
lstm = torch.nn.LSTM(I, H, num_layers=L).double()
x = torch.randn(T, B, I, dtype=torch.double, requires_grad=True)
out, (hn, cn) = lstm(x)
loss = (out ** 2).sum() / 2
loss.backward()
params = {n: p.detach().tolist() for n, p in lstm.named_parameters()}
grads = {n: p.grad.tolist() for n, p in lstm.named_parameters()}
# KL of N(mu, exp(logvar)) to N(0, I), summed over the latent, mean over the batch; and CE.
mu = torch.tensor([[0.5, -1.0, 0.0], [1.5, 0.2, -0.3]], dtype=torch.double)
logvar = torch.tensor([[0.0, -0.5, 0.3], [-1.0, 0.1, 0.0]], dtype=torch.double)
kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(-1)).mean()
logits = torch.tensor([[2.0, 0.5, -1.0, 0.0], [0.1, 0.2, 0.3, 0.4]], dtype=torch.double)
target = torch.tensor([0, 3])
ce = torch.nn.functional.cross_entropy(logits, target)
json.dump({
  'torch_version': torch.__version__, 'T': T, 'B': B, 'input_size': I, 'hidden_size': H, 'layers': L,
  'gate_order': 'i,f,g,o', 'x': x.detach().tolist(), 'params': params,
  'output': out.detach().tolist(), 'h_n': hn.detach().tolist(), 'c_n': cn.detach().tolist(),
  'loss': loss.item(), 'grads': grads, 'grad_x': x.grad.tolist(),
  'kl': {'mu': mu.tolist(), 'logvar': logvar.tolist(), 'value': kl.item()},
  'cross_entropy': {'logits': logits.tolist(), 'target': target.tolist(), 'value': ce.item()},
}, open('fixtures/lstm_reference.json', 'w'), indent=1)
print('loss', loss.item(), 'kl', kl.item(), 'ce', ce.item())
