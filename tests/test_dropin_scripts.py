"""The drop-in promise: an ordinary PyTorch training script, run with ``torch`` pointing at
genesis, runs unchanged and gives PyTorch's numbers.

Each script in tests/dropin/ is plain PyTorch (``import torch``, ``torch.nn``, ...). It
exposes ``build_model()`` and ``main(model=None, workdir=None)``, which trains and returns
a dict of per-step losses and other numbers. The test imports the script twice, once with
the real torch and once with every ``torch*`` entry of ``sys.modules`` pointed at the
genesis module of the same name; the torch model's initial state_dict is copied into the
genesis model (the two generators differ by design), both train on the same NumPy data,
and the losses, the other numbers and the final state_dict must agree to round-off (the
model's repr too).
"""
import contextlib
import importlib.util
import math
import pathlib
import sys

import numpy as np
import pytest

import genesis
from oracle import needs_torch, torch

DROPIN = pathlib.Path(__file__).parent / "dropin"
SCRIPTS = sorted(p.stem for p in DROPIN.glob("*.py") if not p.name.startswith("_"))


def _is_torch(name):
    return name == "torch" or name.startswith("torch.")


@contextlib.contextmanager
def torch_is_genesis():
    """``import torch`` (and every ``torch.x.y``) gives genesis (``genesis.x.y``) inside;
    the real torch modules are put back on exit."""
    saved = {k: v for k, v in sys.modules.items() if _is_torch(k)}
    for k in saved:
        del sys.modules[k]
    sys.modules.update({"torch" + k[len("genesis"):]: v for k, v in list(sys.modules.items())
                        if k == "genesis" or k.startswith("genesis.")})
    try:
        yield
    finally:
        for k in [k for k in sys.modules if _is_torch(k)]:
            del sys.modules[k]
        sys.modules.update(saved)


_loads = 0


def load_script(name):
    """Import tests/dropin/<name>.py afresh (its own module object each time)."""
    global _loads
    _loads += 1
    spec = importlib.util.spec_from_file_location(f"_dropin_{name}_{_loads}",
                                                  DROPIN / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def numpy_state(model):
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def run_torch(name, workdir):
    """The script on PyTorch: (module, initial state, outputs, final state, model repr)."""
    mod = load_script(name)
    assert mod.torch is torch
    model = mod.build_model()
    init, text = numpy_state(model), repr(model)
    out = mod.main(model=model, workdir=str(workdir))
    return mod, init, out, numpy_state(out.pop("model", model)), text


def run_genesis(name, workdir, init=None):
    """The script with torch pointing at genesis, from the initial state ``init`` (NumPy
    arrays) when given: (module, outputs, final state, model repr)."""
    with torch_is_genesis():
        mod = load_script(name)
        assert mod.torch is genesis and mod.nn is genesis.nn
        model = mod.build_model()
        text = repr(model)
        if init is not None:
            model.load_state_dict({k: genesis.from_numpy(v.copy()) for k, v in init.items()})
        out = mod.main(model=model, workdir=str(workdir))
        return mod, out, numpy_state(out.pop("model", model)), text


def assert_numbers_close(g, t, rtol, atol, what):
    g, t = np.asarray(g, dtype=np.float64), np.asarray(t, dtype=np.float64)
    assert g.shape == t.shape, f"{what}: {g.shape} values, torch gives {t.shape}"
    np.testing.assert_allclose(g, t, rtol=rtol, atol=atol, err_msg=what)


@needs_torch
@pytest.mark.parametrize("name", SCRIPTS)
def test_script_matches_torch(name, tmp_path):
    tmod, init, t_out, t_state, t_repr = run_torch(name, tmp_path / "torch")
    _, g_out, g_state, g_repr = run_genesis(name, tmp_path / "genesis", init)
    assert g_repr == t_repr
    rtol = getattr(tmod, "RTOL", 1e-4)
    atol = getattr(tmod, "ATOL", 1e-6)
    assert sorted(g_out) == sorted(t_out)
    for key in t_out:
        assert_numbers_close(g_out[key], t_out[key], rtol, atol, f"{name}: {key}")
    q = len(t_out["losses"]) // 4
    assert q >= 2 and np.mean(t_out["losses"][-q:]) < np.mean(t_out["losses"][:q]), \
        f"{name} does not train: its losses must fall"
    assert list(g_state) == list(t_state)
    prtol = getattr(tmod, "PARAM_RTOL", 10 * rtol)
    patol = getattr(tmod, "PARAM_ATOL", 10 * atol)
    for k, tv in t_state.items():
        gv = g_state[k]
        if k in getattr(tmod, "ROUNDOFF_ONLY", {}):
            gv, tv = gv.copy(), tv.copy()
            gv[tmod.ROUNDOFF_ONLY[k]] = tv[tmod.ROUNDOFF_ONLY[k]] = 0
        assert gv.dtype == tv.dtype, f"{name}: {k} is {gv.dtype}, torch {tv.dtype}"
        np.testing.assert_allclose(gv, tv, rtol=prtol, atol=patol, err_msg=f"{name}: {k}")


@pytest.mark.parametrize("name", ["mlp_classifier", "checkpoint_resume", "regression_float64"])
def test_script_runs_on_genesis_alone(name, tmp_path):
    """Without torch at all (genesis's own initial weights), the scripts train."""
    _, out, _, _ = run_genesis(name, tmp_path)
    losses, q = out["losses"], len(out["losses"]) // 4
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-q:]) < np.mean(losses[:q])


def test_torch_is_genesis_restores_sys_modules():
    before = {k: v for k, v in sys.modules.items() if _is_torch(k)}
    with torch_is_genesis():
        import torch as t
        import torch.nn.functional as F
        from torch.utils.data import DataLoader
        assert t is genesis and F is genesis.nn.functional
        assert DataLoader is genesis.utils.data.DataLoader
    assert {k: v for k, v in sys.modules.items() if _is_torch(k)} == before


# ---------------------------------------------------------------- regressions found here
def test_multisteplr_state_dict_saves_and_resumes(tmp_path):
    """MultiStepLR keeps its milestones in a Counter: genesis.save refused it."""
    from collections import Counter
    p = genesis.nn.Parameter(genesis.ones(1))
    opt = genesis.optim.SGD([p], lr=1.0)
    sched = genesis.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 2, 4], gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    genesis.save({"sched": sched.state_dict(), "c": Counter("abca")}, tmp_path / "ck.pt")
    ck = genesis.load(tmp_path / "ck.pt", weights_only=True)
    assert type(ck["c"]) is Counter and ck["c"] == Counter("abca")
    assert type(ck["sched"]["milestones"]) is Counter
    opt2 = genesis.optim.SGD([genesis.nn.Parameter(genesis.ones(1))], lr=1.0)
    sched2 = genesis.optim.lr_scheduler.MultiStepLR(opt2, milestones=[9])
    sched2.load_state_dict(ck["sched"])
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    for _ in range(3):
        sched.step()
        sched2.step()
        assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert opt.param_groups[0]["lr"] == 0.125
