"""Review of the stateful training stack against PyTorch: Module registration, traversal,
state_dict/load_state_dict, hooks and conversion; the containers; optimizer and scheduler
state dicts through genesis checkpoints; serialization edge cases; DataLoader edge cases.

Most cases run the same function once with ``torch`` and once with ``genesis`` as ``L``
and compare the results (or exception type and message) with the library names
normalised."""
import copy
import pickle
import re
import warnings
from collections import Counter, OrderedDict, namedtuple
from functools import partial

import numpy as np
import pytest

import genesis
from oracle import needs_torch, torch


def _norm(x):
    return re.sub(r"\btorch\b|\bgenesis\b", "L", str(x))


def _run(fn, lib):
    try:
        return ("ok", fn(lib))
    except Exception as e:         # the exception itself is the result compared
        return ("exc", type(e).__name__, str(e))


# the table cases that raise (in both libraries); every other case must succeed
RAISING = {
    "state_dict post hook returning a value", "load post hook returning a value",
    "init positional args", "init keyword args", "BatchNorm version 2 reports it missing",
    "pre-hook with kwargs bad return", "set_submodule on a parameter", "set_submodule strict",
    "set_submodule empty", "to(int dtype)", "register_parameter of a tensor",
    "assign a tensor to a parameter", "register_buffer of an int",
    "register_buffer over a parameter", "int Parameter requiring grad",
    "load_state_dict of a list",
    "Sequential insert out of range", "Sequential += list", "Sequential * str",
    "Sequential * 0", "Sequential + list", "Sequential index error", "ModuleList index error",
    "ModuleList extend int", "ModuleList call", "ModuleDict pair of 3",
    "ModuleDict non-iterable element", "ModuleDict of an int", "ParameterList extend a tensor",
    "ParameterList extend an int", "ParameterList call", "ParameterDict call",
    "ParameterDict int key", "ParameterDict of an int", "ParameterDict pair of 3",
    "ParameterDict non-iterable element",
    "empty", "a tensor as params", "non-leaf", "parameter in two groups", "named and unnamed",
    "load: group count", "load: group size",
    "batch_size=None with drop_last", "batch_size=0", "iterable without len",
    "iterable shuffle", "ragged lists", "mismatched tensors", "None samples", "objects",
    "batch_sampler with batch_size", "frozen attribute", "BatchSampler bad drop_last",
}


def same_as_torch(table, name):
    """table[name](torch) and table[name](genesis) give equal results, or (for the cases
    in RAISING) the same exception type and message, library names aside."""
    fn = table[name]
    t, g = _run(fn, torch), _run(fn, genesis)
    assert _norm(g) == _norm(t), f"\n torch:   {t}\n genesis: {g}"
    assert (g[0] == "exc") == (name in RAISING), g
    return g


def names(m):
    return [n for n, _ in m.named_children()]


def _pipe(x, *fns):
    """fns applied in turn, each to the previous one's result."""
    for f in fns:
        x = f(x)
    return x


def _lin(L):
    return L.nn.Linear(1, 1)


# ---------------------------------------------------------------- Module
class _HasBN:
    pass


def _custom_train(L):
    class Frozen(L.nn.Module):          # a common pattern: BN kept in eval mode
        def __init__(self):
            super().__init__()
            self.bn = L.nn.BatchNorm1d(2)

        def train(self, mode=True):
            super().train(mode)
            self.bn.eval()
            return self

    class Outer(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Frozen()
    m = Outer()
    m.eval()
    m.train()
    return [mod.training for mod in m.modules()]


def _unexpected_keys(L):
    m = L.nn.Sequential(L.nn.Linear(2, 2))
    sd = dict(m.state_dict())
    sd["0.weight.x"] = sd["0.weight"]     # a dotted key under a parameter
    sd["0"] = sd["0.bias"]                # a plain key naming a submodule
    return repr(m.load_state_dict(sd, strict=False))


def _zero_dim_compat(L):
    m = L.nn.Module()
    m.register_buffer("b", L.tensor(1.0))
    m.load_state_dict({"b": L.tensor([5.0])})
    return m.b.item(), m.b.dim()


def _bn_missing_counter(L):
    m = L.nn.BatchNorm1d(3)
    m.num_batches_tracked.fill_(4)
    sd = {k: v for k, v in m.state_dict().items() if "num_batches" not in k}
    res = repr(m.load_state_dict(sd))
    return res, sorted(sd), m.num_batches_tracked.item()


def _bn_missing_counter_v2(L):
    # with metadata saying version 2 the key really is missing
    m = L.nn.BatchNorm1d(3)
    sd = m.state_dict()
    del sd["num_batches_tracked"]
    m.load_state_dict(sd)


def _metadata(L):
    m = L.nn.Sequential(L.nn.Linear(1, 1), L.nn.BatchNorm1d(1))
    return dict(m.state_dict()._metadata)


def _assign_param(L):
    m = L.nn.Linear(2, 2)
    m.weight.requires_grad_(False)
    p = L.nn.Parameter(L.ones(2, 2))
    m.load_state_dict({"weight": p, "bias": L.zeros(2)}, assign=True)
    return m.weight is p, m.weight.requires_grad, type(m.bias).__name__


def _extra_state(L):
    class M(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.v = 3

        def get_extra_state(self):
            return {"v": self.v}

        def set_extra_state(self, state):
            self.v = state["v"]
    outer = L.nn.Sequential(M())
    sd = outer.state_dict()
    fresh = L.nn.Sequential(M())
    fresh[0].v = 0
    r1 = repr(fresh.load_state_dict(sd))
    r2 = repr(fresh.load_state_dict({}, strict=False))
    r3 = repr(L.nn.Sequential(L.nn.ReLU()).load_state_dict(sd, strict=False))
    return list(sd), fresh[0].v, r1, r2, r3


def _hook_flags_removed(L):
    m = L.nn.Identity()
    h1 = m.register_forward_hook(lambda *a: 7, with_kwargs=True, always_call=True)
    h2 = m.register_forward_pre_hook(lambda *a: None, with_kwargs=True)
    h1.remove()
    h2.remove()
    return (m(1), len(m._forward_hooks), len(m._forward_hooks_with_kwargs),
            len(m._forward_hooks_always_called), len(m._forward_pre_hooks_with_kwargs))


def _hooks_order(L):
    log = []
    m = L.nn.Identity()
    m.register_forward_pre_hook(lambda mod, a: log.append("pre1"))
    m.register_forward_pre_hook(lambda mod, a, k: log.append(("pre2", k)), with_kwargs=True,
                                prepend=True)
    m.register_forward_hook(lambda mod, a, o: log.append("post1"))
    m.register_forward_hook(lambda mod, a, k, o: log.append(("post2", k)), with_kwargs=True,
                            prepend=True)
    m(L.ones(1))
    return log


def _always_call(L):
    log = []

    class E(L.nn.Module):
        def forward(self, x):
            raise ValueError("boom")
    m = E()
    m.register_forward_hook(lambda mod, a, o: log.append(("always", o)), always_call=True)
    m.register_forward_hook(lambda mod, a, o: log.append("normal"))
    with pytest.raises(ValueError):
        m(1)
    return log


def _always_call_after_hook_errors(L):
    log = []
    pre = L.nn.Identity()             # a pre-hook fails: always_call hooks still run
    pre.register_forward_pre_hook(lambda mod, a: 1 / 0)
    pre.register_forward_hook(lambda mod, a, o: log.append(("pre failed", o)),
                              always_call=True)
    post = L.nn.Identity()            # a forward hook fails: the later always_call runs
    post.register_forward_hook(lambda mod, a, o: log.append(("first", o)), always_call=True)
    post.register_forward_hook(lambda mod, a, o: 1 / 0)
    post.register_forward_hook(lambda mod, a, o: log.append(("later", o)), always_call=True)

    class Boom(L.nn.Module):
        def forward(self, x):
            raise ValueError("boom")
    boom = Boom()                     # an always_call hook failing too: a warning
    boom.register_forward_hook(lambda mod, a, o: 1 / 0, always_call=True)
    for m, exc in ((pre, ZeroDivisionError), (post, ZeroDivisionError), (boom, ValueError)):
        with pytest.raises(exc), warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m(1)
        log.append([str(x.message) for x in w])
    return log


def _prehook_bad_return(L):
    m = L.nn.Identity()
    m.register_forward_pre_hook(lambda mod, a, k: 5, with_kwargs=True)
    return m(1)


def _hook_returns(L):
    m = L.nn.Identity()
    m.register_forward_pre_hook(lambda mod, a: 5)
    m.register_forward_hook(lambda mod, a, o: o + 1)
    return m(1)


def _set_submodule(L):
    m = L.nn.Sequential(L.nn.Sequential(L.nn.Linear(1, 1)))
    m.set_submodule("0.0", L.nn.ReLU())
    m.set_submodule("0.new", L.nn.Tanh())
    return repr(m)


def _traversal(L):
    lin = L.nn.Linear(1, 1)
    s = L.nn.Sequential(lin, lin, L.nn.Sequential(lin))
    return ([n for n, _ in s.named_modules()],
            [n for n, _ in s.named_modules(remove_duplicate=False)],
            [n for n, _ in s.named_modules(prefix="m")],
            [n for n, _ in s.named_parameters(prefix="p", remove_duplicate=False)],
            [n for n, _ in s.named_parameters(recurse=False)],
            [n for n, _ in lin.named_parameters(recurse=False)],
            names(s))


def _conversion(L):
    m = L.nn.Linear(2, 2)
    m.register_buffer("i", L.zeros(2, dtype=L.int64))
    m(L.ones(1, 2)).sum().backward()
    w = m.weight
    m.double()
    out = [w is m.weight, str(m.weight.dtype), str(m.weight.grad.dtype), str(m.i.dtype)]
    m.half()
    out += [str(m.weight.dtype), str(m.weight.grad.dtype), str(m.i.dtype)]
    m.to(L.zeros(1, dtype=L.float64))
    out += [str(m.weight.dtype), w is m.weight]
    return out


def _repr_nested(L):
    class M(L.nn.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    class N(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = M()
            self.l = L.nn.Linear(1, 1)
            self.n = None

        def extra_repr(self):
            return "x"
    return repr(N()), repr(M())


def _pickle_and_copy(L):
    lin = L.nn.Linear(2, 2)
    m = L.nn.Sequential(lin, L.nn.BatchNorm1d(2), lin)
    m2 = pickle.loads(pickle.dumps(m))
    m3 = copy.deepcopy(m)
    return (repr(m2), list(m2.state_dict()), m2[0] is m2[2], m3[0].weight is m3[2].weight,
            type(m3[0].weight).__name__, m3[0].weight is not m[0].weight)


def _state_dict_hooks(L):
    log = []
    m = L.nn.Sequential(L.nn.Linear(1, 1))
    m[0].register_state_dict_pre_hook(lambda mod, prefix, kv: log.append(("pre", prefix, kv)))
    m.register_state_dict_post_hook(
        lambda mod, sd, prefix, meta: log.append(("post", list(sd), prefix, meta)))
    m[0].register_load_state_dict_pre_hook(
        lambda mod, sd, prefix, meta, strict, mk, uk, em:
        log.append(("load pre", prefix, sorted(sd), strict)))

    def load_post(mod, keys):
        log.append(("load post", type(mod).__name__, list(keys.missing_keys),
                    list(keys.unexpected_keys)))
        keys.unexpected_keys.clear()          # a hook may forgive keys, in place
    m.register_load_state_dict_post_hook(load_post)
    sd = m.state_dict()
    sd["junk"] = L.ones(1)
    return log, repr(m.load_state_dict(sd))


def _private_state_dict_hooks(L):
    m = L.nn.Linear(1, 1)
    log = []
    m._register_state_dict_hook(lambda *a: {"x": 1})
    m._register_load_state_dict_pre_hook(lambda sd, prefix, *a: log.append(prefix))
    h = m.register_load_state_dict_post_hook(lambda *a: log.append("removed"))
    h.remove()
    m.load_state_dict({"weight": L.ones(1, 1), "bias": L.ones(1)})
    return m.state_dict(), log


MODULE_CASES = {
    "state_dict hooks": _state_dict_hooks,
    "private state_dict hooks": _private_state_dict_hooks,
    "state_dict post hook returning a value": lambda L: _then(
        _lin(L), lambda m: m.register_state_dict_post_hook(lambda *a: {}),
        lambda m: m.state_dict()),
    "load post hook returning a value": lambda L: _then(
        _lin(L), lambda m: m.register_load_state_dict_post_hook(lambda *a: 1),
        lambda m: m.load_state_dict(m.state_dict())),
    "dir leaves out numbered children":
        lambda L: [k for k in dir(L.nn.Sequential(_lin(L))) if k[0].isdigit()],
    "init positional args": lambda L: L.nn.Module(3),
    "init keyword args": lambda L: L.nn.Module(a=3),
    "train() reaches children's overrides": _custom_train,
    "unexpected keys": _unexpected_keys,
    "0-d buffer loads a 1-element checkpoint": _zero_dim_compat,
    "BatchNorm tolerates a missing num_batches_tracked": _bn_missing_counter,
    "BatchNorm version 2 reports it missing": _bn_missing_counter_v2,
    "state_dict _metadata": _metadata,
    "assign=True keeps requires_grad": _assign_param,
    "extra state": _extra_state,
    "removed hooks leave no flags": _hook_flags_removed,
    "hook order and kwargs": _hooks_order,
    "always_call hook": _always_call,
    "always_call hooks after hook errors": _always_call_after_hook_errors,
    "pre-hook with kwargs bad return": _prehook_bad_return,
    "hook return values": _hook_returns,
    "set_submodule": _set_submodule,
    "set_submodule on a parameter":
        lambda L: L.nn.Sequential(_lin(L)).set_submodule("0.weight", L.nn.ReLU()),
    "set_submodule strict":
        lambda L: L.nn.Sequential(_lin(L)).set_submodule("0.x", L.nn.ReLU(), strict=True),
    "set_submodule empty": lambda L: L.nn.Sequential().set_submodule("", L.nn.ReLU()),
    "traversal": _traversal,
    "conversion keeps identity, converts grads": _conversion,
    "to(int dtype)": lambda L: _lin(L).to(L.int32),
    "repr nested, multi-line extra_repr": _repr_nested,
    "pickle and deepcopy": _pickle_and_copy,
    "register_parameter of a tensor": lambda L: _lin(L).register_parameter("x", L.ones(1)),
    "assign a tensor to a parameter": lambda L: setattr(_lin(L), "weight", L.ones(1)),
    "register_buffer of an int": lambda L: _lin(L).register_buffer("x", 3),
    "register_buffer over a parameter":
        lambda L: _lin(L).register_buffer("weight", L.ones(1)),
    "int Parameter requiring grad": lambda L: L.nn.Parameter(L.ones(2, dtype=L.int64)),
    "int Parameter without grad":
        lambda L: L.nn.Parameter(L.ones(2, dtype=L.int64), requires_grad=False).dtype,
    "non-persistent buffer replaced by a parameter":
        lambda L: (lambda m: (m.register_buffer("b", L.ones(1), persistent=False),
                              setattr(m, "b", L.nn.Parameter(L.ones(1))),
                              sorted(m._non_persistent_buffers_set), list(m.state_dict())))(
            L.nn.Module())[2:],
    "load_state_dict of a list": lambda L: _lin(L).load_state_dict([1]),
    "load_state_dict leaves the caller's dict":
        lambda L: (lambda sd: (L.nn.BatchNorm1d(1).load_state_dict(sd), sorted(sd))[1])(
            {"weight": L.ones(1), "bias": L.ones(1), "running_mean": L.ones(1),
             "running_var": L.ones(1)}),
}


@needs_torch
@pytest.mark.parametrize("name", list(MODULE_CASES))
def test_module_contract_matches_torch(name):
    same_as_torch(MODULE_CASES, name)


# ---------------------------------------------------------------- containers
def _R(L):
    return L.nn.ReLU()


def _then(obj, *calls):
    """Apply the calls (functions of obj) in order; the last one's result."""
    out = None
    for c in calls:
        out = c(obj)
    return out


CONTAINER_CASES = {
    "Sequential del renumbers named keys": lambda L: _then(
        L.nn.Sequential(OrderedDict(a=_R(L), b=_lin(L), c=_R(L))),
        lambda s: s.__delitem__(0), names),
    "Sequential del slice": lambda L: _then(
        L.nn.Sequential(_R(L), _lin(L), L.nn.Tanh(), L.nn.Sigmoid()),
        lambda s: s.__delitem__(slice(0, 3, 2)), repr),
    "Sequential insert -1": lambda L: repr(
        L.nn.Sequential(_R(L), _lin(L)).insert(-1, L.nn.Tanh())),
    "Sequential insert -n": lambda L: repr(
        L.nn.Sequential(_R(L), _lin(L)).insert(-2, L.nn.Tanh())),
    "Sequential insert out of range": lambda L: L.nn.Sequential(_R(L)).insert(-3, _R(L)),
    "Sequential += list": lambda L: L.nn.Sequential(_R(L)).__iadd__([L.nn.Tanh()]),
    "Sequential += Sequential": lambda L: repr(
        L.nn.Sequential(_R(L)).__iadd__(L.nn.Sequential(L.nn.Tanh()))),
    "Sequential * str": lambda L: L.nn.Sequential(_R(L)) * "a",
    "Sequential * 0": lambda L: L.nn.Sequential(_R(L)) * 0,
    "Sequential * 2": lambda L: repr(L.nn.Sequential(_R(L), L.nn.Tanh()) * 2),
    "2 * Sequential": lambda L: repr(2 * L.nn.Sequential(_R(L), L.nn.Tanh())),
    "Sequential *= 3": lambda L: _then(
        L.nn.Sequential(_R(L), L.nn.Tanh()), lambda s: s.__imul__(3),
        lambda s: (names(s), s[0] is s[2], len(s))),
    "Sequential + list": lambda L: L.nn.Sequential(_R(L)) + [_R(L)],
    "Sequential [-1]": lambda L: repr(L.nn.Sequential(_R(L), L.nn.Tanh())[-1]),
    "Sequential index error": lambda L: L.nn.Sequential(_R(L))[5],
    "Sequential [::-1]": lambda L: repr(L.nn.Sequential(_R(L), L.nn.Tanh(), L.nn.Sigmoid())
                                        [::-1]),
    "Sequential named slice": lambda L: repr(
        L.nn.Sequential(OrderedDict(a=_R(L), b=L.nn.Tanh()))[1:]),
    "Sequential pop slice": lambda L: _then(
        L.nn.Sequential(_R(L), L.nn.Tanh(), L.nn.Sigmoid()),
        lambda s: (repr(s.pop(slice(0, 2))), names(s))),
    "ModuleList repr groups repeats": lambda L: repr(
        L.nn.ModuleList([_R(L), _R(L), _lin(L), _R(L)])),
    "ModuleList del -2": lambda L: _then(
        L.nn.ModuleList([_R(L), L.nn.Tanh(), L.nn.Sigmoid()]),
        lambda m: m.__delitem__(-2), repr),
    "ModuleList insert": lambda L: _then(
        L.nn.ModuleList([_R(L), L.nn.Tanh()]), lambda m: m.insert(1, L.nn.Sigmoid()), repr),
    "ModuleList + list": lambda L: repr(L.nn.ModuleList([_R(L)]) + [L.nn.Tanh()]),
    "ModuleList index error": lambda L: L.nn.ModuleList([_R(L)])[-3],
    "ModuleList extend int": lambda L: L.nn.ModuleList().extend(3),
    "ModuleList call": lambda L: L.nn.ModuleList([_R(L)])(1),
    "ModuleDict from a ModuleDict": lambda L: repr(
        L.nn.ModuleDict(L.nn.ModuleDict({"b": _R(L), "a": L.nn.Tanh()}))),
    "ModuleDict pairs": lambda L: repr(L.nn.ModuleDict([("x", _R(L)), ["y", L.nn.Tanh()]])),
    "ModuleDict pair of 3": lambda L: L.nn.ModuleDict([("x", _R(L), 1)]),
    "ModuleDict non-iterable element": lambda L: L.nn.ModuleDict([3]),
    "ModuleDict of an int": lambda L: L.nn.ModuleDict(3),
    "ModuleDict pop": lambda L: _then(
        L.nn.ModuleDict({"a": _R(L), "b": _R(L)}), lambda m: (repr(m.pop("a")), list(m))),
    "ParameterList repr": lambda L: repr(
        L.nn.ParameterList([L.ones(2), L.nn.Parameter(L.zeros(1, 3)), "s"])),
    "ParameterList slice": lambda L: _then(
        L.nn.ParameterList([L.ones(2), L.ones(3), L.ones(4)]),
        lambda p: (type(p[::2]).__name__, len(p[::2]), p[::2][1] is p[2])),
    "ParameterList extend a tensor": lambda L: L.nn.ParameterList().extend(L.ones(2)),
    "ParameterList extend an int": lambda L: L.nn.ParameterList().extend(3),
    "ParameterList call": lambda L: L.nn.ParameterList()(1),
    "ParameterList setitem -1": lambda L: _then(
        L.nn.ParameterList([L.ones(2), L.ones(3)]), lambda p: p.__setitem__(-1, L.zeros(5)),
        lambda p: (type(p[1]).__name__, p[1].shape[0], list(p.state_dict()))),
    "ParameterDict repr": lambda L: repr(L.nn.ParameterDict(
        {"b": L.ones(2), "a": L.nn.Parameter(L.zeros(1, 3)), "c": "s"})),
    "ParameterDict sorts a plain dict": lambda L: list(
        L.nn.ParameterDict({"b": L.ones(2), "a": L.ones(1)})),
    "ParameterDict keeps OrderedDict order": lambda L: list(
        L.nn.ParameterDict(OrderedDict(b=L.ones(2), a=L.ones(1)))),
    "ParameterDict copy": lambda L: _then(
        L.nn.ParameterDict([("b", L.ones(2)), ("a", L.ones(1))]),
        lambda d: (type(d.copy()).__name__, list(d.copy()), d.copy()["b"] is d["b"])),
    "ParameterDict setdefault": lambda L: _then(
        L.nn.ParameterDict([("a", L.ones(1))]),
        lambda d: (d.setdefault("a", L.zeros(3)).shape[0],
                   d.setdefault("z", L.zeros(3)).shape[0], list(d))),
    "ParameterDict clear": lambda L: _then(
        L.nn.ParameterDict([("a", L.ones(1))]), lambda d: d.clear(),
        lambda d: (len(d), list(d.parameters()))),
    "ParameterDict popitem": lambda L: _then(
        L.nn.ParameterDict([("a", L.ones(1)), ("b", L.ones(1))]),
        lambda d: (d.popitem()[0], list(d), list(d.state_dict()))),
    "ParameterDict get": lambda L: _then(
        L.nn.ParameterDict([("a", L.ones(1))]),
        lambda d: (d.get("a").shape[0], d.get("q", 7))),
    "ParameterDict fromkeys": lambda L: list(
        L.nn.ParameterDict().fromkeys(["x", "y"], L.ones(1))),
    "ParameterDict reversed": lambda L: list(reversed(
        L.nn.ParameterDict([("a", L.ones(1)), ("b", L.ones(1))]))),
    "ParameterDict |": lambda L: list(
        L.nn.ParameterDict([("a", L.ones(1))]) | L.nn.ParameterDict([("b", L.ones(1))])),
    "ParameterDict |=": lambda L: list(_then(
        L.nn.ParameterDict([("a", L.ones(1))]),
        lambda d: d.__ior__(L.nn.ParameterDict([("b", L.ones(1))])))),
    "ParameterDict call": lambda L: L.nn.ParameterDict()(1),
    "ParameterDict int key": lambda L: L.nn.ParameterDict()[1],
    "ParameterDict of an int": lambda L: L.nn.ParameterDict(3),
    "ParameterDict pair of 3": lambda L: L.nn.ParameterDict([("a", L.ones(1), 3)]),
    "ParameterDict non-iterable element": lambda L: L.nn.ParameterDict([3]),
}


@needs_torch
@pytest.mark.parametrize("name", list(CONTAINER_CASES))
def test_containers_match_torch(name):
    same_as_torch(CONTAINER_CASES, name)


# ---------------------------------------------------------------- optimizers
_W = [np.random.default_rng(0).standard_normal(s).astype("float32") for s in ((3, 2), (3,))]


def _grads(k):
    r = np.random.default_rng(100 + k)
    return [r.standard_normal(w.shape).astype("float32") for w in _W]


def _to_lib(x, lib):
    """A state dict with every tensor converted to ``lib``'s (through NumPy)."""
    if isinstance(x, (torch.Tensor, genesis.Tensor)):
        return lib.tensor(x.detach().numpy())
    if isinstance(x, dict):
        return {k: _to_lib(v, lib) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_to_lib(v, lib) for v in x)
    return x


def _make_opt(L, name, kw, weights=None):
    ps = [L.nn.Parameter(L.tensor(w.copy())) for w in (weights or _W)]
    return ps, getattr(L.optim, name)([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}],
                                      **kw)


def _opt_steps(L, ps, opt, ks):
    for k in ks:
        for p, g in zip(ps, _grads(k)):
            p.grad = L.tensor(g)
        opt.step()


OPT_CONFIGS = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1)),
]


@needs_torch
@pytest.mark.parametrize("name,kw", OPT_CONFIGS)
@pytest.mark.parametrize("direction", ["torch->genesis", "genesis->torch"])
def test_optimizer_state_dict_crosses_libraries(name, kw, direction, tmp_path):
    """A state_dict of one library, tensors converted, resumes the other's optimizer (the
    genesis side through a genesis checkpoint) and continues as an uninterrupted run."""
    src, dst = (torch, genesis) if direction == "torch->genesis" else (genesis, torch)
    ref_p, ref_o = _make_opt(torch, name, kw)
    _opt_steps(torch, ref_p, ref_o, range(6))
    sp, so = _make_opt(src, name, kw)
    _opt_steps(src, sp, so, range(3))
    sd = so.state_dict()
    if src is genesis:
        genesis.save_checkpoint({"opt": sd, "w": [p.detach() for p in sp]}, tmp_path / "c")
        ck = genesis.load_checkpoint(tmp_path / "c")
        sd, weights = ck["opt"], [w.numpy() for w in ck["w"]]
    else:
        weights = [p.detach().numpy() for p in sp]
    dp, do = _make_opt(dst, name, kw, weights)
    do.load_state_dict(_to_lib(sd, dst))
    assert sorted(do.param_groups[0]) == sorted(ref_o.param_groups[0])
    _opt_steps(dst, dp, do, range(3, 6))
    for a, b in zip(dp, ref_p):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


def _P(L, *s):
    return L.nn.Parameter(L.ones(*s))


def _stepped(L, make_opt):
    p = _P(L, 2)
    opt = make_opt(p)
    p.grad = L.ones(2)
    opt.step()
    return p, opt


OPT_CASES = {
    "repr": lambda L: repr(L.optim.SGD([_P(L, 2)], lr=0.1, momentum=0.9)),
    "empty": lambda L: L.optim.SGD([], lr=0.1),
    "a tensor as params": lambda L: L.optim.SGD(_P(L, 2), lr=0.1),
    "a set as params": lambda L: L.optim.SGD({_P(L, 2)}, lr=0.1),
    "non-leaf": lambda L: L.optim.SGD([_P(L, 2) * 2], lr=0.1),
    "parameter in two groups": lambda L: _then(
        _P(L, 2), lambda p: L.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)),
    "add_param_group": lambda L: _then(
        L.optim.SGD([_P(L, 2)], lr=1),
        lambda o: o.add_param_group({"params": _P(L, 1), "lr": 0.5}),
        lambda o: o.state_dict()["param_groups"]),
    "named parameters": lambda L: L.optim.Adam([("a", _P(L, 2)), ("b", _P(L, 1))])
    .state_dict(),
    "named and unnamed": lambda L: L.optim.Adam([("a", _P(L, 2)), _P(L, 1)]),
    "load: group count": lambda L: L.optim.SGD([_P(L, 2)], lr=1).load_state_dict(
        {"state": {}, "param_groups": []}),
    "load: group size": lambda L: L.optim.SGD([_P(L, 2)], lr=1).load_state_dict(
        {"state": {}, "param_groups": [{"params": [0, 1], "lr": 1}]}),
    "load casts to the param dtype, step kept": lambda L: _pipe(
        _stepped(L, lambda p: L.optim.Adam([p])),
        lambda po: (po, po[1].load_state_dict({"state": {0: {
            "step": L.tensor(3.0, dtype=L.float64), "exp_avg": L.ones(2, dtype=L.float64),
            "exp_avg_sq": L.ones(2, dtype=L.float64)}},
            "param_groups": [dict(po[1].state_dict()["param_groups"][0])]})),
        lambda r: {k: str(v.dtype) for k, v in r[0][1].state[r[0][0]].items()}),
    "optimizer state_dict hooks": lambda L: _then(
        (L.optim.SGD([_P(L, 2)], lr=1), []),
        lambda ol: ol[0].register_state_dict_pre_hook(lambda o: ol[1].append("pre")),
        lambda ol: ol[0].register_state_dict_post_hook(
            lambda o, sd: ol[1].append(("post", sorted(sd)))),
        lambda ol: ol[0].register_load_state_dict_pre_hook(
            lambda o, sd: ol[1].append("load pre")),
        lambda ol: ol[0].register_load_state_dict_post_hook(
            lambda o: ol[1].append("load post")),
        lambda ol: (ol[0].load_state_dict(ol[0].state_dict()), ol[1])[1]),
    "pickle": lambda L: _then(
        pickle.loads(pickle.dumps(_stepped(L, lambda p: L.optim.Adam([p], lr=0.5))[1])),
        lambda o: (o.param_groups[0]["lr"], o.defaults["lr"], len(o.state),
                   [sorted(s) for s in o.state.values()])),
    "deepcopy with the model": lambda L: _pipe(
        _stepped(L, lambda p: L.optim.SGD([p], lr=1, momentum=0.9)),
        lambda po: copy.deepcopy({"p": po[0], "o": po[1]}),
        lambda c: (c["o"].param_groups[0]["params"][0] is c["p"], c["p"] in c["o"].state)),
    "zero_grad": lambda L: _then(
        _stepped(L, lambda p: L.optim.SGD([p], lr=1)),
        lambda po: (po[1].zero_grad(set_to_none=False), po[0].grad.tolist(),
                    po[1].zero_grad(), po[0].grad)[1:]),
}


@needs_torch
@pytest.mark.parametrize("name", list(OPT_CASES))
def test_optimizer_contract_matches_torch(name):
    same_as_torch(OPT_CASES, name)


# ---------------------------------------------------------------- schedulers
class _Decay:
    """A callable object: LambdaLR saves its __dict__."""

    def __init__(self):
        self.k = 0.9

    def __call__(self, e):
        return self.k ** e


def _pow_half(x):
    return 0.5 ** x


def _S(L):
    return L.optim.lr_scheduler


SCHEDULERS = {
    "LambdaLR lambda": lambda L, o: _S(L).LambdaLR(o, lambda e: 0.9 ** e),
    "LambdaLR object": lambda L, o: _S(L).LambdaLR(o, _Decay()),
    "LambdaLR partial": lambda L, o: _S(L).LambdaLR(o, partial(pow, 0.95)),
    "MultiplicativeLR": lambda L, o: _S(L).MultiplicativeLR(o, lambda e: 0.95),
    "StepLR": lambda L, o: _S(L).StepLR(o, 3, 0.5),
    "MultiStepLR": lambda L, o: _S(L).MultiStepLR(o, [2, 7, 7], 0.5),
    "ConstantLR": lambda L, o: _S(L).ConstantLR(o, total_iters=7),
    "LinearLR": lambda L, o: _S(L).LinearLR(o, total_iters=8),
    "ExponentialLR": lambda L, o: _S(L).ExponentialLR(o, 0.9),
    "PolynomialLR": lambda L, o: _S(L).PolynomialLR(o, 9, 2.0),
    "CosineAnnealingLR": lambda L, o: _S(L).CosineAnnealingLR(o, 5),
    "CosineAnnealingWarmRestarts": lambda L, o: _S(L).CosineAnnealingWarmRestarts(o, 3, 2),
    "OneCycleLR": lambda L, o: _S(L).OneCycleLR(o, 1.0, total_steps=20),
    "OneCycleLR three phase linear": lambda L, o: _S(L).OneCycleLR(
        o, 1.0, total_steps=20, three_phase=True, anneal_strategy="linear"),
    "CyclicLR": lambda L, o: _S(L).CyclicLR(o, 0.01, 0.1, 3),
    "CyclicLR exp_range": lambda L, o: _S(L).CyclicLR(o, 0.01, 0.1, 3, mode="exp_range",
                                                      gamma=0.9),
    "CyclicLR scale_fn lambda": lambda L, o: _S(L).CyclicLR(o, 0.01, 0.1, 3,
                                                            scale_fn=lambda x: 0.5 ** x),
    "CyclicLR scale_fn partial": lambda L, o: _S(L).CyclicLR(
        o, 0.01, 0.1, 3, scale_fn=partial(_pow_half), scale_mode="iterations"),
    "SequentialLR": lambda L, o: _S(L).SequentialLR(
        o, [_S(L).LinearLR(o, total_iters=3), _S(L).MultiStepLR(o, [2, 5])], [3]),
    "ChainedScheduler": lambda L, o: _S(L).ChainedScheduler(
        [_S(L).ExponentialLR(o, 0.9), _S(L).StepLR(o, 2)]),
    "SequentialLR of ChainedScheduler": lambda L, o: _S(L).SequentialLR(
        o, [_S(L).ChainedScheduler([_S(L).ExponentialLR(o, 0.9),
                                    _S(L).LambdaLR(o, lambda e: 1.0)]),
            _S(L).CosineAnnealingLR(o, 4)], [4]),
    "ReduceLROnPlateau": lambda L, o: _S(L).ReduceLROnPlateau(o, patience=1, cooldown=1),
}
_METRICS = [3, 2, 2, 2, 2, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]


def _sched_run(L, make, opt, sched, steps):
    lrs = []
    for i in steps:
        opt.step()
        if isinstance(sched, _S(L).ReduceLROnPlateau):
            sched.step(_METRICS[i])
        else:
            sched.step()
        lrs.append([g["lr"] for g in opt.param_groups] +
                   [g["betas"][0] if "betas" in g else g["momentum"]
                    for g in opt.param_groups])
    return lrs


def _sched_opt(L, kind):
    ps = [L.nn.Parameter(L.ones(2)), L.nn.Parameter(L.ones(1))]
    groups = [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}]
    if kind == "adam":
        return L.optim.Adam(groups, lr=0.1)
    return L.optim.SGD(groups, lr=0.1, momentum=0.9)


_ORDER_WARNING = "ignore:Detected call of `lr_scheduler.step()`"


@needs_torch
@pytest.mark.filterwarnings(_ORDER_WARNING)
@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_resumes_from_a_checkpoint_as_torch(name, kind, tmp_path):
    """Save optimizer and scheduler state with genesis.save_checkpoint halfway, restore
    them into fresh objects (the way PyTorch users resume), and get exactly torch's
    uninterrupted learning rates (and momenta)."""
    make = SCHEDULERS[name]
    t_opt = _sched_opt(torch, kind)
    t_sched = make(torch, t_opt)
    want = _sched_run(torch, make, t_opt, t_sched, range(14))
    g_opt = _sched_opt(genesis, kind)
    g_sched = make(genesis, g_opt)
    got = _sched_run(genesis, make, g_opt, g_sched, range(6))
    genesis.save_checkpoint({"optimizer": g_opt.state_dict(),
                             "scheduler": g_sched.state_dict()}, tmp_path / "ck")
    ck = genesis.load_checkpoint(tmp_path / "ck")
    g_opt = _sched_opt(genesis, kind)
    g_sched = make(genesis, g_opt)
    g_opt.load_state_dict(ck["optimizer"])
    g_sched.load_state_dict(ck["scheduler"])
    got += _sched_run(genesis, make, g_opt, g_sched, range(6, 14))
    np.testing.assert_allclose(np.array(got, dtype=float), np.array(want, dtype=float),
                               rtol=1e-12, atol=0)
    assert g_sched.get_last_lr() == t_sched.get_last_lr()


@needs_torch
@pytest.mark.filterwarnings(_ORDER_WARNING)
@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_loads_torch_state_dict(name):
    """torch's own scheduler state_dict loads into genesis's and continues identically."""
    make = SCHEDULERS[name]
    t_opt = _sched_opt(torch, "sgd")
    t_sched = make(torch, t_opt)
    _sched_run(torch, make, t_opt, t_sched, range(6))
    g_opt = _sched_opt(genesis, "sgd")
    g_sched = make(genesis, g_opt)
    g_opt.load_state_dict(_to_lib(t_opt.state_dict(), genesis))
    sd = t_sched.state_dict()
    assert set(g_sched.state_dict()) == set(sd)
    g_sched.load_state_dict(_to_lib(sd, genesis))
    want = _sched_run(torch, make, t_opt, t_sched, range(6, 12))
    got = _sched_run(genesis, make, g_opt, g_sched, range(6, 12))
    np.testing.assert_allclose(np.array(got, dtype=float), np.array(want, dtype=float),
                               rtol=1e-12, atol=0)


HF_SCHEDULES = {
    "constant": lambda o: genesis.optim.get_constant_schedule(o),
    "constant warmup": lambda o: genesis.optim.get_constant_schedule_with_warmup(o, 3),
    "linear": lambda o: genesis.optim.get_linear_schedule_with_warmup(o, 3, 15),
    "cosine": lambda o: genesis.optim.get_cosine_schedule_with_warmup(o, 3, 15),
    "hard restarts": lambda o:
        genesis.optim.get_cosine_with_hard_restarts_schedule_with_warmup(o, 3, 15, 2),
    "polynomial": lambda o: genesis.optim.get_polynomial_decay_schedule_with_warmup(
        o, 3, 15, lr_end=1e-4, power=2.0),
    "inverse sqrt": lambda o: genesis.optim.get_inverse_sqrt_schedule(o, 3),
    "wsd": lambda o: genesis.optim.get_wsd_schedule(o, 3, 5, 15),
}


@pytest.mark.parametrize("name", list(HF_SCHEDULES))
def test_hf_schedule_resumes_from_a_checkpoint(name, tmp_path):
    """The partial-based Hugging Face schedules save (their partials as empty dicts) and
    resume exactly; no torch needed."""
    def fresh():
        opt = genesis.optim.AdamW([genesis.nn.Parameter(genesis.ones(2))], lr=0.1)
        return opt, HF_SCHEDULES[name](opt)

    def run(opt, sched, n):
        out = []
        for _ in range(n):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr()[0])
        return out
    want = run(*fresh(), 14)
    opt, sched = fresh()
    got = run(opt, sched, 5)
    genesis.save_checkpoint({"o": opt.state_dict(), "s": sched.state_dict(),
                             "lr": sched.get_last_lr()}, tmp_path / "ck")
    ck = genesis.load_checkpoint(tmp_path / "ck")
    assert ck["s"]["lr_lambdas"] == ([None] if name == "constant" else [{}])
    assert ck["lr"] == [got[-1]] and type(ck["lr"]) is list
    opt, sched = fresh()
    opt.load_state_dict(ck["o"])
    sched.load_state_dict(ck["s"])
    assert run(opt, sched, 9) == want[5:]


def test_lambda_lr_object_state_restored_and_functions_dropped(tmp_path):
    """As torch: a plain function is saved as None (the new scheduler keeps its own); a
    callable object's attributes are saved and restored."""
    opt = genesis.optim.SGD([genesis.nn.Parameter(genesis.ones(1))], lr=1.0)
    obj = _Decay()
    obj.k = 0.5
    sched = genesis.optim.lr_scheduler.LambdaLR(opt, [obj])
    genesis.save_checkpoint(sched.state_dict(), tmp_path / "s")
    opt2 = genesis.optim.SGD([genesis.nn.Parameter(genesis.ones(1))], lr=1.0)
    fresh = _Decay()
    sched2 = genesis.optim.lr_scheduler.LambdaLR(opt2, fresh)
    sched2.load_state_dict(genesis.load_checkpoint(tmp_path / "s"))
    assert fresh.k == 0.5
    fn_sched = genesis.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0)
    assert fn_sched.state_dict()["lr_lambdas"] == [None]


# ---------------------------------------------------------------- serialization
def _roundtrip(L, obj, **kw):
    import io
    f = io.BytesIO()
    L.save(obj, f)
    f.seek(0)
    return L.load(f, weights_only=False, **kw) if L is torch else L.load(f, **kw)


def _desc(x):
    if isinstance(x, (torch.Tensor, genesis.Tensor)):
        return (type(x).__name__, x.tolist(), str(x.dtype), tuple(x.shape), x.requires_grad)
    if isinstance(x, dict):
        return (type(x).__name__, {k: _desc(v) for k, v in x.items()})
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_desc(v) for v in x])
    return x


def _bn_through_checkpoint(L):
    m = L.nn.Sequential(L.nn.Linear(2, 2), L.nn.BatchNorm1d(2))
    m.train()
    m(L.ones(3, 2))
    sd = _roundtrip(L, m.state_dict())
    fresh = L.nn.Sequential(L.nn.Linear(2, 2), L.nn.BatchNorm1d(2))
    res = repr(fresh.load_state_dict(sd))
    del sd["1.num_batches_tracked"]      # version 2 in _metadata: now really missing
    try:
        fresh.load_state_dict(sd)
    except RuntimeError as e:
        res += str(e)
    return dict(getattr(sd, "_metadata", {})), res, fresh[1].num_batches_tracked.item()


SERIAL_CASES = {
    "state_dict _metadata survives": _bn_through_checkpoint,
    "slice view": lambda L: _desc(_roundtrip(L, L.arange(12.).reshape(3, 4)[1:, ::2])),
    "transposed": lambda L: _desc(_roundtrip(L, L.arange(6.).reshape(2, 3).t())),
    "expanded": lambda L: _desc(_roundtrip(L, L.ones(3, 1).expand(3, 4))),
    "column": lambda L: _desc(_roundtrip(L, L.arange(6.).reshape(2, 3)[:, 1])),
    "same tensor twice": lambda L: _pipe(
        L.zeros(3), lambda x: _roundtrip(L, {"a": x, "b": x}), lambda d: d["a"] is d["b"]),
    "Parameter inside optimizer state": lambda L: _pipe(
        L.nn.Parameter(L.ones(2)), lambda p: _roundtrip(L, {"s": {"p": p}, "m": p}),
        lambda d: (type(d["s"]["p"]).__name__, d["s"]["p"] is d["m"],
                   d["m"].requires_grad)),
    "big ints": lambda L: _roundtrip(L, {"a": 2 ** 100, "b": -2 ** 70, "c": [2 ** 64]}),
    "tuple keys": lambda L: _roundtrip(L, {(1, "a"): 3, (2, (3, 4)): 5}),
    "mixed keys": lambda L: _roundtrip(L, {0: 1, 1.5: 2, None: 3, "s": 4, True: 5}),
    "requires_grad non-leaf": lambda L: _desc(_roundtrip(L, L.ones(2, requires_grad=True)
                                                         * 2)),
    "0-d and empty": lambda L: _desc(_roundtrip(L, [L.tensor(3.5), L.zeros(0, 3),
                                                    L.arange(3)])),
    "map_location str": lambda L: _desc(_roundtrip(L, L.ones(2), map_location="cpu")),
    "map_location device": lambda L: _desc(_roundtrip(L, L.ones(2),
                                                      map_location=L.device("cpu"))),
    "map_location dict": lambda L: _desc(_roundtrip(L, L.ones(2),
                                                    map_location={"cpu": "cpu"})),
    "map_location callable": lambda L: _desc(_roundtrip(L, {"a": L.ones(2)},
                                                        map_location=lambda s, loc: s)),
    "Size, dtype, device": lambda L: _then(
        _roundtrip(L, [L.ones(2, 3).shape, L.float16, L.device("cpu")]),
        lambda r: (type(r[0]).__name__, tuple(r[0]), str(r[1]), str(r[2]))),
    "Counter and OrderedDict": lambda L: _then(
        _roundtrip(L, {"c": Counter([1, 1, 2]), "o": OrderedDict(b=1, a=2)}),
        lambda r: (type(r["c"]).__name__, r["c"], type(r["o"]).__name__, list(r["o"]))),
    "nan, inf, -0.0": lambda L: str(_roundtrip(L, [float("nan"), float("inf"), -0.0])),
    "keep_vars state_dict": lambda L: [type(v).__name__ for v in _roundtrip(
        L, L.nn.Linear(1, 1).state_dict(keep_vars=True)).values()],
}


@needs_torch
@pytest.mark.parametrize("name", list(SERIAL_CASES))
def test_serialization_matches_torch(name):
    same_as_torch(SERIAL_CASES, name)


def test_state_dict_metadata_and_get_last_lr_saved(tmp_path):
    m = genesis.nn.Sequential(genesis.nn.BatchNorm1d(2))
    genesis.save_checkpoint(m.state_dict(), tmp_path / "m")
    sd = genesis.load_checkpoint(tmp_path / "m")
    assert sd._metadata == OrderedDict([("", {"version": 1}), ("0", {"version": 2})])
    opt = genesis.optim.SGD(m.parameters(), lr=0.1)
    sched = genesis.optim.lr_scheduler.StepLR(opt, 1, 0.5)
    opt.step()
    sched.step()
    genesis.save_checkpoint({"lr": sched.get_last_lr()}, tmp_path / "lr")
    assert genesis.load_checkpoint(tmp_path / "lr") == {"lr": [0.05]}


# ---------------------------------------------------------------- data
Point = namedtuple("Point", "x y")
Inner = namedtuple("Inner", "a b")


def _iterable(L, n, with_len=True, shard=False):
    class It(L.utils.data.IterableDataset):
        def __iter__(self):
            info = L.utils.data.get_worker_info()
            if shard and info is not None:
                return iter(range(info.id, n, info.num_workers))
            return iter(range(n))
    if with_len:
        It.__len__ = lambda self: n
    return It()


def _DL(L, *a, **k):
    return L.utils.data.DataLoader(*a, **k)


def _batches(loader):
    return [_desc(b) for b in loader]


def _first(loader):
    return _desc(next(iter(loader)))


DATA_CASES = {
    "batch_size=None": lambda L: _batches(_DL(L, [1, 2, 3], batch_size=None)),
    "batch_size=None arrays": lambda L: _batches(
        _DL(L, [np.ones(2), np.zeros(2)], batch_size=None)),
    "batch_size=None with drop_last": lambda L: _DL(L, [1], batch_size=None, drop_last=True),
    "batch_size=0": lambda L: _DL(L, [1], batch_size=0),
    "iterable drop_last": lambda L: _batches(_DL(L, _iterable(L, 7), batch_size=3,
                                                 drop_last=True)),
    "iterable len drop_last": lambda L: len(_DL(L, _iterable(L, 7), batch_size=3,
                                                drop_last=True)),
    "iterable len": lambda L: len(_DL(L, _iterable(L, 7), batch_size=3)),
    "iterable without len": lambda L: len(_DL(L, _iterable(L, 7, with_len=False))),
    "iterable shuffle": lambda L: _DL(L, _iterable(L, 3), shuffle=True),
    "iterable batch_size=None": lambda L: _batches(_DL(L, _iterable(L, 3), batch_size=None)),
    "len with workers": lambda L: len(_DL(L, list(range(10)), batch_size=3, num_workers=2)),
    "sharded iterable, workers, drop_last": lambda L: _batches(_DL(
        L, _iterable(L, 7, shard=True), batch_size=2, num_workers=2, drop_last=True)),
    "unsharded iterable, workers": lambda L: _batches(_DL(
        L, _iterable(L, 5), batch_size=2, num_workers=2)),
    "nested namedtuples": lambda L: _first(_DL(
        L, [Point(Inner(1, 2.0), "s"), Point(Inner(3, 4.0), "t")], batch_size=2)),
    "dict of lists": lambda L: _first(_DL(
        L, [{"a": [1, 2], "b": "x"}, {"a": [3, 4], "b": "y"}], batch_size=2)),
    "dict of tuples of lists": lambda L: _first(_DL(
        L, [{"a": (1, [2.0])}, {"a": (3, [4.0])}], batch_size=2)),
    "ragged lists": lambda L: _first(_DL(L, [[1, 2], [3]], batch_size=2)),
    "NumPy scalars": lambda L: _first(_DL(L, [np.float32(1), np.float32(2)], batch_size=2)),
    "0-d arrays": lambda L: _first(_DL(L, [np.array(1.5), np.array(2.5)], batch_size=2)),
    "mismatched tensors": lambda L: _first(_DL(L, [L.ones(2), L.zeros(3)], batch_size=2)),
    "non-contiguous tensors": lambda L: _desc(L.utils.data.default_collate(
        [L.arange(6.).reshape(2, 3).t(), L.ones(3, 2)])),
    "bools, bytes": lambda L: [_first(_DL(L, s, batch_size=2)) for s in
                               ([True, False], [b"a", b"b"])],
    "None samples": lambda L: _first(_DL(L, [None, None], batch_size=2)),
    "objects": lambda L: L.utils.data.default_collate([object(), object()]),
    "default_convert": lambda L: _desc(L.utils.data.default_convert(
        [np.ones(2), (np.int32(3), "s")])),
    "list sampler": lambda L: [b.tolist() for b in _DL(L, list(range(5)), sampler=[4, 0, 2],
                                                       batch_size=2)],
    "list batch_sampler": lambda L: [b.tolist() for b in _DL(
        L, list(range(5)), batch_sampler=[[4, 0], [2]])],
    "batch_sampler with batch_size": lambda L: _DL(L, [1], batch_size=2,
                                                   batch_sampler=[[0]]),
    "frozen attribute": lambda L: setattr(_DL(L, [1]), "batch_size", 3),
    "BatchSampler drop_last len": lambda L: (len(L.utils.data.BatchSampler(range(7), 3, True)),
                                             len(L.utils.data.BatchSampler(range(7), 3, False))),
    "BatchSampler bad drop_last": lambda L: L.utils.data.BatchSampler(range(7), 2, 1),
    "persistent workers, two epochs": lambda L: _then(
        _DL(L, list(range(5)), batch_size=2, num_workers=2, persistent_workers=True),
        lambda dl: [[b.tolist() for b in dl] for _ in range(2)]),
}


@needs_torch
@pytest.mark.parametrize("name", list(DATA_CASES))
def test_dataloader_matches_torch(name):
    same_as_torch(DATA_CASES, name)


def test_sampler_generators_are_reproducible():
    """Seeded generators give the same order twice (genesis's stream is its own, not
    torch's) and every sampler covers what it should."""
    data = genesis.utils.data

    def orders(seed):
        g = genesis.Generator().manual_seed(seed)
        return ([b.tolist() for b in data.DataLoader(list(range(10)), batch_size=4,
                                                     shuffle=True, generator=g)],
                list(data.RandomSampler(range(10), generator=g)),
                list(data.SubsetRandomSampler([5, 6, 7], generator=g)),
                [list(s.indices) for s in data.random_split(range(10), [0.3, 0.7],
                                                            generator=g)])
    a, b, c = orders(3), orders(3), orders(4)
    assert a == b and a != c
    assert sorted(sum(a[0], [])) == list(range(10)) and sorted(a[1]) == list(range(10))
    assert sorted(a[2]) == [5, 6, 7] and sorted(sum(a[3], [])) == list(range(10))
