"""Error messages across the op library: each bad call raises PyTorch's exception type with a
message that names the shapes, dims, dtypes or values involved. Every row also runs on
torch (when installed), which must raise the same exception type: the table stays honest."""
import re

import pytest

import genesis
from oracle import torch


def _backward_twice(L):
    y = (L.ones(2, requires_grad=True) * L.ones(2, requires_grad=True)).sum()
    y.backward()
    y.backward()


def _grad_unused(L):
    x, z = L.ones(2, requires_grad=True), L.ones(2, requires_grad=True)
    L.autograd.grad((x * 2).sum(), z)


def _inplace_in_graph(L):
    # an in-place change of a tensor that backward still needs
    x = L.ones(3, requires_grad=True)
    y = x.exp()
    y.add_(1)
    y.sum().backward()


def _set_data_int(L):
    x = L.ones(2, requires_grad=True)
    x.data = L.ones(2, dtype=L.int64)


def _grad_wrong_shape(L):
    x = L.ones(2, requires_grad=True)
    x.grad = L.ones(3)


# (id, call on the library L, exception type, regex the genesis message must match)
CASES = [
    # broadcasting
    ("add_broadcast", lambda L: L.ones(3) + L.ones(4), RuntimeError,
     r"^The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton "
     r"dimension 0"),
    ("mul_broadcast_dim1", lambda L: L.ones(2, 3) * L.ones(2, 4), RuntimeError,
     r"tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1"),
    ("sub_broadcast_3d", lambda L: L.ones(5, 2, 3) - L.ones(4, 1, 3), RuntimeError,
     r"tensor a \(5\) must match the size of tensor b \(4\) at non-singleton dimension 0"),
    ("div_broadcast", lambda L: L.ones(3) / L.ones(2, 4), RuntimeError,
     r"tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1"),
    ("maximum_broadcast", lambda L: L.maximum(L.ones(3), L.ones(4)), RuntimeError,
     r"\(3\).*\(4\).*dimension 0"),
    ("where_broadcast", lambda L: L.where(L.ones(3) > 0, L.ones(3), L.ones(4)), RuntimeError,
     r"\(3\).*\(4\).*dimension 0"),
    ("inplace_broadcast_out", lambda L: L.ones(3).add_(L.ones(2, 3)), RuntimeError,
     r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"),
    # an in-place op never grows its tensor, even by leading 1-dims (fuzzer regressions)
    *[(f"inplace_grows_{name}", call, RuntimeError,
       r"^output with shape \[3\] doesn't match the broadcast shape \[1, 3\]$")
      for name, call in [
          ("sub", lambda L: L.zeros(3).sub_(L.ones(1, 3))),
          ("sub_grad", lambda L: L.zeros(3).sub_(L.ones(1, 3, requires_grad=True))),
          ("mul_grad", lambda L: L.zeros(3).mul_(L.ones(1, 3, requires_grad=True))),
          ("addcmul", lambda L: L.zeros(3).addcmul_(L.ones(1, 3), L.ones(3))),
          ("addcdiv", lambda L: L.zeros(3).addcdiv_(L.ones(3), L.ones(1, 3))),
          ("lerp", lambda L: L.zeros(3).lerp_(L.ones(1, 3), 0.5)),
          ("clamp", lambda L: L.zeros(3).clamp_(min=L.ones(1, 3))),
          ("floor_divide", lambda L: L.zeros(3).floor_divide_(L.ones(1, 3))),
          ("atan2", lambda L: L.zeros(3).atan2_(L.ones(1, 3))),
          ("logical_and", lambda L: L.zeros(3).logical_and_(L.ones(1, 3))),
      ]],
    ("clamp_tensor_bound_grows", lambda L: L.zeros(3).clamp_(
        min=L.ones(2, 3, requires_grad=True)), RuntimeError,
     r"^output with shape \[3\] doesn't match the broadcast shape \[2, 3\]$"),
    # a scalar that does not fit the tensor's dtype
    *[(f"fill_overflow_{name}", call, RuntimeError,
       rf"^value cannot be converted to type {ctype} without overflow$")
      for name, ctype, call in [
          ("int8", "int8_t", lambda L: L.zeros(3, dtype=L.int8).fill_(200)),
          ("uint8", "uint8_t", lambda L: L.zeros(3, dtype=L.uint8).fill_(-256)),
          ("int8_float", "int8_t", lambda L: L.zeros(3, dtype=L.int8).fill_(127.5)),
          ("int64_nan", "int64_t", lambda L: L.zeros(3, dtype=L.int64).fill_(float("nan"))),
          ("float32", "float", lambda L: L.zeros(3).fill_(1e300)),
          ("float16", r"c10::Half", lambda L: L.zeros(3, dtype=L.float16).fill_(65520.0)),
          ("masked_fill", "int8_t", lambda L: L.zeros(3, dtype=L.int8).masked_fill(
              L.tensor([True, False, True]), 300)),
          ("masked_fill_tensor", "int8_t", lambda L: L.zeros(3, dtype=L.int8).masked_fill(
              L.tensor([False, False, False]), L.tensor(300))),
          ("index_fill", "uint8_t", lambda L: L.zeros(3, dtype=L.uint8).index_fill(
              0, L.tensor([0]), 256)),
      ]],
    # indexing
    ("index_put_dtype", lambda L: L.ones(3).__setitem__([0, 1], L.tensor(2)), RuntimeError,
     r"^Index put requires the source and destination dtypes match, got Float for the "
     r"destination and Long for the source\.$"),
    ("index_put_dtype_mask_and_list",
     lambda L: L.ones(3, 2).__setitem__((L.tensor([True, False, True]), [0]), L.tensor(2)),
     RuntimeError, r"source and destination dtypes match"),
    ("empty_mask", lambda L: L.ones(3, 1)[L.tensor([], dtype=L.bool)], IndexError,
     r"^The shape of the mask \[0\] at index 0 does not match the shape of the indexed "
     r"tensor \[3, 1\] at index 0$"),
    ("empty_mask_after_ellipsis", lambda L: L.ones(3, 2)[..., L.tensor([], dtype=L.bool)],
     IndexError, r"mask \[0\] at index 0 does not match.*\[3, 2\] at index 1$"),
    ("list_holding_float_tensor", lambda L: L.zeros(3, 4)[:, [L.tensor(1.0)]], TypeError,
     r"only integer tensors of a single element can be converted to an index"),
    ("list_holding_long_tensor", lambda L: L.zeros(3, 4)[:, [L.tensor([0, 1])]], TypeError,
     r"only integer tensors of a single element can be converted to an index"),
    ("masked_fill_mask_shape",
     lambda L: L.zeros(2, 3).masked_fill(L.zeros(2, 4, dtype=L.bool), 1.0), RuntimeError,
     r"\(4\).*\(3\).*dimension 1"),
    # matmul family
    ("matmul_2d", lambda L: L.ones(2, 3) @ L.ones(4, 5), RuntimeError,
     r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
    ("mm", lambda L: L.mm(L.ones(2, 3), L.ones(4, 5)), RuntimeError, r"\(2x3 and 4x5\)"),
    ("mm_not_matrix", lambda L: L.mm(L.ones(3), L.ones(3, 5)), RuntimeError,
     r"self must be a matrix"),
    ("matmul_1d", lambda L: L.matmul(L.ones(3), L.ones(4)), RuntimeError,
     r"\[3\].*\[4\].*3 and 4 elements"),
    ("dot", lambda L: L.ones(3).dot(L.ones(4)), RuntimeError, r"\[3\].*\[4\]"),
    ("bmm", lambda L: L.bmm(L.ones(2, 2, 3), L.ones(3, 3, 2)), RuntimeError,
     r"batch2 tensor to be: \[2, 3\] but got: \[3, 3\]"),
    ("matmul_batch", lambda L: L.ones(2, 3, 4) @ L.ones(2, 5, 6), RuntimeError,
     r"\b4\b.*\b5\b"),
    ("matmul_dtypes", lambda L: L.ones(2, 3) @ L.ones(3, 2, dtype=L.float64), RuntimeError,
     r"(?i)float.*double|float32.*float64"),
    # reshape / view
    ("reshape_size", lambda L: L.ones(6).reshape(4, 2), RuntimeError,
     r"shape '\[4, 2\]' is invalid for input of size 6"),
    ("view_size", lambda L: L.ones(6).view(4, -1), RuntimeError,
     r"shape '\[4, -1\]' is invalid for input of size 6"),
    ("view_two_inferred", lambda L: L.ones(6).view(-1, -1), RuntimeError,
     r"only one dimension can be inferred"),
    ("view_noncontig", lambda L: L.ones(3, 4).t().view(12), RuntimeError,
     r"view size is not compatible with input tensor's size and stride.*\.reshape"),
    ("reshape_negative", lambda L: L.ones(6).reshape(-2, 3), RuntimeError,
     r"invalid shape dimension -2"),
    ("unflatten", lambda L: L.ones(2, 3).unflatten(1, (2, 2)), RuntimeError,
     r"\[2, 2\].*dim 1 \(3\)"),
    ("split_sizes", lambda L: L.ones(2, 3).split([1, 1], dim=1), RuntimeError,
     r"sum exactly to 3.*dimension 1.*\[1, 1\]"),
    ("chunk_zero", lambda L: L.ones(2, 3).chunk(0), RuntimeError, r"greater than 0, got: 0"),
    ("repeat_too_few", lambda L: L.ones(2, 3).repeat(2), RuntimeError,
     r"can not be smaller than number of dimensions"),
    ("negative_size", lambda L: L.zeros(-1), RuntimeError, r"-1|non-negative"),
    # dims out of range
    ("sum_dim", lambda L: L.ones(2, 3).sum(2), IndexError,
     r"^Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    ("sum_neg_dim", lambda L: L.ones(2, 3).sum(-3), IndexError, r"\[-2, 1\], but got -3"),
    ("size_dim", lambda L: L.ones(2, 3).size(2), IndexError, r"\[-2, 1\], but got 2"),
    ("stride_dim", lambda L: L.ones(2, 3).stride(-3), IndexError, r"\[-2, 1\], but got -3"),
    ("transpose_dim", lambda L: L.ones(2, 3).transpose(0, 2), IndexError, r"but got 2"),
    ("softmax_dim", lambda L: L.ones(2, 3).softmax(3), IndexError, r"but got 3"),
    ("unsqueeze_dim", lambda L: L.ones(2, 3).unsqueeze(3), IndexError,
     r"\[-3, 2\], but got 3"),
    ("squeeze_dim", lambda L: L.ones(2, 3).squeeze(5), IndexError, r"but got 5"),
    ("permute_dim", lambda L: L.ones(2, 3).permute(0, 2), IndexError, r"but got 2"),
    ("permute_dup", lambda L: L.ones(2, 3).permute(0, 0), RuntimeError, r"duplicate dims"),
    ("cat_dim", lambda L: L.cat([L.ones(2, 3)], dim=2), IndexError, r"but got 2"),
    ("argmax_dim", lambda L: L.ones(2, 3).argmax(2), IndexError, r"but got 2"),
    ("flatten_dim", lambda L: L.ones(2, 3).flatten(0, 3), IndexError, r"but got 3"),
    ("flip_dim", lambda L: L.ones(2, 3).flip(2), IndexError, r"but got 2"),
    ("movedim_dim", lambda L: L.ones(2, 3).movedim(0, 2), IndexError, r"but got 2"),
    ("std_dim", lambda L: L.ones(2, 3).std(2), IndexError, r"but got 2"),
    ("narrow_dim", lambda L: L.ones(2, 3).narrow(2, 0, 1), IndexError, r"but got 2"),
    ("narrow_length", lambda L: L.ones(2, 3).narrow(1, 2, 2), RuntimeError,
     r"start \(2\) \+ length \(2\) exceeds dimension size \(3\)"),
    ("topk_k", lambda L: L.ones(2, 3).topk(4), RuntimeError, r"selected index k out of range"),
    ("t_3d", lambda L: L.ones(2, 3, 4).t(), RuntimeError, r"<= 2 dimensions, but self is 3D"),
    ("mT_1d", lambda L: L.ones(3).mT, RuntimeError, r"Got 1-D tensor"),
    # index out of bounds
    ("getitem_int", lambda L: L.ones(3)[3], IndexError,
     r"index 3 is out of bounds for dimension 0 with size 3"),
    ("getitem_neg", lambda L: L.ones(3)[-4], IndexError,
     r"index -4 is out of bounds for dimension 0 with size 3"),
    ("getitem_dim1", lambda L: L.ones(2, 3)[0, 5], IndexError,
     r"index 5 is out of bounds for dimension 1 with size 3"),
    ("getitem_tensor", lambda L: L.ones(3)[L.tensor([3])], IndexError,
     r"index 3 is out of bounds for dimension 0 with size 3"),
    ("getitem_too_many", lambda L: L.ones(3)[0, 0], IndexError,
     r"too many indices for tensor of dimension 1"),
    ("gather_oob", lambda L: L.ones(2, 3).gather(1, L.tensor([[5]])), RuntimeError,
     r"index 5 is out of bounds for dimension 1 with size 3"),
    ("scatter_oob", lambda L: L.ones(2, 3).scatter(1, L.tensor([[3]]), 1.0), RuntimeError,
     r"index 3 is out of bounds for dimension 1 with size 3"),
    ("item_many", lambda L: L.ones(3).item(), RuntimeError,
     r"a Tensor with 3 elements cannot be converted to Scalar"),
    # dtypes
    ("int_requires_grad", lambda L: L.tensor([1, 2], requires_grad=True), RuntimeError,
     r"(?i)only Tensors of floating point.*can require gradients"),
    ("int_requires_grad_", lambda L: L.ones(2, dtype=L.int64).requires_grad_(), RuntimeError,
     r"(?i)only Tensors of floating point.*can require gradients"),
    ("gather_float_index", lambda L: L.ones(2, 3).gather(1, L.tensor([[0.0]])), RuntimeError,
     r"gather\(\): Expected dtype int32/int64 for index"),
    ("index_select_float", lambda L: L.ones(2, 3).index_select(0, L.tensor([0.0])),
     RuntimeError, r"Expected dtype int32 or int64 for index"),
    ("getitem_float_index", lambda L: L.ones(3)[L.tensor([0.5])], IndexError,
     r"tensors used as indices must be long, int, byte or bool tensors"),
    ("where_float_cond", lambda L: L.where(L.ones(3), L.ones(3), L.zeros(3)), RuntimeError,
     r"where expected condition to be a boolean tensor.*(?i:float)"),
    ("where_int_cond", lambda L: L.where(L.tensor([1, 0]), L.ones(2), L.zeros(2)),
     RuntimeError, r"boolean tensor.*(?i:int64|long)"),
    ("masked_fill_float_mask", lambda L: L.ones(2, 3).masked_fill(L.ones(2, 3), 1.0),
     RuntimeError, r"boolean masks, but got mask with dtype float"),
    ("mean_int", lambda L: L.ones(2, dtype=L.int64).mean(), RuntimeError,
     r"could not infer output dtype.*Long"),
    ("bool_sub", lambda L: L.ones(3, dtype=L.bool) - L.ones(3, dtype=L.bool), RuntimeError,
     r"two bool tensors is not supported"),
    ("bool_neg", lambda L: -L.ones(3, dtype=L.bool), RuntimeError,
     r"on a bool tensor is not supported"),
    ("bitwise_float", lambda L: L.ones(3).bitwise_and(L.ones(3)), NotImplementedError,
     r"'Float'"),
    ("set_data_int", _set_data_int, RuntimeError, r"floating point"),
    ("grad_wrong_shape", _grad_wrong_shape, RuntimeError, r"\(3,\).*\(2,\)|\[3\].*\[2\]"),
    # cat / stack / expand
    ("cat_sizes", lambda L: L.cat([L.ones(2, 3), L.ones(2, 4)]), RuntimeError,
     r"Sizes of tensors must match except in dimension 0\. Expected size 3 but got size 4 "
     r"for tensor number 1"),
    ("cat_ndim", lambda L: L.cat([L.ones(2, 3), L.ones(3)]), RuntimeError,
     r"same number of dimensions: got 2 and 1"),
    ("cat_empty", lambda L: L.cat([]), ValueError, r"non-empty list of Tensors"),
    ("stack_sizes", lambda L: L.stack([L.ones(2, 3), L.ones(2, 4)]), RuntimeError,
     r"\[2, 3\] at entry 0 and \[2, 4\] at entry 1"),
    ("expand_size", lambda L: L.ones(2, 3).expand(2, 4), RuntimeError,
     r"expanded size of the tensor \(4\) must match the existing size \(3\) at non-singleton "
     r"dimension 1\.  Target sizes: \[2, 4\]\.  Tensor sizes: \[2, 3\]"),
    ("expand_fewer", lambda L: L.ones(2, 3).expand(3), RuntimeError,
     r"number of sizes provided \(1\) must be greater or equal to the number of dimensions "
     r"in the tensor \(2\)"),
    ("expand_as", lambda L: L.ones(2, 3).expand_as(L.ones(4, 3)), RuntimeError,
     r"\(4\).*\(2\).*dimension 0"),
    # autograd
    ("inplace_leaf", lambda L: L.ones(2, requires_grad=True).add_(1), RuntimeError,
     r"a leaf Variable that requires grad is being used in an in-place operation"),
    ("inplace_leaf_zero", lambda L: L.ones(2, requires_grad=True).zero_(), RuntimeError,
     r"a leaf Variable that requires grad is being used in an in-place operation"),
    ("backward_twice", _backward_twice, RuntimeError,
     r"Trying to backward through the graph a second time"),
    ("backward_non_scalar", lambda L: (L.ones(2, requires_grad=True) * 2).backward(),
     RuntimeError, r"grad can be implicitly created only for scalar outputs"),
    ("backward_no_grad", lambda L: L.ones(2).sum().backward(), RuntimeError,
     r"element 0 of tensors does not require grad and does not have a grad_fn"),
    ("grad_unused", _grad_unused, RuntimeError, r"not have been used in the graph.*allow_unused"),
    ("inplace_saved", _inplace_in_graph, RuntimeError,
     r"modified by an inplace operation"),
    ("numpy_requires_grad", lambda L: L.ones(2, requires_grad=True).numpy(), RuntimeError,
     r"Can't call numpy\(\) on Tensor that requires grad"),
    ("requires_grad_off_nonleaf",
     lambda L: (L.ones(1, requires_grad=True) * 2).requires_grad_(False), RuntimeError,
     r"only change requires_grad flags of leaf variables"),
    # Python conversions
    ("bool_many", lambda L: bool(L.ones(2)), RuntimeError,
     r"^Boolean value of Tensor with more than one value is ambiguous$"),
    ("bool_empty", lambda L: bool(L.ones(0)), RuntimeError,
     r"^Boolean value of Tensor with no values is ambiguous$"),
    ("float_many", lambda L: float(L.ones(2)), ValueError,
     r"only one element tensors can be converted to Python scalars"),
    ("int_many", lambda L: int(L.ones(2, 2)), ValueError,
     r"only one element tensors can be converted to Python scalars"),
    ("index_float", lambda L: [1, 2][L.tensor(1.0)], TypeError,
     r"only integer tensors of a single element can be converted to an index"),
    ("len_0d", lambda L: len(L.tensor(1.0)), TypeError, r"len\(\) of a 0-d tensor"),
    ("iter_0d", lambda L: iter(L.tensor(1.0)), TypeError, r"iteration over a 0-d tensor"),
    ("format_nd", lambda L: f"{L.ones(2):.2f}", TypeError, r"unsupported format string"),
]

# genesis differs from torch here; strict, so a fix shows up as XPASS to be promoted
CASES += [
    ("index_select_oob", lambda L: L.ones(2, 3).index_select(0, L.tensor([2])), IndexError,
     r"index.*out of range"),
    ("inplace_view_of_leaf", lambda L: L.ones(2, requires_grad=True)[0].fill_(1),
     RuntimeError, r"a view of a leaf Variable that requires grad is being used in an "
                   r"in-place operation"),
    ("select_oob", lambda L: L.ones(2, 3).select(0, 2), IndexError, r"index 2.*size"),
    ("inplace_on_expanded", lambda L: L.ones(3).expand(2, 3).add_(1), RuntimeError,
     r"more than one element of the written-to tensor refers to a single memory location"),
]


def _params():
    for case in CASES:
        yield pytest.param(*case[1:], id=case[0])


@pytest.mark.parametrize("call,exc,pattern", list(_params()))
def test_error(call, exc, pattern):
    with pytest.raises(exc) as info:
        call(genesis)
    assert re.search(pattern, str(info.value)), \
        f"message {str(info.value)!r} does not match {pattern!r}"


@pytest.mark.parametrize("call,exc,pattern",
                         [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_torch_raises_the_same(call, exc, pattern):
    """torch raises the exception type the table expects (skipped without torch)."""
    if torch is None:
        pytest.skip("PyTorch is not installed")
    with pytest.raises(exc):
        call(torch)


def test_broadcast_message_is_torchs():
    """The broadcasting message starts with torch's text word for word."""
    if torch is None:
        pytest.skip("PyTorch is not installed")
    for shapes in [((3,), (4,)), ((2, 3), (2, 4)), ((5, 1, 3), (4, 2, 3)), ((3,), (2, 4))]:
        msgs = []
        for L in (genesis, torch):
            with pytest.raises(RuntimeError) as info:
                L.ones(*shapes[0]) + L.ones(*shapes[1])
            msgs.append(str(info.value))
        assert msgs[0].startswith(msgs[1]), msgs
