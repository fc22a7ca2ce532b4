"""Per-parameter update rules in plain PyTorch ops, the way the papers' reference optimizers run
them (one Python-level loop over parameters, a few kernels each). Moments are fp32 whatever the
parameter dtype, as in frugal-optim by default."""
import math

import torch


class Adam:
    """AdamW moments for one tensor (or one compressed view of it), torch-style bias correction."""

    def __init__(self, shape, device, betas=(0.9, 0.999), eps=1e-8):
        self.m = torch.zeros(shape, device=device, dtype=torch.float32)
        self.v = torch.zeros(shape, device=device, dtype=torch.float32)
        self.t = 0
        self.betas, self.eps = betas, eps

    def direction(self, g):
        """m_hat / (sqrt(v_hat) + eps) for gradient g (any float dtype); updates the moments."""
        b1, b2 = self.betas
        self.t += 1
        g = g.float()
        self.m.mul_(b1).add_(g, alpha=1 - b1)
        self.v.mul_(b2).addcmul_(g, g, value=1 - b2)
        bc1, bc2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        denom = (self.v.sqrt() / math.sqrt(bc2)).add_(self.eps)
        return (self.m / bc1) / denom

    def nbytes(self):
        return 2 * self.m.numel() * 4


def apply_(p, update, lr):
    """p -= lr * update, computed in fp32 and stored in p's dtype."""
    with torch.no_grad():
        if p.dtype == torch.float32:
            p.add_(update, alpha=-lr)
        else:
            p.copy_((p.float() - lr * update).to(p.dtype))


def sign_(p, r, lr):
    """signSGD on the residual r."""
    with torch.no_grad():
        p.add_(torch.sign(r).to(p.dtype), alpha=-lr)
