"""FRUGAL (blocks, columns, SVD), GaLore and Grass as per-parameter PyTorch optimizers, written
for this benchmark after the papers' algorithms (FRUGAL's reference code loops over parameters
the same way; Grass published no code). Regular parameters (embeddings, norms, LM head) get
per-parameter AdamW, as in those codes. Each class: step() and state_bytes()."""
import torch

from ref_rules import Adam, apply_, sign_

LR = 1e-4


class _Base:
    def __init__(self, model, update_gap):
        self.model, self.update_gap, self.steps = model, update_gap, 0
        self.regular = {id(p): Adam(p.shape, p.device) for p in model.regular}

    def step(self):
        refresh = self.steps % self.update_gap == 0
        for p in self.model.regular:
            apply_(p, self.regular[id(p)].direction(p.grad), LR)
        self.step_projectable(refresh)
        self.steps += 1

    def state_bytes(self):
        return sum(a.nbytes() for a in self.regular.values()) + self.projectable_state_bytes()


class FrugalBlocks(_Base):
    """round(N * density) whole tensors AdamW, walking down from the last; signSGD on the rest."""

    def __init__(self, model, update_gap, density=0.25):
        super().__init__(model, update_gap)
        self.n = len(model.projectable)
        self.count = max(1, min(self.n, round(self.n * density)))
        self.active = {}

    def step_projectable(self, refresh):
        params = self.model.projectable
        if refresh:
            r = self.steps // self.update_gap
            chosen = {self.n - 1 - ((r * self.count + i) % self.n) for i in range(self.count)}
            self.active = {i: Adam(params[i].shape, params[i].device) for i in sorted(chosen)}
        for i, p in enumerate(params):
            if i in self.active:
                apply_(p, self.active[i].direction(p.grad), LR)
            else:
                sign_(p, p.grad, LR)

    def projectable_state_bytes(self):
        return sum(a.nbytes() for a in self.active.values())


class FrugalColumns(_Base):
    """int(n * density) random columns AdamW (moments m x k), signSGD on the other columns."""

    def __init__(self, model, update_gap, density=0.25):
        super().__init__(model, update_gap)
        self.density, self.cols, self.state = density, {}, {}

    def step_projectable(self, refresh):
        for p in self.model.projectable:
            key = id(p)
            if refresh:
                n = p.shape[1]
                k = max(1, int(n * self.density))
                self.cols[key] = torch.randperm(n, device=p.device)[:k].sort().values
                self.state[key] = Adam((p.shape[0], k), p.device)
            idx = self.cols[key]
            g = p.grad
            direction = self.state[key].direction(g[:, idx])
            residual = g.clone()
            residual[:, idx] = 0
            sign_(p, residual, LR)
            with torch.no_grad():
                sub = p[:, idx].float() - LR * direction
                p[:, idx] = sub.to(p.dtype)

    def projectable_state_bytes(self):
        return sum(a.nbytes() + self.cols[k].numel() * 8 for k, a in self.state.items())


class _Projector:
    """GaLore's projector: the top-r singular vectors of the gradient on the smaller side."""

    def __init__(self, g, rank):
        m, n = g.shape
        u, _s, vh = torch.linalg.svd(g.float(), full_matrices=False)
        self.right = m >= n
        self.basis = vh[:rank].t().contiguous() if self.right else u[:, :rank].contiguous()

    def down(self, g):
        return g.float() @ self.basis if self.right else self.basis.t() @ g.float()

    def up(self, low):
        return low @ self.basis.t() if self.right else self.basis @ low


class _Dense(_Base):
    def __init__(self, model, update_gap, density, scale, residual_sign, reset):
        super().__init__(model, update_gap)
        self.density, self.scale, self.residual_sign, self.reset = density, scale, residual_sign, reset
        self.proj, self.state = {}, {}

    def step_projectable(self, refresh):
        for p in self.model.projectable:
            key = id(p)
            g = p.grad
            if refresh:
                rank = max(1, round(min(p.shape) * self.density))
                self.proj[key] = _Projector(g, rank)
                low_shape = (p.shape[0], rank) if self.proj[key].right else (rank, p.shape[1])
                if self.reset or key not in self.state:
                    self.state[key] = Adam(low_shape, p.device)
            pr = self.proj[key]
            low = pr.down(g)
            apply_(p, pr.up(self.state[key].direction(low)), LR * self.scale)
            if self.residual_sign:
                sign_(p, g.float() - pr.up(low), LR)

    def projectable_state_bytes(self):
        return sum(a.nbytes() + self.proj[k].basis.numel() * 4 for k, a in self.state.items())


class FrugalSvd(_Dense):
    """FRUGAL with GaLore's SVD subspace: AdamW in the subspace, signSGD on the residual, reset at refresh."""

    def __init__(self, model, update_gap, density=0.25):
        super().__init__(model, update_gap, density, scale=1.0, residual_sign=True, reset=True)


class GaLore(_Dense):
    """GaLore: AdamW in the subspace scaled by 0.25, nothing outside it, moments kept across refreshes."""

    def __init__(self, model, update_gap, density=0.25):
        super().__init__(model, update_gap, density, scale=0.25, residual_sign=False, reset=False)


class Grass(_Base):
    """Grass: r rows (or columns, whichever side is smaller) chosen by gradient norm; AdamW on
    the compressed gradient rho * G[sigma]; the update scattered back times alpha = 0.25."""

    def __init__(self, model, update_gap, density=0.25, sampling="top-r", alpha=0.25):
        super().__init__(model, update_gap)
        self.density, self.sampling, self.alpha = density, sampling, alpha
        self.sel, self.state = {}, {}

    def step_projectable(self, refresh):
        for p in self.model.projectable:
            key = id(p)
            rows = p.shape[0] <= p.shape[1]
            g = p.grad if rows else p.grad.t()
            w = p if rows else p.t()
            if refresh:
                lines = g.shape[0]
                r = max(1, int(lines * self.density))
                norms = g.float().norm(dim=1)
                if self.sampling == "top-r":
                    idx = torch.topk(norms, r, sorted=False).indices.sort().values
                    rho = torch.ones(r, device=p.device)
                else:  # norm-proportional, with replacement, unbiased scales
                    q = norms / norms.sum()
                    idx = torch.multinomial(q, r, replacement=True).sort().values
                    rho = 1.0 / torch.sqrt(r * q[idx])
                self.sel[key] = (idx, rho)
                self.state[key] = Adam((r, g.shape[1]), p.device)
            idx, rho = self.sel[key]
            gc = rho[:, None] * g[idx].float()
            update = rho[:, None] * self.state[key].direction(gc)
            with torch.no_grad():
                if w.dtype == torch.float32:
                    w.index_add_(0, idx, update, alpha=-LR * self.alpha)  # repeated draws add up
                else:
                    # bf16: sum repeated draws in fp32, then one read-modify-write per chosen row.
                    uniq, inverse = torch.unique(idx, return_inverse=True)
                    delta = torch.zeros((uniq.numel(), w.shape[1]), device=p.device, dtype=torch.float32)
                    delta.index_add_(0, inverse, update)
                    w[uniq] = (w[uniq].float() - LR * self.alpha * delta).to(w.dtype)

    def projectable_state_bytes(self):
        return sum(a.nbytes() + self.sel[k][0].numel() * 12 for k, a in self.state.items())


REFERENCE_METHODS = {
    "frugal-blocks": FrugalBlocks,
    "frugal-columns": FrugalColumns,
    "frugal-svd": FrugalSvd,
    "galore": GaLore,
    "grass-top-r": lambda model, gap: Grass(model, gap, sampling="top-r"),
    "grass-norm": lambda model, gap: Grass(model, gap, sampling="norm"),
}
