"""The usage the issue documents, run verbatim, and the examples' data paths."""
import gzip
import os
import struct
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
import mnist  # noqa: E402
import train_gpt  # noqa: E402


def test_documented_usage_verbatim(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    epoch, loss = 3, 0.25
    import genesis, genesis.nn as nn, genesis.optim as optim  # noqa: E401
    model = nn.Linear(10, 1)
    optimizer = optim.Adam(model.parameters(), lr=0.001)
    scheduler = optim.LambdaLR(optimizer, lr_lambda=lambda epoch: 0.95 ** (epoch // 10))
    scheduler = optim.get_cosine_schedule_with_warmup(optimizer, num_warmup_steps=1000, num_training_steps=10000)
    checkpoint = {'model_state_dict': model.state_dict(), 'optimizer_state_dict': optimizer.state_dict(),
                  'scheduler_state_dict': scheduler.state_dict(), 'epoch': epoch, 'loss': loss}
    genesis.save_checkpoint(checkpoint, 'checkpoint.pth')
    checkpoint = genesis.load_checkpoint('checkpoint.pth')
    model.load_state_dict(checkpoint['model_state_dict'])   # and optimizer, scheduler
    optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
    scheduler.load_state_dict(checkpoint['scheduler_state_dict'])
    assert checkpoint['epoch'] == 3 and checkpoint['loss'] == 0.25
    assert f"lr={scheduler.get_last_lr():.6f}" == "lr=0.000000"   # warmup starts at 0
    optimizer.step()
    scheduler.step()
    assert f"lr={scheduler.get_last_lr():.6f}" == "lr=0.000001"
    genesis.save(model.state_dict(), "weights.pt")
    sd = genesis.load("weights.pt", map_location="cpu")
    assert list(sd) == ["weight", "bias"]
    np.testing.assert_array_equal(sd["weight"].numpy(), model.weight.detach().numpy())


def _write_idx(path, arr):
    header = struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(">" + "I" * arr.ndim,
                                                                   *arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


def test_mnist_reads_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (12, 28, 28))
    labels = rng.integers(0, 10, 12)
    for name in mnist.FILES:
        _write_idx(tmp_path / (name + ".gz"), imgs if "images" in name else labels)
    xtr, ytr, xte, yte = mnist.load_mnist(str(tmp_path))
    np.testing.assert_array_equal(xtr, imgs)
    np.testing.assert_array_equal(ytr, labels)
    acc = mnist.main(["--data-dir", str(tmp_path), "--epochs", "1", "--checkpoint",
                      str(tmp_path / "c.pth")])
    assert 0.0 <= acc <= 1.0


def test_mnist_offline_fallback_learns(tmp_path):
    acc = mnist.main(["--no-download", "--data-dir", str(tmp_path / "none"), "--epochs", "2",
                      "--checkpoint", str(tmp_path / "c.pth")])
    assert acc > 0.9          # 1,497 training digits, two epochs of the MLP


def test_gpt_example_runs(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("hello genesis, hello torch. " * 40)
    val = train_gpt.main(["--text", str(text), "--steps", "30", "--block-size", "16",
                          "--d-model", "32", "--n-layer", "1", "--warmup", "5",
                          "--sample", "20", "--checkpoint", str(tmp_path / "g.pth")])
    assert val < np.log(len(set(text.read_text())))     # learned something
    assert len(train_gpt.stdlib_docstrings()) > 100_000        # the offline corpus


def test_top_level_nn_ops_match_torch():
    """`import genesis as torch`: the nn ops PyTorch has at top level are there too."""
    from oracle import check, torch
    import genesis
    x = np.random.default_rng(0).normal(size=(2, 3, 8, 8))
    w = np.random.default_rng(1).normal(size=(4, 3, 3, 3))
    for name, fn in [("conv2d", lambda m, x, w: m.conv2d(x, w, None, 1, 1)),
                     ("max_pool2d", lambda m, x, w: m.max_pool2d(x, 2)),
                     ("layer_norm", lambda m, x, w: m.layer_norm(x, (8,))),
                     ("group_norm", lambda m, x, w: m.group_norm(x, 3)),
                     ("selu", lambda m, x, w: m.selu(x))]:
        assert hasattr(genesis, name)
        check(lambda x, w: fn(genesis, x, w), x, w, fn_torch=lambda x, w: fn(torch, x, w))


def test_api_reference_is_current(tmp_path, monkeypatch):
    """docs/api-*.md are generated from the code: regenerate with `python docs/make_api.py`."""
    docs = os.path.join(os.path.dirname(__file__), "..", "docs")
    sys.path.insert(0, docs)
    import make_api
    monkeypatch.setattr(make_api, "HERE", str(tmp_path))
    make_api.main()
    for name in ("api-nn.md", "api-optim.md", "api-data.md", "api-amp.md"):
        with open(os.path.join(docs, name)) as f, open(tmp_path / name) as g:
            assert f.read() == g.read(), f"docs/{name} is stale: run python docs/make_api.py"


def test_top_level_predicates():
    import genesis
    x = genesis.ones(2, 3)
    assert genesis.is_tensor(x) and genesis.is_tensor(genesis.nn.Parameter(x))
    assert not genesis.is_tensor(np.ones(2)) and not genesis.is_tensor([1.0])
    assert genesis.is_floating_point(x) and not genesis.is_floating_point(genesis.arange(3))
    assert not genesis.is_complex(x) and genesis.numel(x) == 6 and x.get_device() == -1


def test_mnist_amp_trains_like_float32(tmp_path):
    """--amp (bfloat16 autocast on the CPU) reaches float32's accuracy on the offline data."""
    common = ["--no-download", "--data-dir", str(tmp_path / "none"), "--epochs", "2"]
    acc32 = mnist.main(common + ["--checkpoint", str(tmp_path / "a.pth")])
    acc16 = mnist.main(common + ["--amp", "--checkpoint", str(tmp_path / "b.pth")])
    assert acc16 > 0.9 and abs(acc16 - acc32) < 0.03


@pytest.mark.parametrize("use_fp16", [False, True])
def test_amp_documented_usage_verbatim(use_fp16):
    """The issue's script. Without a GPU, the CUDA autocast and scaler disable themselves
    with PyTorch's warnings and the step is a plain float32 step."""
    import warnings
    import genesis, genesis.nn as nn, genesis.optim as optim  # noqa: E401
    model, criterion = nn.Linear(4, 2), nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    data, target = genesis.randn(8, 4), genesis.tensor([0, 1] * 4)
    before = model.weight.detach().clone()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from genesis.cuda.amp import autocast, GradScaler      # also genesis.amp.autocast / GradScaler
        scaler = GradScaler(enabled=use_fp16)
        with autocast(enabled=use_fp16):
            output = model(data)
            loss = criterion(output, target)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    assert output.dtype == genesis.float32 and loss.dtype == genesis.float32
    assert not np.allclose(model.weight.detach().numpy(), before.numpy())
