"""scalezip.prune: mask properties (exact counts, N:M patterns, what is
kept), Wanda's scores, and the report."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from scalezip import prune  # noqa: E402
from torch import nn  # noqa: E402


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(16, 24)
        self.b = nn.Linear(24, 12)
        self.lm_head = nn.Linear(12, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lm_head(self.b(torch.relu(self.a(x))))


def net(seed: int = 0) -> Net:
    torch.manual_seed(seed)
    return Net()


X = [torch.randn(7, 16, generator=torch.Generator().manual_seed(i)) for i in range(3)]


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.37, 0.9, 1.0])
def test_magnitude_per_layer_exact_count(sparsity):
    m = net()
    before = {
        n: mod.weight.detach().clone() for n, mod in m.named_modules() if isinstance(mod, nn.Linear)
    }
    masks = prune.magnitude_prune(m, sparsity)
    assert set(masks) == {"a", "b"}
    for name, mask in masks.items():
        w0 = before[name]
        pruned = int((~mask).sum())
        assert pruned == round(sparsity * w0.numel())
        assert torch.equal(getattr(m, name).weight, w0 * mask)
        if 0 < pruned < w0.numel():
            # Everything kept is at least as large as everything pruned.
            assert w0.abs()[mask].min() >= w0.abs()[~mask].max()
    assert int((m.lm_head.weight == 0).sum()) == 0


def test_magnitude_global():
    m = net()
    w = torch.cat([m.a.weight.detach().reshape(-1), m.b.weight.detach().reshape(-1)]).abs()
    masks = prune.magnitude_prune(m, 0.6, scope="global")
    kept = torch.cat([masks["a"].reshape(-1), masks["b"].reshape(-1)])
    assert int((~kept).sum()) == round(0.6 * w.numel())
    assert w[kept].min() >= w[~kept].max()
    with pytest.raises(ValueError, match="scope"):
        prune.magnitude_prune(net(), 0.5, scope="row")
    with pytest.raises(ValueError, match="sparsity"):
        prune.magnitude_prune(net(), 1.5)


@pytest.mark.parametrize("n,m_", [(2, 4), (1, 4), (4, 8)])
def test_semi_structured(n, m_):
    m = net()
    w0 = m.a.weight.detach().clone()
    masks = prune.semi_structured_prune(m, n, m_)
    for mask in masks.values():
        g = mask.reshape(mask.shape[0], -1, m_)
        assert bool((g.sum(-1) == n).all())
    # Kept are the largest of their group.
    g = w0.abs().reshape(w0.shape[0], -1, m_)
    km = masks["a"].reshape(g.shape)
    kept_min = torch.where(km, g, torch.inf).amin(-1)
    pruned_max = torch.where(~km, g, -torch.inf).amax(-1)
    assert bool((kept_min >= pruned_max).all())
    assert torch.equal(m.a.weight, w0 * masks["a"])


def test_semi_structured_breaks_ties_by_position():
    # An already half-pruned weight has many equal (zero) scores: the first
    # of the tied positions are kept, so every device picks the same mask.
    m = nn.Sequential(nn.Linear(8, 3))
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[0, 0, 0, 0, 0, 5, 0, 0]] * 3, dtype=torch.float32))
    mask = prune.semi_structured_prune(m, 2, 4)["0"]
    want = torch.tensor([[1, 1, 0, 0, 1, 1, 0, 0]] * 3, dtype=torch.bool)
    assert torch.equal(mask, want)


def test_semi_structured_needs_divisible_rows():
    m = nn.Sequential(nn.Linear(6, 4))
    with pytest.raises(ValueError, match="divisible"):
        prune.semi_structured_prune(m)
    with pytest.raises(ValueError):
        prune.semi_structured_prune(net(), 5, 4)


def test_activation_norms_and_wanda():
    m = net()
    norms = prune.activation_norms(m, X)
    xa = torch.cat(X)
    assert torch.allclose(norms["a"], xa.norm(dim=0))
    ha = torch.relu(m.a(xa))
    assert torch.allclose(norms["b"], ha.norm(dim=0), rtol=1e-5)
    w0 = m.a.weight.detach().clone()
    masks = prune.wanda_prune(m, 0.45, X)
    for mask in masks.values():
        assert int((~mask).sum()) == round(0.45 * mask.numel())
        # Per output row, counts differ by at most one.
        per_row = (~mask).sum(1)
        assert int(per_row.max() - per_row.min()) <= 1
    score = w0.abs() * norms["a"][None, :]
    ka = masks["a"]
    for r in range(score.shape[0]):
        if (~ka[r]).any() and ka[r].any():
            assert score[r][ka[r]].min() >= score[r][~ka[r]].max()
    m2 = net()
    masks = prune.wanda_prune(m2, "2:4", X)
    for mask in masks.values():
        assert bool((mask.reshape(mask.shape[0], -1, 4).sum(-1) == 2).all())
    with pytest.raises(ValueError, match="2:4"):
        prune.wanda_prune(net(), "half", X)
    with pytest.raises(ValueError, match="no inputs"):
        prune.wanda_prune(net(), 0.5, [])


def test_wanda_beats_magnitude_on_skewed_inputs():
    # One input feature carries large activations: magnitude pruning drops
    # its (small) weights, Wanda keeps them.
    torch.manual_seed(0)
    lin = nn.Sequential(nn.Linear(32, 16))
    x = torch.randn(256, 32)
    x[:, 3] *= 50
    with torch.no_grad():
        ref = lin(x)
    a, b = [nn.Sequential(nn.Linear(32, 16)) for _ in range(2)]
    a.load_state_dict(lin.state_dict())
    b.load_state_dict(lin.state_dict())
    prune.magnitude_prune(a, 0.5)
    prune.wanda_prune(b, 0.5, [x])
    with torch.no_grad():
        ea = (a(x) - ref).pow(2).mean()
        eb = (b(x) - ref).pow(2).mean()
    assert eb < ea


def test_sparsity_report_and_apply_masks():
    m = net()
    masks = prune.magnitude_prune(m, 0.5)
    rep = prune.sparsity_report(m)
    assert [r.name for r in rep] == ["a.weight", "b.weight", "lm_head.weight", "total"]
    assert rep[0].zeros == round(0.5 * 16 * 24) and rep[0].sparsity == pytest.approx(0.5)
    assert rep[-1].zeros == sum(r.zeros for r in rep[:-1])
    full = prune.sparsity_report(m, all_parameters=True)
    assert any(r.name == "a.bias" for r in full)
    other = net(1)
    prune.apply_masks(other, masks)
    assert bool((other.a.weight[~masks["a"]] == 0).all())
    with pytest.raises(ValueError, match="shape"):
        prune.apply_masks(other, {"a": masks["b"]})
