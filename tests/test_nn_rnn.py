"""Recurrent layers: RNN (tanh/relu), LSTM (with and without proj_size), GRU and their
cells against torch with the same weights (state_dict keys identical, outputs, final
states and every parameter/input gradient), finite-difference gradchecks without torch,
errors, dropout between layers and init."""
import math

import numpy as np
import pytest

import genesis
import genesis.nn as gnn
from oracle import rand, gradcheck, needs_torch, torch, assert_same, DEVICE

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")

T, B, I, H = 4, 3, 5, 6
TOLS = {"float64": dict(rtol=1e-10, atol=1e-10), "float32": dict(rtol=1e-5, atol=1e-5)}


def _g(x, grad=False):
    return genesis.tensor(x, device=DEVICE, requires_grad=grad)


def _pair(cls, dtype, *args, **kw):
    """The same layer in torch and genesis: torch's state_dict loaded into genesis."""
    torch.manual_seed(0)
    tm = getattr(torch.nn, cls)(*args, **kw).to(getattr(torch, dtype))
    gm = getattr(gnn, cls)(*args, **kw).to(getattr(genesis, dtype)).to(DEVICE)
    tsd = tm.state_dict()
    assert list(gm.state_dict()) == list(tsd)
    gm.load_state_dict({k: genesis.tensor(v.numpy(), device=DEVICE) for k, v in tsd.items()})
    return tm, gm


def _flat(out):
    """output, h_n or output, (h_n, c_n) (or a cell's h / (h, c)) as a flat list."""
    if not isinstance(out, tuple):
        return [out]
    return [t for o in out for t in (o if isinstance(o, tuple) else (o,))]


def _compare(tm, gm, arrays, dtype, call=lambda m, x, *h: m(x, *h)):
    """Run both with leaf inputs made from ``arrays`` (input and optional hidden states),
    compare outputs, then backpropagate the same random gradients and compare the input
    and every parameter gradient."""
    tin = [torch.tensor(a, requires_grad=True) for a in arrays]
    gin = [_g(a, grad=True) for a in arrays]
    tout, gout = _flat(call(tm, *tin)), _flat(call(gm, *gin))
    assert len(tout) == len(gout)
    tol = TOLS[dtype]
    for k, (g, t) in enumerate(zip(gout, tout)):
        assert_same(g, t, what=f"output {k}", **tol)
    r = np.random.default_rng(1)
    ups = [r.standard_normal(tuple(t.shape)).astype(dtype) for t in tout]
    torch.autograd.backward(tout, [torch.tensor(u) for u in ups])
    genesis.autograd.backward(gout, [_g(u) for u in ups])
    for k, (g, t) in enumerate(zip(gin, tin)):
        assert_same(g.grad, t.grad, what=f"grad of input {k}", **tol)
    gp = dict(gm.named_parameters())
    for name, p in tm.named_parameters():
        assert_same(gp[name].grad, p.grad, what=f"grad of {name}", **tol)


KINDS = {
    "rnn_tanh": ("RNN", {}),
    "rnn_relu": ("RNN", dict(nonlinearity="relu")),
    "lstm": ("LSTM", {}),
    "lstm_proj": ("LSTM", dict(proj_size=4)),
    "gru": ("GRU", {}),
}
# name: (constructor kwargs, batched input?, given initial states?)
CONFIGS = {
    "base": ({}, True, False),
    "2layers_bidir": (dict(num_layers=2, bidirectional=True), True, False),
    "batch_first_2layers": (dict(batch_first=True, num_layers=2), True, True),
    "unbatched": ({}, False, False),
    "unbatched_h0_bidir": (dict(bidirectional=True), False, True),
    "h0_nobias_bidir": (dict(bias=False, bidirectional=True, num_layers=2), True, True),
}


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("kind", list(KINDS))
def test_layer_parity(kind, config, dtype):
    cls, kkw = KINDS[kind]
    ckw, batched, given = CONFIGS[config]
    tm, gm = _pair(cls, dtype, I, H, **kkw, **ckw)
    shape = ((B, T, I) if ckw.get("batch_first") else (T, B, I)) if batched else (T, I)
    arrays = [rand(*shape, dtype=dtype)]
    if given:
        nd = ckw.get("num_layers", 1) * (2 if ckw.get("bidirectional") else 1)
        lead = (nd, B) if batched else (nd,)
        arrays.append(rand(*lead, kkw.get("proj_size") or H, dtype=dtype, seed=2))
        if cls == "LSTM":
            arrays.append(rand(*lead, H, dtype=dtype, seed=3))
    call = (lambda m, x, h, c: m(x, (h, c))) if len(arrays) == 3 else \
        (lambda m, x, *h: m(x, *h))
    _compare(tm, gm, arrays, dtype, call)


CELLS = {
    "rnn_tanh": ("RNNCell", {}, 1),
    "rnn_relu": ("RNNCell", dict(nonlinearity="relu"), 1),
    "lstm": ("LSTMCell", {}, 2),
    "gru": ("GRUCell", {}, 1),
}


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", ["batched_hx", "batched", "unbatched_hx", "nobias"])
@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_parity(kind, mode, dtype):
    cls, kw, nstates = CELLS[kind]
    if mode == "nobias":
        kw = dict(kw, bias=False)
    tm, gm = _pair(cls, dtype, I, H, **kw)
    lead = () if mode == "unbatched_hx" else (B,)
    arrays = [rand(*lead, I, dtype=dtype)]
    if mode != "batched":
        arrays += [rand(*lead, H, dtype=dtype, seed=2 + k) for k in range(nstates)]
    call = (lambda m, x, h, c: m(x, (h, c))) if len(arrays) == 3 else \
        (lambda m, x, *h: m(x, *h))
    _compare(tm, gm, arrays, dtype, call)


def test_gradcheck_layers():
    """Gradients of output and final states w.r.t. input and initial states of a tiny
    2-layer bidirectional GRU and LSTM (with a projection), by finite differences."""
    genesis.manual_seed(0)
    gru = gnn.GRU(2, 3, num_layers=2, bidirectional=True).double().to(DEVICE)
    lstm = gnn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=2).double().to(DEVICE)
    gradcheck(lambda x, h: gru(x, h), rand(3, 2, 2), rand(4, 2, 3, seed=1))
    gradcheck(lambda x, h, c: lstm(x, (h, c)), rand(3, 2, 2), rand(4, 2, 2, seed=1),
              rand(4, 2, 3, seed=2))


@pytest.mark.parametrize("cls", ["GRUCell", "LSTMCell", "RNNCell"])
def test_gradcheck_cells_second_order(cls):
    genesis.manual_seed(0)
    m = getattr(gnn, cls)(2, 3).double().to(DEVICE)
    gradcheck(lambda x, h: m(x, (h, h) if cls == "LSTMCell" else h), rand(2, 2),
              rand(2, 3, seed=1), second_order=True)


@pytest.mark.parametrize("cls,kw,nd,hs", [
    ("RNN", {}, 1, H), ("LSTM", dict(proj_size=2), 1, 2),
    ("GRU", dict(num_layers=2, bidirectional=True), 4, H)])
def test_parameters_shapes_and_init(cls, kw, nd, hs):
    m = getattr(gnn, cls)(I, H, **kw)
    gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[cls] * H
    names = [n for n, _ in m.named_parameters()]
    assert names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert tuple(m.weight_ih_l0.shape) == (gates, I)
    assert tuple(m.weight_hh_l0.shape) == (gates, hs)
    if kw.get("proj_size"):
        assert names[4] == "weight_hr_l0" and tuple(m.weight_hr_l0.shape) == (2, H)
    if kw.get("bidirectional"):
        assert "weight_ih_l1_reverse" in names
        assert tuple(m.weight_ih_l1.shape) == (gates, 2 * H)
    assert len(m.all_weights) == nd
    bound = 1 / math.sqrt(H)
    for p in m.parameters():
        v = p.detach().cpu().numpy()
        assert (np.abs(v) <= bound).all() and v.std() > bound / 4


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers(cls):
    genesis.manual_seed(0)
    m = getattr(gnn, cls)(I, H, num_layers=2, dropout=0.5).to(DEVICE)
    x = _g(rand(T, B, I, dtype="float32"))

    def run():
        return m(x)[0].detach().cpu().numpy()
    m.eval()
    ref = run()
    np.testing.assert_array_equal(run(), ref)
    m.dropout = 0.0
    m.train()
    np.testing.assert_array_equal(run(), ref)     # no dropout: as eval
    m.dropout = 0.5
    a, b = run(), run()
    assert not np.allclose(a, ref) and not np.allclose(a, b)


def test_dropout_single_layer_warns():
    with pytest.warns(UserWarning, match="num_layers greater than 1, but got dropout=0.5"):
        gnn.LSTM(I, H, dropout=0.5)


def test_repr():
    assert repr(gnn.LSTM(10, 20, proj_size=5, num_layers=2, batch_first=True,
                         bidirectional=True)) == \
        "LSTM(10, 20, proj_size=5, num_layers=2, batch_first=True, bidirectional=True)"
    assert repr(gnn.RNNCell(3, 4, bias=False, nonlinearity="relu")) == \
        "RNNCell(3, 4, bias=False, nonlinearity=relu)"


def _raises(exc, match, fn):
    with pytest.raises(exc, match=match):
        fn()


ERRORS = [
    ("input_size", RuntimeError,
     r"input.size\(-1\) must be equal to input_size. Expected 10, got 7",
     lambda: gnn.RNN(10, 20)(genesis.randn(5, 3, 7))),
    ("hidden_size", RuntimeError, r"Expected hidden size \(1, 3, 20\), got \[2, 3, 20\]",
     lambda: gnn.GRU(10, 20)(genesis.randn(5, 3, 10), genesis.randn(2, 3, 20))),
    ("lstm_c_size", RuntimeError, r"Expected hidden\[1\] size \(1, 3, 20\), got \[1, 2, 20\]",
     lambda: gnn.LSTM(10, 20)(genesis.randn(5, 3, 10),
                              (genesis.randn(1, 3, 20), genesis.randn(1, 2, 20)))),
    ("lstm_proj_h_size", RuntimeError, r"Expected hidden\[0\] size \(1, 3, 4\), got",
     lambda: gnn.LSTM(10, 20, proj_size=4)(genesis.randn(5, 3, 10),
                                           (genesis.randn(1, 3, 20),
                                            genesis.randn(1, 3, 20)))),
    ("nonlinearity", ValueError, "Unknown nonlinearity 'gelu'",
     lambda: gnn.RNN(10, 20, nonlinearity="gelu")),
    ("input_4d", ValueError, "LSTM: Expected input to be 2D or 3D, got 4D instead",
     lambda: gnn.LSTM(10, 20)(genesis.randn(1, 5, 3, 10))),
    ("hx_dims", RuntimeError, "For unbatched 2-D input, hx should also be 2-D but got 3-D",
     lambda: gnn.RNN(10, 20)(genesis.randn(5, 10), genesis.randn(1, 3, 20))),
    ("dtype", ValueError, r"RNN input dtype \(.*float64\) does not match weight dtype",
     lambda: gnn.GRU(10, 20)(genesis.randn(5, 3, 10, dtype=genesis.float64))),
    ("proj_gru", ValueError, "proj_size argument is only supported for LSTM",
     lambda: gnn.GRU(10, 20, proj_size=5)),
    ("proj_big", ValueError, "proj_size has to be smaller than hidden_size",
     lambda: gnn.LSTM(10, 20, proj_size=20)),
    ("dropout", ValueError, r"dropout should be a number in range \[0, 1\]",
     lambda: gnn.LSTM(10, 20, dropout=1.5)),
    ("hidden_type", TypeError, "hidden_size should be of type int, got: float",
     lambda: gnn.LSTM(10, 20.0)),
    ("layers", ValueError, "num_layers must be greater than zero",
     lambda: gnn.GRU(10, 20, num_layers=0)),
    ("cell_input", RuntimeError, "input has inconsistent input_size: got 7 expected 10",
     lambda: gnn.GRUCell(10, 20)(genesis.randn(3, 7))),
    ("cell_batch", RuntimeError, "Input batch size 3 doesn't match hidden0 batch size 2",
     lambda: gnn.RNNCell(10, 20)(genesis.randn(3, 10), genesis.randn(2, 20))),
    ("cell_hidden", RuntimeError, "hidden1 has inconsistent hidden_size: got 7, expected 20",
     lambda: gnn.LSTMCell(10, 20)(genesis.randn(3, 10),
                                  (genesis.randn(3, 20), genesis.randn(3, 7)))),
    ("cell_dims", ValueError, "GRUCell: Expected input to be 1D or 2D, got 3D instead",
     lambda: gnn.GRUCell(10, 20)(genesis.randn(1, 3, 10))),
    ("cell_nonlinearity", RuntimeError, "Unknown nonlinearity: gelu",
     lambda: gnn.RNNCell(10, 20, nonlinearity="gelu")(genesis.randn(3, 10))),
]


@pytest.mark.parametrize("name,exc,match,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(name, exc, match, fn):
    _raises(exc, match, fn)
