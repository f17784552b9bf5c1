"""embedding, one_hot, the dropouts and their modules: against PyTorch where the result is
deterministic, by statistics where it is random."""
import numpy as np
import pytest

import genesis
import genesis.nn as gnn
import genesis.nn.functional as F
from oracle import check, rand, gradcheck, needs_torch, torch, assert_same, DEVICE

if torch is not None:
    import torch.nn.functional as TF


def _dev(lib):
    # genesis tensors go to the device the tests run genesis on
    return {"device": DEVICE} if lib is genesis else {}


# ------------------------------------------------------------------ embedding
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("freq", [False, True])
@pytest.mark.parametrize("idx", [[[1, 2, 2], [0, 3, 1]], [4, 4, 4, 0], [[]]],
                         ids=["repeats", "one_row", "empty"])
def test_embedding(dtype, padding_idx, freq, idx):
    w = rand(5, 3, dtype=dtype)
    i = np.array(idx, dtype=np.int64).reshape(np.array(idx).shape)

    def fn(lib, lib_F):
        return lambda w: lib_F.embedding(lib.tensor(i, **_dev(lib)), w, padding_idx=padding_idx,
                                         scale_grad_by_freq=freq)
    check(fn(genesis, F), w, fn_torch=fn(torch, TF) if torch else None, noncontig=True)


@needs_torch
@pytest.mark.parametrize("vocab,n", [(5000, 300), (20, 3000)], ids=["mostly_unique",
                                                                    "mostly_repeated"])
def test_embedding_scatter_paths(vocab, n):
    # both ways of summing the rows (assignment + add.at, or add.at alone), int32 indices
    i = np.random.default_rng(0).integers(0, vocab, (n,)).astype(np.int32)
    w = rand(vocab, 4, dtype="float32")
    check(lambda w, F=F: F.embedding(genesis.tensor(i, device=DEVICE), w, padding_idx=3), w,
          fn_torch=lambda w: TF.embedding(torch.tensor(i), w, padding_idx=3))


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_embedding_max_norm_renormalizes_weight_in_place(norm_type):
    w = rand(6, 4, low=-2, high=2)
    i = np.array([[0, 1, 1], [4, 5, 0]])
    gw, tw = genesis.tensor(w), torch.tensor(w)
    gy = F.embedding(genesis.tensor(i), gw, max_norm=1.0, norm_type=norm_type)
    ty = TF.embedding(torch.tensor(i), tw, max_norm=1.0, norm_type=norm_type)
    assert_same(gy, ty)
    assert_same(gw, tw, what="renormalized weight")


def test_embedding_gradcheck():
    i = genesis.tensor([[0, 2, 2], [3, 0, 1]], device=DEVICE)
    gradcheck(lambda w: F.embedding(i, w), rand(4, 3), second_order=True)

    # padding_idx and scale_grad_by_freq make the weight gradient differ from the true
    # derivative (as in PyTorch); that gradient is still a linear map of the upstream one,
    # whose own derivative is checked here
    def first(w, go):
        return genesis.autograd.grad(
            F.embedding(i, w, padding_idx=0, scale_grad_by_freq=True), w, go,
            create_graph=True)
    gradcheck(first, rand(4, 3), rand(2, 3, 3, seed=1))


def test_embedding_padding_row_gradient_stays_zero():
    w = genesis.randn(4, 2, requires_grad=True)
    F.embedding(genesis.tensor([1, 1, 3]), w, padding_idx=1).sum().backward()
    assert w.grad[1].tolist() == [0.0, 0.0]
    assert w.grad[3].tolist() == [1.0, 1.0]


# ------------------------------------------------------------------ one_hot
@needs_torch
@pytest.mark.parametrize("vals,n", [([0, 2, 1], -1), ([[1, 0], [3, 3]], 5), ([], 3),
                                    (2, 4)])
def test_one_hot(vals, n):
    v = np.array(vals, dtype=np.int64)
    assert_same(F.one_hot(genesis.tensor(v), n), TF.one_hot(torch.tensor(v), n))


# ------------------------------------------------------------------ dropout
def test_dropout_statistics_and_backward_mask():
    genesis.manual_seed(0)
    x = genesis.ones(400, 500, requires_grad=True)
    for p in (0.1, 0.5, 0.8):
        y = F.dropout(x, p)
        v = y.detach().numpy()
        assert abs((v == 0).mean() - p) < 0.01
        assert abs(v.mean() - 1.0) < 0.02                # the mean is preserved
        assert np.allclose(v[v != 0], 1 / (1 - p))
        x.grad = None
        y.backward(genesis.ones(400, 500))
        np.testing.assert_array_equal(x.grad.numpy(), v)  # the same mask forward and back


def test_dropout_is_deterministic_under_manual_seed():
    x = genesis.randn(50, 40)
    genesis.manual_seed(123)
    a = F.dropout(x, 0.3)
    genesis.manual_seed(123)
    b = F.dropout(x, 0.3)
    c = F.dropout(x, 0.3)
    assert genesis.equal(a, b) and not genesis.equal(b, c)


def test_dropout_identity_cases():
    x = genesis.randn(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    z = F.dropout(x, 1.0)
    assert not z.detach().numpy().any()
    z.sum().backward()
    assert not x.grad.numpy().any()


def test_dropout_low_precision_and_float64():
    for dt in (genesis.float16, genesis.bfloat16, genesis.float64):
        y = F.dropout(genesis.ones(100, 100, dtype=dt), 0.5)
        assert y.dtype == dt
        assert set(np.unique(y.float().numpy()).tolist()) <= {0.0, 2.0}


def test_dropout_inplace():
    genesis.manual_seed(1)
    x = genesis.randn(30, 30)
    keep = x.clone()
    y = F.dropout(x, 0.4, inplace=True)
    assert y is x and x._version > 0
    v = x.numpy()
    kept = v != 0
    np.testing.assert_allclose(v[kept], keep.numpy()[kept] / 0.6, rtol=1e-6)
    # with autograd: the non-leaf takes the new history, gradients go through the mask
    w = genesis.randn(30, 30, requires_grad=True)
    h = w * 1
    F.dropout(h, 0.4, inplace=True).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy() != 0, h.detach().numpy() != 0)


@pytest.mark.parametrize("fn,shape,bcast", [
    (F.dropout1d, (8, 16, 10), (8, 16, 1)), (F.dropout1d, (16, 10), (16, 1)),
    (F.dropout2d, (4, 16, 3, 3), (4, 16, 1, 1)), (F.dropout2d, (16, 3, 3), (16, 3, 1)),   # 3-D: (N, C, L) as PyTorch
    (F.dropout3d, (16, 2, 2, 2), (16, 1, 1, 1)),
    (F.dropout3d, (2, 16, 2, 2, 2), (2, 16, 1, 1, 1)),
])
@pytest.mark.filterwarnings("ignore:dropout2d")
def test_channel_dropout_drops_whole_channels(fn, shape, bcast):
    genesis.manual_seed(3)
    x = genesis.ones(*shape, requires_grad=True)
    y = fn(x, 0.5)
    v = y.detach().numpy()
    # every channel is either all zero or all 2
    red = tuple(i for i, s in enumerate(bcast) if s == 1)
    assert np.array_equal(v.min(red), v.max(red))
    assert 0 < (v.min(red) == 0).mean() < 1
    y.backward(genesis.ones(*shape))
    np.testing.assert_array_equal(x.grad.numpy(), v)


def test_alpha_dropout_keeps_mean_and_std():
    genesis.manual_seed(0)
    x = genesis.randn(400, 500)
    for fn in (F.alpha_dropout, F.feature_alpha_dropout):
        y = fn(x, 0.2, training=True).numpy()
        assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    assert F.alpha_dropout(x, 0.2) is x                  # training defaults to False
    g = genesis.randn(6, 7, requires_grad=True)
    genesis.manual_seed(5)
    y = F.alpha_dropout(g, 0.3, True)
    y.backward(genesis.ones(6, 7))
    # the gradient is the multiplier a on kept elements, zero on dropped ones
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.3 + 1) * 0.7)
    vals = np.unique(g.grad.numpy())
    assert len(vals) == 2 and vals[0] == 0 and abs(vals[1] - a) < 1e-6


# ------------------------------------------------------------------ errors
ERRORS = [
    (lambda: F.dropout(genesis.ones(2), 1.5), ValueError,
     "dropout probability has to be between 0 and 1, but got 1.5"),
    (lambda: F.dropout2d(genesis.ones(2, 2, 2, 2), -0.1), ValueError, "but got -0.1"),
    (lambda: F.dropout1d(genesis.ones(2, 3, 4, 5)), RuntimeError,
     "dropout1d: Expected 2D or 3D input, but received a 4D input"),
    (lambda: gnn.Dropout(2), ValueError, "between 0 and 1, but got 2"),
    (lambda: F.embedding(genesis.tensor([5]), genesis.randn(3, 2)), IndexError,
     "index out of range in self"),
    (lambda: F.embedding(genesis.tensor([1.0]), genesis.randn(3, 2)), RuntimeError,
     "'indices' to have one of the following scalar types: Long, Int"),
    (lambda: F.embedding(genesis.tensor([1]), genesis.randn(3)), RuntimeError,
     "'weight' must be 2-D"),
    (lambda: F.embedding(genesis.tensor([1]), genesis.randn(3, 2), padding_idx=3),
     AssertionError, "Padding_idx must be within num_embeddings"),
    (lambda: gnn.Embedding(3, 2, padding_idx=-4), AssertionError, "Padding_idx must be within"),
    (lambda: F.one_hot(genesis.tensor([1.0])), RuntimeError,
     "one_hot is only applicable to index tensor of type LongTensor"),
    (lambda: F.one_hot(genesis.tensor([-1])), RuntimeError, "Class values must be non-negative"),
    (lambda: F.one_hot(genesis.tensor([3]), 3), RuntimeError,
     "Class values must be smaller than num_classes"),
    (lambda: F.one_hot(genesis.tensor([], dtype=genesis.int64)), RuntimeError,
     "Can not infer total number of classes from empty tensor"),
]


@pytest.mark.parametrize("fn,exc,match", ERRORS)
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_dropout2d_warns_for_3d_input():
    with pytest.warns(UserWarning, match="assuming that channel-wise 1D dropout"):
        F.dropout2d(genesis.ones(2, 3, 4))


# ------------------------------------------------------------------ modules
def test_embedding_module():
    genesis.manual_seed(0)
    e = gnn.Embedding(1000, 16, padding_idx=3)
    w = e.weight.detach().numpy()
    assert w[3].tolist() == [0.0] * 16
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02          # normal_(0, 1)
    assert repr(e) == "Embedding(1000, 16, padding_idx=3)"
    assert list(e.state_dict()) == ["weight"]
    y = e(genesis.tensor([[3, 4]]))
    assert y.shape == (1, 2, 16) and y[0, 0].tolist() == [0.0] * 16
    assert repr(gnn.Embedding(5, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True,
                              sparse=True)) == \
        "Embedding(5, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True, sparse=True)"


def test_embedding_from_pretrained():
    w = genesis.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    e = gnn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad and e.weight.tolist() == w.tolist()
    assert e(genesis.tensor([2, 0])).tolist() == [[5.0, 6.0], [1.0, 2.0]]
    e2 = gnn.Embedding.from_pretrained(w, freeze=False, padding_idx=1)
    assert e2.weight.requires_grad and e2.padding_idx == 1
    e2(genesis.tensor([1, 2])).sum().backward()
    assert e2.weight.grad.tolist() == [[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]
    with pytest.raises(AssertionError, match="2-dimensional"):
        gnn.Embedding.from_pretrained(genesis.ones(3))


@needs_torch
def test_embedding_module_matches_torch():
    t = torch.nn.Embedding(10, 4, padding_idx=0)
    g = gnn.Embedding(10, 4, padding_idx=0)
    g.load_state_dict({"weight": genesis.tensor(t.weight.detach().numpy())})
    i = np.array([[0, 3, 3], [9, 1, 0]])
    assert_same(g(genesis.tensor(i)), t(torch.tensor(i)))
    g(genesis.tensor(i)).pow(2).sum().backward()
    t(torch.tensor(i)).pow(2).sum().backward()
    assert_same(g.weight.grad, t.weight.grad)


@pytest.mark.parametrize("cls,shape", [(gnn.Dropout, (20, 30)), (gnn.Dropout1d, (4, 8, 5)),
                                       (gnn.Dropout2d, (4, 8, 3, 3)),
                                       (gnn.Dropout3d, (2, 8, 2, 2, 2)),
                                       (gnn.AlphaDropout, (20, 30)),
                                       (gnn.FeatureAlphaDropout, (4, 8, 3))])
def test_dropout_modules(cls, shape):
    m = cls(0.5)
    assert repr(m) == f"{cls.__name__}(p=0.5, inplace=False)"
    x = genesis.randn(*shape)
    assert not genesis.equal(m(x), x)              # training mode drops
    m.eval()
    assert genesis.equal(m(x), x)                  # eval mode is the identity
