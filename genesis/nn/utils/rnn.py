"""pad_sequence: stack variable-length sequences into one padded batch (as
torch.nn.utils.rnn.pad_sequence), differentiable with respect to each sequence."""
from ...ops.resample import pad
from ...ops.shape import stack

__all__ = ["pad_sequence"]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """(max_len, B, *) — or (B, max_len, *) with ``batch_first`` — from B tensors of shape
    (len_i, *), padded with ``padding_value`` on ``padding_side``."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    trailing = tuple(sequences[0].shape[1:])
    for s in sequences:
        if tuple(s.shape[1:]) != trailing:
            raise RuntimeError(f"The size of tensor a ({trailing}) must match the size of "
                               f"tensor b ({tuple(s.shape[1:])}) at non-singleton dimension 1")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = longest - s.shape[0]
        # pad's widths run from the last dim backwards: only dim 0 gets padding
        widths = [0, 0] * len(trailing) + ([extra, 0] if padding_side == "left" else [0, extra])
        padded.append(pad(s, widths, value=padding_value) if extra else s)
    out = stack(padded, 0)
    return out if batch_first else out.transpose(0, 1)
