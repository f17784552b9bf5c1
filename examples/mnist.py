"""Train a classifier on MNIST with Genesis — the classic PyTorch script, imports switched.

Data, in order of preference:
  1. the MNIST IDX files (``train-images-idx3-ubyte[.gz]`` ...) in ``--data-dir``;
  2. downloaded into ``--data-dir`` with MD5 verification, when the network allows;
  3. offline: scikit-learn's bundled handwritten digits (1,797 8x8 scans from UCI), scaled
     3x and padded to MNIST's 28x28 layout (1,497 train / 300 test images).
The script says which one it used.

    python examples/mnist.py                         # MLP, Adam, warmup-cosine per batch
    python examples/mnist.py --model cnn --optimizer sgd --scheduler step
    python examples/mnist.py --epochs 4 --resume     # continue from the checkpoint
"""
import argparse
import gzip
import hashlib
import os
import struct
import time
import urllib.request

import numpy as np

import genesis
import genesis.nn as nn
import genesis.nn.functional as F
import genesis.optim as optim
from genesis.utils.data import DataLoader, TensorDataset

MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
FILES = {  # name: md5 of the .gz file (the checksums torchvision uses)
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
}


# ---- data ----------------------------------------------------------------------------------
def read_idx(path):
    """An IDX file (optionally gzipped) as a NumPy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def find_idx(data_dir, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(data_dir, candidate)
        if os.path.exists(path):
            return path
    return None


def download(data_dir, timeout=10):
    os.makedirs(data_dir, exist_ok=True)
    for name, md5 in FILES.items():
        path = os.path.join(data_dir, name + ".gz")
        if os.path.exists(path):
            continue
        with urllib.request.urlopen(MIRROR + name + ".gz", timeout=timeout) as r:
            blob = r.read()
        if hashlib.md5(blob).hexdigest() != md5:
            raise OSError(f"{name}.gz: checksum mismatch, refusing the download")
        with open(path + ".part", "wb") as f:
            f.write(blob)
        os.replace(path + ".part", path)


def load_mnist(data_dir):
    paths = [find_idx(data_dir, n) for n in FILES]
    if None in paths:
        return None
    xtr, ytr, xte, yte = (read_idx(p) for p in paths)
    return xtr, ytr, xte, yte


def load_digits_as_mnist(seed=0):
    """scikit-learn's 8x8 digits, upscaled 3x (24x24) and padded to 28x28 like MNIST's
    centred 20x20 digits; pixel values mapped from 0..16 to 0..255."""
    from sklearn.datasets import load_digits
    d = load_digits()
    imgs = np.kron(d.images, np.ones((3, 3)))                  # (n, 24, 24)
    imgs = np.pad(imgs, ((0, 0), (2, 2), (2, 2)))
    imgs = (imgs * (255.0 / 16.0)).round().astype(np.uint8)
    order = np.random.default_rng(seed).permutation(len(imgs))
    imgs, labels = imgs[order], d.target[order].astype(np.uint8)
    return imgs[300:], labels[300:], imgs[:300], labels[:300]


def get_data(args):
    data = load_mnist(args.data_dir)
    if data is not None:
        return data, f"MNIST IDX files from {args.data_dir}"
    if not args.no_download:
        try:
            download(args.data_dir)
            return load_mnist(args.data_dir), f"MNIST downloaded to {args.data_dir}"
        except OSError as e:      # offline (URLError is an OSError) or a bad download
            print(f"MNIST download unavailable ({e.__class__.__name__}: {e}); "
                  "using the offline fallback")
    return load_digits_as_mnist(), ("scikit-learn's bundled digits (8x8 scans upscaled "
                                    "to 28x28), offline fallback")


def to_tensors(x, y):
    x = (x.astype(np.float32) / 255.0 - 0.1307) / 0.3081          # MNIST's normalisation
    return genesis.tensor(x[:, None]), genesis.tensor(y.astype(np.int64))


# ---- models --------------------------------------------------------------------------------
class MLP(nn.Module):
    def __init__(self, hidden=256):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, hidden), nn.ReLU(),
                                 nn.Dropout(0.1), nn.Linear(hidden, 10))

    def forward(self, x):
        return self.net(x)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


# ---- training ------------------------------------------------------------------------------
def evaluate(model, loader, amp=None):
    model.eval()
    correct = total = 0
    loss = 0.0
    with genesis.no_grad():
        for x, y in loader:
            with amp():
                out = model(x)
            loss += F.cross_entropy(out, y, reduction="sum").item()
            correct += (out.argmax(1) == y).sum().item()
            total += len(y)
    return loss / total, correct / total


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    p.add_argument("--scheduler", choices=["cosine", "step"], default="cosine",
                   help="warmup-cosine (per batch) or StepLR (per epoch)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--limit", type=int, default=0, help="use only this many training images")
    p.add_argument("--data-dir", default="data/mnist")
    p.add_argument("--no-download", action="store_true")
    p.add_argument("--checkpoint", default="checkpoints/mnist.pth")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--stop-after", type=int, default=0,
                   help="stop after this epoch, as if interrupted (then --resume)")
    p.add_argument("--amp", action="store_true",
                   help="mixed precision: bfloat16 autocast on the CPU, float16 autocast "
                        "with a GradScaler on a GPU")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    genesis.manual_seed(args.seed)
    (xtr, ytr, xte, yte), source = get_data(args)
    if args.limit:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]
    print(f"data: {source}; {len(xtr)} train / {len(xte)} test images")
    train_set, test_set = TensorDataset(*to_tensors(xtr, ytr)), TensorDataset(*to_tensors(xte, yte))
    gen = genesis.Generator().manual_seed(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              generator=gen)
    test_loader = DataLoader(test_set, batch_size=1000)

    device = "cuda" if genesis.cuda.is_available() else "cpu"
    amp_dtype = genesis.float16 if device == "cuda" else genesis.bfloat16

    def amp():
        return genesis.autocast(device, dtype=amp_dtype, enabled=args.amp)
    # float16 needs loss scaling against underflowing gradients; bfloat16 does not
    scaler = genesis.amp.GradScaler(device, enabled=args.amp and amp_dtype == genesis.float16)
    if args.amp:
        print(f"mixed precision: {amp_dtype} autocast on {device}"
              f"{', with a GradScaler' if scaler.is_enabled() else ''}")
    model = MLP() if args.model == "mlp" else CNN()
    if args.optimizer == "adam":
        optimizer = optim.Adam(model.parameters(), lr=args.lr or 1e-3)
    else:
        optimizer = optim.SGD(model.parameters(), lr=args.lr or 0.05, momentum=0.9)
    steps_per_epoch = len(train_loader)
    if args.scheduler == "cosine":        # stepped every batch
        scheduler = optim.get_cosine_schedule_with_warmup(
            optimizer, num_warmup_steps=steps_per_epoch // 2,
            num_training_steps=args.epochs * steps_per_epoch)
    else:                                 # stepped every epoch
        scheduler = optim.StepLR(optimizer, step_size=1, gamma=0.7)
    criterion = nn.CrossEntropyLoss()
    print(model)

    start_epoch = 1
    if args.resume and os.path.exists(args.checkpoint):
        ckpt = genesis.load_checkpoint(args.checkpoint)
        model.load_state_dict(ckpt["model_state_dict"])
        optimizer.load_state_dict(ckpt["optimizer_state_dict"])
        scheduler.load_state_dict(ckpt["scheduler_state_dict"])
        scaler.load_state_dict(ckpt["scaler_state_dict"])
        genesis.set_rng_state(ckpt["rng_state"])
        gen.set_state(ckpt["loader_rng_state"])
        start_epoch = ckpt["epoch"] + 1
        print(f"resumed from {args.checkpoint} after epoch {ckpt['epoch']} "
              f"(loss {ckpt['loss']:.4f})")

    test_acc = None
    for epoch in range(start_epoch, args.epochs + 1):
        model.train()
        t0, seen, running = time.perf_counter(), 0, 0.0
        for i, (x, y) in enumerate(train_loader):
            optimizer.zero_grad()
            with amp():
                loss = criterion(model(x), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            if args.scheduler == "cosine":
                scheduler.step()
            running += loss.item() * len(y)
            seen += len(y)
            if i % 100 == 0 or i == steps_per_epoch - 1:
                print(f"epoch {epoch} [{seen:>6}/{len(train_set)}] loss={loss.item():.4f} "
                      f"lr={scheduler.get_last_lr():.6f}", flush=True)
        if args.scheduler == "step":
            scheduler.step()
        test_loss, test_acc = evaluate(model, test_loader, amp)
        print(f"epoch {epoch}: train loss {running / seen:.4f}, test loss {test_loss:.4f}, "
              f"test accuracy {100 * test_acc:.2f}% ({time.perf_counter() - t0:.2f} s)")
        os.makedirs(os.path.dirname(args.checkpoint) or ".", exist_ok=True)
        genesis.save_checkpoint({
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "scheduler_state_dict": scheduler.state_dict(),
            "scaler_state_dict": scaler.state_dict(),
            "rng_state": genesis.get_rng_state(),
            "loader_rng_state": gen.get_state(),
            "epoch": epoch, "loss": running / seen,
        }, args.checkpoint)
        if epoch == args.stop_after:
            print(f"stopping after epoch {epoch} (--stop-after); continue with --resume")
            break
    if test_acc is not None:
        print(f"final test accuracy: {100 * test_acc:.2f}%")
    return test_acc


if __name__ == "__main__":
    main()
