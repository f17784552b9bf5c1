"""Recurrent layers as torch.nn's: RNN (tanh/relu), LSTM (with proj_size), GRU and their
cells. Same constructor arguments, parameter names, shapes and registration order (so
state_dict keys match PyTorch's), the same init, gate order and errors.

The layers are composed from genesis ops (linear, sigmoid, tanh, chunk, stack, cat), so
autograd, double backward and every backend come for free. The input projection of a
layer is computed for all time steps at once (one big matmul); only the hidden-to-hidden
product runs per step. PackedSequence inputs are not supported."""
import math
import numbers
import warnings

from ..module import Module
from ..parameter import Parameter
from .. import init
from ... import creation
from ...ops.linear import linear
from ...ops.activation import relu, sigmoid, tanh
from ...ops.dropout import dropout as _dropout
from ...ops.shape import cat, stack

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell",
           "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


# One time step of each cell. ``xp`` is the input projection x @ W_ih.T + b_ih for this
# step (the layers precompute it for all steps); ``b_hh`` may be None when the caller
# has already folded it into ``xp`` (RNN and LSTM, where it only adds).

def _rnn_step(xp, h, w_hh, b_hh, act):
    return act(xp + linear(h, w_hh, b_hh))


def _lstm_step(xp, h, c, w_hh, b_hh, w_hr=None):
    i, f, g, o = (xp + linear(h, w_hh, b_hh)).chunk(4, 1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    h = sigmoid(o) * tanh(c)
    return (h if w_hr is None else linear(h, w_hr)), c


def _gru_step(xp, h, w_hh, b_hh):
    # b_hn stays inside r * (W_hn h + b_hn), so b_hh cannot be folded into xp here
    xr, xz, xn = xp.chunk(3, 1)
    hr, hz, hn = linear(h, w_hh, b_hh).chunk(3, 1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = tanh(xn + r * hn)
    return n + z * (h - n)          # (1 - z) * n + z * h


class RNNBase(Module):
    """Base class of RNN, LSTM and GRU: builds the per-layer, per-direction parameters
    ``weight_ih_l{k}[_reverse]``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``
    and, for LSTM with ``proj_size > 0``, ``weight_hr_l{k}``. PackedSequence inputs are
    not supported."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or \
                not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, "
                          "so non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                                  ("input_size", input_size, int),
                                  ("hidden_size", hidden_size, int)):
            if not isinstance(value, kind):
                raise TypeError(f"{name} should be of type {kind.__name__}, got: "
                                f"{type(value).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size

        ndir = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        kw = {"device": device, "dtype": dtype}
        self._flat_weights_names, self._all_weights = [], []
        # per (layer, direction): names of (w_ih, w_hh, b_ih, b_hh, w_hr), None if absent
        self._cell_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * ndir
            for direction in range(ndir):
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = {"weight_ih": (gate_size, layer_input),
                          "weight_hh": (gate_size, real_hidden)}
                if bias:
                    shapes["bias_ih"] = shapes["bias_hh"] = (gate_size,)
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for base, shape in shapes.items():   # torch's registration order
                    setattr(self, base + sfx, Parameter(creation.empty(*shape, **kw)))
                    names.append(base + sfx)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
                self._cell_names.append(tuple(base + sfx if base in shapes else None
                                              for base in ("weight_ih", "weight_hh",
                                                           "bias_ih", "bias_hh",
                                                           "weight_hr")))
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """A no-op: there is no cuDNN weight buffer to compact."""

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # --- checks, as torch's -------------------------------------------------------------

    def _prepare(self, input, hx, name):
        """Validate ``input`` and ``hx`` (a tensor or a tuple of them, or None); return
        the time-major batched input, hx as a tuple of 3-D tensors (or None), and whether
        the input was batched."""
        if input.dim() not in (2, 3):
            tail = " tensor instead" if name == "RNN" else " instead"
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D"
                             + tail)
        batched = input.dim() == 3
        if not batched:       # one sequence: a batch of one, time-major whatever batch_first
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if hx is not None:
            hs = tuple(hx) if isinstance(hx, (tuple, list)) else (hx,)
            want = 3 if batched else 2
            if any(h.dim() != want for h in hs):
                kind = "batched 3-D" if batched else "unbatched 2-D"
                if len(hs) == 1:
                    raise RuntimeError(f"For {kind} input, hx should also be {want}-D but "
                                       f"got {hs[0].dim()}-D tensor")
                raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D "
                                   f"but got ({hs[0].dim()}-D, {hs[1].dim()}-D) tensors")
            hx = hs if batched else tuple(h.unsqueeze(1) for h in hs)
        w = getattr(self, self._flat_weights_names[0])
        if input.dtype != w.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({w.dtype}). Convert input: input.to({w.dtype}), or convert "
                             f"model: model.to({input.dtype})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError("input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        return input, hx, batched

    def _check_hidden(self, h, x, size, which=""):
        expected = (self.num_layers * (2 if self.bidirectional else 1), x.shape[1], size)
        if tuple(h.shape) != expected:
            raise RuntimeError(f"Expected hidden{which} size {expected}, got {list(h.shape)}")

    def _zeros(self, x, size):
        n = self.num_layers * (2 if self.bidirectional else 1)
        return creation.zeros(n, x.shape[1], size, dtype=x.dtype, device=x.device)

    # --- the recurrence -----------------------------------------------------------------

    def _run(self, x, states):
        """Run all layers over time-major ``x`` (T, B, I) from initial ``states`` (a list
        of (L * D, B, *) tensors: [h] or [h, c]); return the output (T, B, D * H_out)
        and the final states stacked the same way."""
        mode, ndir = self.mode, 2 if self.bidirectional else 1
        act = relu if mode == "RNN_RELU" else tanh
        init_states = [s.unbind(0) for s in states]
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = _dropout(x, self.dropout, True)
            outs = []
            for direction in range(ndir):
                k = layer * ndir + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = (None if n is None else getattr(self, n)
                                                for n in self._cell_names[k])
                xp = linear(x, w_ih, b_ih)       # all time steps in one matmul
                if b_hh is not None and mode != "GRU":
                    xp, b_hh = xp + b_hh, None
                steps = xp.unbind(0)
                if direction:
                    steps = steps[::-1]
                st = [s[k] for s in init_states]
                ys = []
                if mode == "LSTM":
                    h, c = st
                    for xt in steps:
                        h, c = _lstm_step(xt, h, c, w_hh, b_hh, w_hr)
                        ys.append(h)
                    st = [h, c]
                else:
                    h = st[0]
                    for xt in steps:
                        h = _gru_step(xt, h, w_hh, b_hh) if mode == "GRU" else \
                            _rnn_step(xt, h, w_hh, b_hh, act)
                        ys.append(h)
                    st = [h]
                if direction:
                    ys.reverse()
                outs.append(stack(ys, 0))
                for f, s in zip(finals, st):
                    f.append(s)
            x = outs[0] if ndir == 1 else cat(outs, 2)
        return x, [stack(f, 0) for f in finals]

    def _output(self, out, batched):
        if not batched:
            return out.squeeze(1)
        return out.transpose(0, 1) if self.batch_first else out


class _SimpleRNNBase(RNNBase):
    """RNN and GRU: one hidden state."""

    def forward(self, input, hx=None):
        name = "RNN" if self.mode.startswith("RNN") else "GRU"
        x, hx, batched = self._prepare(input, hx, name)
        size = self.hidden_size
        if hx is None:
            h0 = self._zeros(x, size)
        else:
            h0 = hx[0]
            self._check_hidden(h0, x, size)
        out, (hn,) = self._run(x, [h0])
        return self._output(out, batched), (hn if batched else hn.squeeze(1))


class RNN(_SimpleRNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.
    Arguments as torch's: (input_size, hidden_size, num_layers=1, nonlinearity='tanh',
    bias=True, batch_first=False, dropout=0.0, bidirectional=False, device=None,
    dtype=None). PackedSequence inputs are not supported."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity, args = args[3], args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args,
                         **kwargs)


class GRU(_SimpleRNNBase):
    """Gated recurrent unit, gates in torch's order r, z, n:
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
    PackedSequence inputs are not supported."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, gates in torch's order i, f, g, o; with ``proj_size > 0``
    the hidden state is projected by ``weight_hr_l{k}`` to proj_size. Returns
    (output, (h_n, c_n)). PackedSequence inputs are not supported."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        x, hx, batched = self._prepare(input, hx, "LSTM")
        hsize = self.proj_size or self.hidden_size
        if hx is None:
            h0, c0 = self._zeros(x, hsize), self._zeros(x, self.hidden_size)
        else:
            h0, c0 = hx
            self._check_hidden(h0, x, hsize, "[0]")
            self._check_hidden(c0, x, self.hidden_size, "[1]")
        out, (hn, cn) = self._run(x, [h0, c0])
        if not batched:
            hn, cn = hn.squeeze(1), cn.squeeze(1)
        return self._output(out, batched), (hn, cn)


# --- cells --------------------------------------------------------------------------------

class RNNCellBase(Module):
    """Parameters of a single-step cell: weight_ih (num_chunks * hidden, input),
    weight_hh (num_chunks * hidden, hidden), bias_ih and bias_hh."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        kw = {"device": device, "dtype": dtype}
        g = num_chunks * hidden_size
        self.weight_ih = Parameter(creation.empty(g, input_size, **kw))
        self.weight_hh = Parameter(creation.empty(g, hidden_size, **kw))
        if bias:
            self.bias_ih = Parameter(creation.empty(g, **kw))
            self.bias_hh = Parameter(creation.empty(g, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, name, input, hx, what=("hidden",)):
        """Check dims and sizes as torch's cells do; return the batched input, the
        batched hidden states (None when hx is None) and whether input was batched."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        for h, w in zip(hx or (), what):
            if h.dim() not in (1, 2):
                raise ValueError(f"{name}: Expected {w} to be 1D or 2D, got {h.dim()}D "
                                 "instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                               f"expected {self.input_size}")
        if hx is None:
            return input, None, batched
        hs = []
        for i, h in enumerate(hx):
            if not batched:
                h = h.unsqueeze(0)
            if h.dim() != 2:
                raise RuntimeError(f"Expected hidden{i} to be 2D for a {input.dim()}D input, "
                                   f"got {h.dim()}D")
            if h.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match "
                                   f"hidden{i} batch size {h.shape[0]}")
            if h.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got "
                                   f"{h.shape[1]}, expected {self.hidden_size}")
            hs.append(h)
        return input, hs, batched

    def _zeros(self, x):
        return creation.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)


class RNNCell(RNNCellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act 'tanh' or 'relu'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, hs, batched = self._prepare("RNNCell", input, None if hx is None else (hx,))
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        h = self._zeros(x) if hs is None else hs[0]
        act = tanh if self.nonlinearity == "tanh" else relu
        out = _rnn_step(linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh,
                        self.bias_hh, act)
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; returns (h', c'). Gates in torch's order i, f, g, o."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        x, hs, batched = self._prepare("LSTMCell", input, hx, ("hx[0]", "hx[1]"))
        h, c = (self._zeros(x),) * 2 if hs is None else hs
        h, c = _lstm_step(linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh,
                          self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step, gates in torch's order r, z, n."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        x, hs, batched = self._prepare("GRUCell", input, None if hx is None else (hx,))
        h = self._zeros(x) if hs is None else hs[0]
        out = _gru_step(linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh,
                        self.bias_hh)
        return out if batched else out.squeeze(0)
