"""Module's contract against PyTorch's: registration, traversal, state_dict keys and
errors, load_state_dict, train/eval, conversion keeping Parameter identity, hooks, repr;
containers, Linear, Flatten, nn.init."""
import copy
import math
from collections import OrderedDict

import numpy as np
import pytest

import genesis
import genesis.nn as nn
import genesis.nn.functional as F
from oracle import check, needs_torch, torch, rand, gradcheck


class Net(nn.Module):
    def __init__(self, lib):
        super().__init__()
        self.fc1 = lib.nn.Linear(4, 3)
        self.register_buffer("stat", lib.zeros(3))
        self.register_buffer("scratch", lib.ones(2), persistent=False)
        self.blocks = lib.nn.ModuleList([lib.nn.Linear(3, 3), lib.nn.Linear(3, 3)])
        self.head = lib.nn.Sequential(lib.nn.Identity(), lib.nn.Linear(3, 2, bias=False))
        self.scale = lib.nn.Parameter(lib.ones(1))


class TorchNet(torch.nn.Module if torch else object):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 3)
        self.register_buffer("stat", torch.zeros(3))
        self.register_buffer("scratch", torch.ones(2), persistent=False)
        self.blocks = torch.nn.ModuleList([torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)])
        self.head = torch.nn.Sequential(torch.nn.Identity(), torch.nn.Linear(3, 2, bias=False))
        self.scale = torch.nn.Parameter(torch.ones(1))


def g_net():
    return Net(genesis)


def test_registration_and_traversal():
    m = g_net()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "blocks.0.weight", "blocks.0.bias",
                     "blocks.1.weight", "blocks.1.bias", "head.1.weight"]
    assert [n for n, _ in m.named_buffers()] == ["stat", "scratch"]
    assert list(m.state_dict()) == ["scale", "stat", "fc1.weight", "fc1.bias",
                                    "blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                                    "blocks.1.bias", "head.1.weight"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "blocks", "blocks.0", "blocks.1",
                                                 "head", "head.0", "head.1"]
    assert [n for n, _ in m.named_children()] == ["fc1", "blocks", "head"]
    assert len(list(m.parameters())) == 8 and len(list(m.parameters(recurse=False))) == 1
    assert m.get_submodule("blocks.1") is m.blocks[1]
    assert m.get_parameter("blocks.1.bias") is m.blocks[1].bias
    assert m.get_buffer("stat") is m.stat


@needs_torch
def test_state_dict_keys_match_torch():
    assert list(g_net().state_dict()) == list(TorchNet().state_dict())
    t = TorchNet()
    assert [n for n, _ in g_net().named_modules()] == [n for n, _ in t.named_modules()]


def test_shared_parameters_counted_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_setattr_rules():
    m = nn.Module()
    m.w = nn.Parameter(genesis.ones(2))
    assert "w" in m._parameters
    with pytest.raises(TypeError, match="cannot assign 'genesis.FloatTensor' as parameter 'w'"):
        m.w = genesis.ones(2)
    m.w = None
    assert m._parameters["w"] is None and m.w is None
    m.sub = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'sub'"):
        m.sub = 3
    m.register_buffer("b", genesis.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'b'"):
        m.b = 1
    m.b = genesis.ones(3)
    assert m._buffers["b"].shape == (3,)
    m.c = nn.Buffer(genesis.ones(1), persistent=False)
    assert "c" in m._buffers and "c" in m._non_persistent_buffers_set
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        m.plain = 1
        m.register_buffer("plain", genesis.ones(1))
    with pytest.raises(KeyError, match='name can'):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="cannot assign 'genesis.FloatTensor' object to parameter 'p'"):
        m.register_parameter("p", genesis.ones(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nope'"):
        m.nope
    del m.sub
    assert "sub" not in m._modules


def test_assign_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(genesis.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


@needs_torch
def test_load_state_dict_errors_match_torch():
    g, t = g_net(), TorchNet()
    sd = {k: genesis.tensor(v.numpy()) for k, v in t.state_dict().items()}
    res = g.load_state_dict(sd)
    assert repr(res) == "<All keys matched successfully>"
    for k, v in g.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), t.state_dict()[k].numpy())
    bad_t = dict(t.state_dict())
    del bad_t["fc1.bias"]
    bad_t["extra"] = torch.ones(1)
    bad_t["fc1.weight"] = torch.ones(2, 2)
    bad_g = {k: genesis.tensor(v.numpy()) for k, v in bad_t.items()}
    with pytest.raises(RuntimeError) as te:
        t.load_state_dict(bad_t)
    with pytest.raises(RuntimeError) as ge:
        g.load_state_dict(bad_g)
    assert str(ge.value).replace("genesis.", "torch.").replace("Net:", "TorchNet:") == \
        str(te.value)
    res_t = t.load_state_dict({k: v for k, v in t.state_dict().items() if k != "stat"}
                              | {"zz": torch.ones(1)}, strict=False)
    res_g = g.load_state_dict({k: v for k, v in g.state_dict().items() if k != "stat"}
                              | {"zz": genesis.ones(1)}, strict=False)
    assert res_g.missing_keys == res_t.missing_keys == ["stat"]
    assert res_g.unexpected_keys == res_t.unexpected_keys


def test_load_state_dict_copies_in_place_and_assign():
    m = nn.Linear(3, 2)
    w = m.weight
    new = {"weight": genesis.ones(2, 3), "bias": genesis.zeros(2)}
    m.load_state_dict(new)
    assert m.weight is w and np.all(m.weight.detach().numpy() == 1) and m.weight.requires_grad
    new["weight"].add_(1)                      # not aliased
    assert np.all(m.weight.detach().numpy() == 1)
    m.load_state_dict({"weight": genesis.full((2, 3), 3.0), "bias": genesis.zeros(2)},
                      assign=True)
    assert m.weight is not w and isinstance(m.weight, nn.Parameter)
    assert m.weight.requires_grad and float(m.weight.sum()) == 18.0


def test_train_eval_and_requires_grad():
    m = g_net()
    assert m.training and m.blocks[0].training
    assert m.eval() is m and not m.blocks[1].training and not m.head[1].training
    m.train()
    assert m.head.training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train(1)
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_zero_grad():
    m = nn.Linear(2, 2)
    m(genesis.ones(1, 2)).sum().backward()
    m.zero_grad(set_to_none=False)
    assert float(m.weight.grad.abs().sum()) == 0.0
    m.zero_grad()
    assert m.weight.grad is None


def test_conversion_keeps_parameter_identity():
    m = nn.Sequential(nn.Linear(3, 2))
    m.register_buffer("idx", genesis.arange(3))
    m.register_buffer("f", genesis.ones(2))
    w = m[0].weight
    m(genesis.ones(1, 3)).sum().backward()
    m.double()
    assert m[0].weight is w and w.dtype == genesis.float64 and w.grad.dtype == genesis.float64
    assert m.idx.dtype == genesis.int64 and m.f.dtype == genesis.float64
    m.to(genesis.float32)
    assert w.dtype == genesis.float32
    m.to("cpu", dtype=genesis.float64)
    assert w.dtype == genesis.float64
    m.float().half()
    assert w.dtype == genesis.float16
    m.bfloat16()
    assert w.dtype == genesis.bfloat16 and m.idx.dtype == genesis.int64
    with pytest.raises(TypeError, match="only accepts floating point"):
        m.to(genesis.int64)
    # an optimizer made before the conversion still updates the same parameters
    lin = nn.Linear(2, 1)
    opt_params = list(lin.parameters())
    lin.double()
    assert all(a is b for a, b in zip(opt_params, lin.parameters()))


def test_apply_and_deepcopy():
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "Linear", "Sequential"]
    c = copy.deepcopy(m)
    assert c[0].weight is not m[0].weight and isinstance(c[0].weight, nn.Parameter)
    np.testing.assert_array_equal(c[0].weight.detach().numpy(), m[0].weight.detach().numpy())
    c[0].weight.data.add_(1)
    assert not np.allclose(c[0].weight.detach().numpy(), m[0].weight.detach().numpy())


def test_forward_hooks():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
    h3 = m.register_forward_hook(lambda mod, args, kw, out: calls.append(kw), with_kwargs=True)
    x = genesis.ones(1, 2)
    expected = F.linear(x * 2, m.weight, m.bias) + 1
    np.testing.assert_allclose(m(x).detach().numpy(), expected.detach().numpy())
    assert calls == [{}]
    for h in (h1, h2, h3):
        h.remove()
    np.testing.assert_allclose(m(x).detach().numpy(),
                               F.linear(x, m.weight, m.bias).detach().numpy())
    assert calls == [{}]


@needs_torch
def test_repr_matches_torch():
    g = nn.Sequential(nn.Linear(3, 4), nn.Flatten(), nn.Unflatten(1, (2, 2)),
                      nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 1), nn.Identity()]),
                      nn.ModuleDict({"a": nn.Linear(2, 2, bias=False)}))
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Flatten(),
                            torch.nn.Unflatten(1, (2, 2)),
                            torch.nn.ModuleList([torch.nn.Linear(1, 1), torch.nn.Linear(1, 1),
                                                 torch.nn.Identity()]),
                            torch.nn.ModuleDict({"a": torch.nn.Linear(2, 2, bias=False)}))
    assert repr(g) == repr(t)
    assert repr(nn.Parameter(genesis.ones(2))).startswith("Parameter containing:\ntensor(")


def test_containers():
    s = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 4), nn.Linear(4, 5))
    assert len(s) == 3 and isinstance(s[1:], nn.Sequential) and len(s[1:]) == 2
    assert s[-1].out_features == 5
    with pytest.raises(IndexError, match="index 3 is out of range"):
        s[3]
    del s[0]
    assert list(s._modules) == ["0", "1"] and s[0].in_features == 3
    s.append(nn.Identity())
    assert len(s) == 3
    od = nn.Sequential(OrderedDict([("a", nn.Linear(1, 1)), ("b", nn.Identity())]))
    assert list(od.state_dict()) == ["a.weight", "a.bias"]
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.Linear(1, 2))
    ml.extend([nn.Linear(2, 2)])
    ml.insert(0, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Identity", "Linear", "Linear", "Linear"]
    assert len(list(ml.parameters())) == 6
    md = nn.ModuleDict({"x": nn.Linear(1, 1)})
    md["y"] = nn.Identity()
    assert list(md.keys()) == ["x", "y"] and "x" in md and len(md) == 2
    pl = nn.ParameterList([genesis.ones(2), nn.Parameter(genesis.zeros(1))])
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(list(pl.parameters())) == 2
    pd = nn.ParameterDict({"a": genesis.ones(1)})
    assert isinstance(pd["a"], nn.Parameter) and list(pd.state_dict()) == ["a"]


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_vs_torch(shape, dtype):
    w, b = rand(4, 3, dtype=dtype, seed=2), rand(4, dtype=dtype, seed=3)
    check(lambda x, w, b: F.linear(x, w, b), rand(*shape, dtype=dtype), w, b,
          fn_torch=lambda x, w, b: torch.nn.functional.linear(x, w, b))
    check(lambda x, w: F.linear(x, w), rand(*shape, dtype=dtype), w,
          fn_torch=lambda x, w: torch.nn.functional.linear(x, w))


def test_linear_gradcheck_and_errors():
    gradcheck(lambda x, w, b: F.linear(x, w, b), rand(2, 3, 3), rand(4, 3), rand(4),
              second_order=True)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(5x3 and 4x2\)"):
        F.linear(genesis.ones(5, 3), genesis.ones(2, 4))


@needs_torch
def test_linear_module_matches_torch():
    t = torch.nn.Linear(5, 3)
    g = nn.Linear(5, 3)
    g.load_state_dict({k: genesis.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = rand(7, 5, dtype="float32")
    yt, yg = t(torch.tensor(x)), g(genesis.tensor(x))
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-6)
    yt.square().sum().backward()
    yg.square().sum().backward()
    np.testing.assert_allclose(g.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(g.bias.grad.numpy(), t.bias.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_flatten_unflatten():
    x = genesis.randn(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, -1)(x).shape == (24,)
    assert nn.Unflatten(2, (2, 2))(x).shape == (2, 3, 2, 2)


def test_default_linear_init_range():
    # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias
    m = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = m.weight.detach().numpy()
    assert w.min() >= -bound and w.max() <= bound and w.max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound


@pytest.mark.parametrize("name,args,std", [
    ("xavier_uniform_", {}, math.sqrt(2 / (200 + 100))),
    ("xavier_normal_", {"gain": 2.0}, 2 * math.sqrt(2 / (200 + 100))),
    ("kaiming_uniform_", {"nonlinearity": "relu"}, math.sqrt(2 / 100)),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 200)),
    ("normal_", {"std": 0.02}, 0.02),
    ("trunc_normal_", {"std": 0.02}, 0.02),
])
def test_init_statistics(name, args, std):
    t = genesis.empty(200, 100)
    out = getattr(nn.init, name)(t, **args)
    assert out is t
    v = t.numpy()
    assert abs(v.std() - std) < 0.03 * std and abs(v.mean()) < 0.05 * std


def test_init_deterministic_and_misc():
    g1, g2 = genesis.Generator().manual_seed(3), genesis.Generator().manual_seed(3)
    a = nn.init.kaiming_uniform_(genesis.empty(4, 5), generator=g1)
    b = nn.init.kaiming_uniform_(genesis.empty(4, 5), generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    t = nn.init.trunc_normal_(genesis.empty(10000), mean=0.0, std=1.0, a=-0.5, b=0.5)
    assert t.numpy().min() >= -0.5 and t.numpy().max() <= 0.5
    q = nn.init.orthogonal_(genesis.empty(6, 4)).numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    q = nn.init.orthogonal_(genesis.empty(3, 8)).numpy()
    np.testing.assert_allclose(q @ q.T, np.eye(3), atol=1e-5)
    np.testing.assert_array_equal(nn.init.eye_(genesis.empty(2, 3)).numpy(), np.eye(2, 3))
    d = nn.init.dirac_(genesis.empty(2, 2, 3)).numpy()
    assert d[0, 0, 1] == 1 and d[1, 1, 1] == 1 and d.sum() == 2
    assert float(nn.init.constant_(genesis.empty(3), 0.5).sum()) == 1.5
    p = nn.Parameter(genesis.ones(2, 2))
    nn.init.zeros_(p)
    assert p.grad_fn is None and p.requires_grad and float(p.sum()) == 0
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(genesis.empty(3))
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("foo")


@needs_torch
@pytest.mark.parametrize("nl,param", [("linear", None), ("tanh", None), ("relu", None),
                                      ("leaky_relu", None), ("leaky_relu", 0.2),
                                      ("selu", None), ("conv2d", None)])
def test_calculate_gain_matches_torch(nl, param):
    assert nn.init.calculate_gain(nl, param) == torch.nn.init.calculate_gain(nl, param)
