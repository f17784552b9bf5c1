"""A convolutional autoencoder: strided Conv2d down, ConvTranspose2d and
F.interpolate up, nn.Unflatten, sigmoid output trained with binary cross-entropy, Adam
with weight decay and an ExponentialLR, reconstruction MSE under no_grad."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


def make_images(n, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:8, 0:8]
    cy, cx = rng.uniform(2, 6, (2, n, 1, 1))
    img = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 4.0)
    return img[:, None].astype(np.float32)             # (n, 1, 8, 8) in [0, 1]


class AutoEncoder(nn.Module):
    def __init__(self, latent=6):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ELU(),      # 8 -> 4
            nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ELU(),      # 4 -> 2
            nn.Flatten(), nn.Linear(8 * 2 * 2, latent))
        self.decoder = nn.Sequential(
            nn.Linear(latent, 8 * 2 * 2), nn.ELU(), nn.Unflatten(1, (8, 2, 2)),
            nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1), nn.ELU())
        self.out = nn.Conv2d(8, 1, 3, padding=1)

    def forward(self, x):
        z = self.encoder(x)
        h = self.decoder(z)                                  # (B, 8, 4, 4)
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        return torch.sigmoid(self.out(h)), z


def build_model():
    torch.manual_seed(0)
    return AutoEncoder()


def main(model=None, workdir=None):
    if model is None:
        model = build_model()
    images = torch.from_numpy(make_images(96, 0))
    loader = DataLoader(TensorDataset(images), batch_size=16)
    optimizer = optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-5)
    scheduler = optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    losses = []
    for epoch in range(3):
        model.train()
        for (batch,) in loader:
            recon, z = model(batch)
            loss = F.binary_cross_entropy(recon, batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    model.eval()
    with torch.no_grad():
        test = torch.from_numpy(make_images(32, 1))
        recon, z = model(test)
        mse = F.mse_loss(recon, test).item()
        latent_norm = z.norm(dim=1).mean().item()
    return {"losses": losses, "mse": mse, "latent_norm": latent_norm,
            "lr": scheduler.get_last_lr()}


if __name__ == "__main__":
    print(main())
