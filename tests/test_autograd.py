"""The autograd engine: accumulation, retain_graph/create_graph, autograd.grad, grad
modes, custom Functions, hooks, retain_grad, version counters, freed graphs."""
import numpy as np
import pytest

import genesis
from genesis.autograd import Function
from oracle import needs_torch, torch, rand, gradcheck


def leaf(values, dtype=genesis.float64):
    return genesis.tensor(values, dtype=dtype, requires_grad=True)


def test_accumulates_into_grad_across_backwards():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])


def test_leaf_grad_is_not_aliased_between_leaves():
    # Add's backward hands the same gradient to both inputs: accumulating into one
    # .grad must not change the other
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    (a * 2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 3.0])
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_user_gradient_is_not_aliased_by_grad():
    x = leaf([1.0, 2.0])
    g = genesis.tensor([1.0, 1.0], dtype=genesis.float64)
    x.backward(g)
    x.grad.add_(5)
    np.testing.assert_allclose(g.numpy(), [1.0, 1.0])


def test_same_tensor_used_twice_sums_gradients():
    x = leaf([3.0])
    y = x * x * x
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [27.0])


def test_nonscalar_backward_needs_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (x * 2).backward()


def test_gradient_shape_mismatch_names_shapes():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"Mismatch in shape.*\[3\].*\[2\]"):
        (x * 2).backward(genesis.ones(3, dtype=genesis.float64))


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        genesis.tensor([1.0]).sum().backward()


def test_second_backward_through_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x.exp()).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp()).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]))


def test_saved_tensors_are_freed_after_backward():
    x = leaf([1.0, 2.0])
    y = x.exp()
    node = y.grad_fn
    y.sum().backward()
    assert node._freed and node._saved == ()


def test_create_graph_gives_second_derivative():
    x = leaf([0.5, -1.5])
    y = (x ** 3).sum()
    (g,) = genesis.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * np.array([0.5, -1.5]) ** 2)
    (gg,) = genesis.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * np.array([0.5, -1.5]))


def test_backward_create_graph_accumulates_differentiable_grad():
    x = leaf([2.0])
    (x ** 2).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = genesis.autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [2.0])


def test_autograd_grad_leaves_dot_grad_untouched():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    gx, = genesis.autograd.grad((x * w).sum(), [x])
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    assert x.grad is None and w.grad is None


def test_autograd_grad_unused_input():
    x, z = leaf([1.0]), leaf([1.0])
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        genesis.autograd.grad((x * 2).sum(), [x, z])
    gx, gz = genesis.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None
    gx, gz = genesis.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
    np.testing.assert_allclose(gz.numpy(), [0.0])


def test_autograd_grad_wrt_nonleaf():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    gh, = genesis.autograd.grad(y, h)
    np.testing.assert_allclose(gh.numpy(), 2 * 3 * np.array([1.0, 2.0]))


def test_backward_inputs_accumulates_only_there():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0])


def test_broadcast_gradient_is_reduced_to_input_shape():
    x = leaf(rand(3, 4))
    b = leaf(rand(4, seed=1))
    c = leaf(rand(3, 1, seed=2))
    ((x + b) * c).sum().backward()
    assert b.grad.shape == (4,) and c.grad.shape == (3, 1)
    np.testing.assert_allclose(b.grad.numpy(), rand(3, 1, seed=2).sum() * np.ones(4))


def test_gradient_cast_to_input_dtype():
    x = leaf([1.0, 2.0], dtype=genesis.float32)
    y = leaf([1.0, 2.0], dtype=genesis.float64)
    (x * y).sum().backward()
    assert x.grad.dtype == genesis.float32 and y.grad.dtype == genesis.float64


@pytest.mark.parametrize("ctx", ["no_grad", "inference_mode", "set_grad_enabled"])
def test_grad_modes_as_context_managers(ctx):
    x = leaf([1.0])
    mode = {"no_grad": genesis.no_grad, "inference_mode": genesis.inference_mode,
            "set_grad_enabled": lambda: genesis.set_grad_enabled(False)}[ctx]()
    with mode:
        y = x * 2
        assert not genesis.is_grad_enabled()
    assert genesis.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_grad_modes_as_decorators_and_nesting():
    x = leaf([1.0])

    @genesis.no_grad()
    def f():
        with genesis.enable_grad():
            inner = x * 2
        return x * 2, inner

    @genesis.no_grad
    def f2():
        return x * 2

    @genesis.inference_mode()
    def f3():
        return x * 2

    @genesis.set_grad_enabled(False)
    def f4():
        return x * 2

    outer, inner = f()
    assert not outer.requires_grad and inner.requires_grad
    assert genesis.is_grad_enabled()
    for fn in (f2, f3, f4):
        assert not fn().requires_grad
        assert genesis.is_grad_enabled()


def test_set_grad_enabled_as_function_call():
    genesis.set_grad_enabled(False)
    try:
        assert not genesis.is_grad_enabled()
    finally:
        genesis.set_grad_enabled(True)
    assert genesis.is_grad_enabled()


def test_grad_mode_is_thread_local():
    import threading
    seen = []
    with genesis.no_grad():
        t = threading.Thread(target=lambda: seen.append(genesis.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x * x * ctx.scale, None


def test_custom_function_forward_backward_and_double_backward():
    x = leaf([1.0, -2.0])
    y = Cube.apply(x, 2.0)
    assert y.grad_fn is not None and "Cube" in y.grad_fn.name()
    (g,) = genesis.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 6 * np.array([1.0, 4.0]))
    (gg,) = genesis.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 12 * np.array([1.0, -2.0]))


def test_custom_function_gradcheck():
    gradcheck(lambda x: Cube.apply(x, 0.5), rand(3))


def test_custom_function_needs_input_grad_and_non_differentiable():
    seen = {}

    class Split(Function):
        @staticmethod
        def forward(ctx, x, y):
            seen["needs"] = ctx.needs_input_grad
            idx = (x > 0).to(genesis.float64)
            ctx.mark_non_differentiable(idx)
            return x * y, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            return g * 2, None

    x = leaf([1.0, -1.0])
    y = genesis.tensor([2.0, 2.0], dtype=genesis.float64)
    out, idx = Split.apply(x, y)
    assert seen["needs"] == (True, False)
    assert out.requires_grad and not idx.requires_grad
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_custom_function_wrong_gradient_count():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(leaf([1.0])).sum().backward()


def test_tensor_hooks_on_leaf_and_nonleaf():
    x = leaf([1.0, 2.0])
    seen = []
    h = x * 2
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * 2 * np.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad.numpy(), 10 * 8 * np.array([1.0, 2.0]))


def test_hook_handle_remove():
    x = leaf([1.0])
    handle = x.register_hook(lambda g: g * 100)
    handle.remove()
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0])


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        genesis.tensor([1.0]).register_hook(lambda g: g)


def test_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    assert h.retains_grad
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * 3 * np.array([1.0, 2.0]))
    y = x * 3
    (y * y).sum().backward()
    assert y.grad is None


def test_inplace_on_saved_tensor_raises_version_error():
    x = leaf([1.0, 2.0])
    y = x.exp()              # exp saves its output
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*version 1; "
                                           "expected version 0"):
        y.sum().backward()
    a = leaf([1.0, 2.0])
    b = a * 1
    c = b * b                # saves b
    b.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def test_version_counter_shared_with_views_and_detach():
    x = genesis.tensor([1.0, 2.0, 3.0, 4.0])
    v = x.reshape(2, 2)
    d = x.detach()
    before = x._version
    v.mul_(2)
    assert x._version == v._version == d._version == before + 1
    np.testing.assert_allclose(x.numpy(), [2.0, 4.0, 6.0, 8.0])


def test_inplace_on_leaf_requiring_grad_raises():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                           "in an in-place operation"):
        x.add_(1)
    with genesis.no_grad():
        x.add_(1)                       # fine outside autograd
    np.testing.assert_allclose(x.detach().numpy(), [2.0])


def test_inplace_op_recorded_in_graph():
    x = leaf([1.0, 2.0])
    y = x * 1
    y.mul_(3).exp_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp(3 * np.array([1.0, 2.0])))


def test_inplace_on_view_updates_base_history():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    v = y.reshape(4)
    v.mul_(2)
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 8 * np.array([[1.0, 2.0], [3.0, 4.0]]))


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        genesis.tensor([1, 2]).requires_grad_()
    x = leaf([1.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        y.requires_grad = False
    assert x.is_leaf and not y.is_leaf and y.detach().is_leaf


def test_numpy_of_tensor_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="Use tensor.detach\\(\\).numpy\\(\\)"):
        leaf([1.0]).numpy()


def test_grad_setter_checks_shape():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = genesis.zeros(3, dtype=genesis.float64)


def test_next_functions_and_accumulate_grad():
    x = leaf([1.0])
    y = x * 2
    (fn, nr), = [f for f in y.grad_fn.next_functions if f[0] is not None]
    assert fn.name() == "AccumulateGrad" and fn.variable is x


def test_gradcheck_detects_a_wrong_gradient():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = leaf([1.0, 2.0])
    assert genesis.autograd.gradcheck(lambda t: Wrong.apply(t), (x,),
                                      raise_exception=False) is False
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        genesis.autograd.gradcheck(lambda t: Wrong.apply(t), (x,))


@needs_torch
def test_mlp_gradients_match_torch():
    xs = rand(8, 5, seed=3).astype(np.float32)
    w1, w2 = rand(5, 7, seed=4).astype(np.float32), rand(7, 3, seed=5).astype(np.float32)
    out = {}
    for lib in (genesis, torch):
        p1 = lib.tensor(w1, requires_grad=True)
        p2 = lib.tensor(w2, requires_grad=True)
        h = (lib.tensor(xs) @ p1).relu()
        loss = ((h @ p2).tanh() ** 2).mean()
        loss.backward()
        out[lib.__name__] = (loss.item(), p1.grad.numpy(), p2.grad.numpy())
    g, t = out["genesis"], out["torch"]
    assert abs(g[0] - t[0]) < 1e-6
    np.testing.assert_allclose(g[1], t[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g[2], t[2], rtol=1e-5, atol=1e-6)


# ---- regressions from review: stale views, retain_grad, hooks, aliasing, custom Functions
VIEW_CASES = {
    "view_made_before_base_changed":
        lambda L, x: (lambda y: (lambda r: (y.mul_(3), r.sum())[1])(y[0]))(x * 1),
    "sibling_view_after_other_view_changed":
        lambda L, x: (lambda y: (lambda r, s: (r.mul_(3), s.sum())[1])(y[0], y[0]))(x * 1),
    "nested_view_after_setitem_on_base":
        lambda L, x: (lambda y: (lambda w: (y.__setitem__(0, 5), w.sum())[1])(
            y.view(6)[:4]))(x * 1),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(VIEW_CASES))
def test_views_follow_inplace_changes_of_their_base(case):
    grads = []
    for lib in (genesis, torch):
        x = lib.tensor(rand(2, 3), requires_grad=True)
        VIEW_CASES[case](lib, x).backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1])


def test_view_of_plain_buffer_sees_grad_added_to_base():
    p = leaf([1.0, 2.0, 3.0])
    buf = genesis.zeros(3, dtype=genesis.float64)
    v = buf[:2]
    buf.add_(p)
    v.sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [1.0, 1.0, 0.0])


def test_retain_grad_follows_inplace_change():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    y.retain_grad()
    y.mul_(3)
    y.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 1.0, 1.0])


def test_retained_grad_is_a_writable_copy():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    u = x.sum(1, keepdim=True)
    u.retain_grad()
    (u * 5).sum().backward()
    u.grad.add_(100)                     # not a read-only broadcast view
    x.grad.add_(1)                       # and not sharing memory with x.grad
    np.testing.assert_allclose(u.grad.numpy(), [[105.0], [105.0]])
    np.testing.assert_allclose(x.grad.numpy(), [[6.0, 6.0], [6.0, 6.0]])


def test_leaf_hook_keeping_its_argument_does_not_alias_grad():
    x = leaf([1.0, 2.0, 3.0])
    saved = []
    x.register_hook(saved.append)
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_allclose(saved[0].numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0, 4.0])


def test_create_graph_grad_does_not_alias_user_gradient():
    x = leaf([1.0, 2.0, 3.0])
    g = genesis.ones(3, dtype=genesis.float64)
    (x * 1).backward(g, create_graph=True)
    g.mul_(5)
    np.testing.assert_allclose(x.grad.detach().numpy(), [1.0, 1.0, 1.0])


def test_custom_forward_never_records_a_graph():
    w = leaf([2.0])

    class UsesCaptured(Function):
        @staticmethod
        def forward(ctx, x):
            return x * w

        @staticmethod
        def backward(ctx, g):
            return g

    out = UsesCaptured.apply(genesis.tensor([1.0], dtype=genesis.float64))
    assert not out.requires_grad


def test_mark_dirty_returns_the_input_with_new_history():
    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = leaf([1.0, 2.0])
    y = x * 1
    z = Double.apply(y)
    assert z is y and "Double" in y.grad_fn.name()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_inference_mode_false_enables_grad():
    with genesis.no_grad():
        with genesis.inference_mode(False):
            assert genesis.is_grad_enabled()
        assert not genesis.is_grad_enabled()


def test_autograd_grad_runs_only_the_part_of_the_graph_it_needs():
    x = leaf([1.0, 2.0, 3.0])
    fired = []
    x.register_hook(lambda g: fired.append(1))
    y = x * x
    z = y * 3
    g, = genesis.autograd.grad(z.sum(), y)
    np.testing.assert_allclose(g.numpy(), [3.0, 3.0, 3.0])
    assert not fired                     # x's hook is beyond y: not reached
    y.sum().backward()                   # y's own history was not run, nor freed
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_backward_inputs_skips_unrelated_branches():
    class Boom(Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("must not run")

    x, w = leaf([1.0]), leaf([2.0])
    loss = (Boom.apply(w) * x).sum()
    loss.backward(inputs=[x])
    np.testing.assert_allclose(x.grad.numpy(), [2.0])
    assert w.grad is None


def test_leaf_grad_never_aliases_a_tensor_a_custom_backward_returns():
    # the leaf must copy a gradient the Function keeps, or accumulating into .grad would
    # change ctx.g (torch's AccumulateGrad copies it, seeing a second reference)
    class KeepsGrad(genesis.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.g = genesis.ones(3)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return ctx.g

    x = genesis.zeros(3, requires_grad=True)
    y = KeepsGrad.apply(x)
    for _ in range(3):
        y.sum().backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3, 3])
    np.testing.assert_array_equal(y.grad_fn.g.numpy(), [1, 1, 1])
