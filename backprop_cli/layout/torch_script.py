"""A trace as a runnable PyTorch script (``--format torch``): the same network, data, batches and optimizer
in torch.nn / torch.optim, printing the same numbers under the same names, so that a student can replay a
trace in autograd and see the two agree.

The script prints, per step, each sample's z, a and δ = ∂L_s/∂z (autograd's gradient of the batch loss
with respect to z, times the batch size where the loss is a mean), the batch loss, every parameter's
gradient and every updated parameter. It needs only torch (float64 throughout). Its docstring and
comments are in the reader's language (model/i18n.py); the code, the names it prints and the numbers are
the same in every language.
"""

from __future__ import annotations

from backprop_cli.model.filters import Filter
from backprop_cli.model.i18n import _
from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn.engine import batches, count_steps
from backprop_cli.nn.optim import resolved_options

_ACTIVATIONS = {
    "identity": "z",
    "relu": "F.relu(z)",
    "leaky_relu": "F.leaky_relu(z, {slope!r})",
    "sigmoid": "torch.sigmoid(z)",
    "tanh": "torch.tanh(z)",
    "softmax": "F.softmax(z, dim=1)",
}
# per-sample losses from the output layer's a and z (the logit forms where the trace uses them)
_PER_SAMPLE = {
    "sse": "((a - y) ** 2).sum(1)",
    "half_sse": "0.5 * ((a - y) ** 2).sum(1)",
    "mse": "((a - y) ** 2).mean(1)",
    "mae": "(a - y).abs().mean(1)",
    "bce": "F.binary_cross_entropy_with_logits(z, y, reduction='none').mean(1)",
    "cross_entropy": "F.cross_entropy(z, y, reduction='none')",  # probabilities (one-hot) as targets
}
_SUMMED = {  # reduction sum_all: a sum over outputs too, where the per-sample loss is their mean
    "mse": "((a - y) ** 2).sum(1)",
    "mae": "(a - y).abs().sum(1)",
    "bce": "F.binary_cross_entropy_with_logits(z, y, reduction='none').sum(1)",
}


def _optimizer(spec: NetworkSpec) -> str:
    o = resolved_options(spec.optimizer.name, spec.optimizer.options)
    lr = spec.optimizer.learning_rate
    name = spec.optimizer.name
    if name in ("sgd", "momentum"):
        return (
            f"torch.optim.SGD(params, lr={lr!r}, momentum={o['momentum']!r}, dampening={o['dampening']!r}, "
            f"weight_decay={o['weight_decay']!r}, nesterov={bool(o['nesterov'])!r})"
        )
    if name in ("adam", "adamw"):
        factory = "Adam" if name == "adam" else "AdamW"
        return (
            f"torch.optim.{factory}(params, lr={lr!r}, betas=({o['beta1']!r}, {o['beta2']!r}), eps={o['eps']!r}, "
            f"weight_decay={o['weight_decay']!r}, amsgrad={bool(o['amsgrad'])!r})"
        )
    return (
        f"torch.optim.RMSprop(params, lr={lr!r}, alpha={o['alpha']!r}, eps={o['eps']!r}, "
        f"weight_decay={o['weight_decay']!r}, momentum={o['momentum']!r}, centered={bool(o['centered'])!r})"
    )


def script(spec: NetworkSpec, only: Filter) -> str:
    """The whole script: it runs every step up to the last one shown and prints the ones shown."""
    from backprop_cli.layout.matrix import dense_only

    dense = dense_only(spec, "a PyTorch script", "--format")
    last = max(only.steps, default=count_steps(spec.data.rows, spec.training))
    schedule = [list(rows) for rows in batches(spec.data.rows, spec.training)[:last]]
    shown = [step for step in range(1, last + 1) if only.wants_step(step)]
    layers = []
    for layer in dense:
        act = _ACTIVATIONS[layer.activation].format(slope=layer.negative_slope)
        frozen = sorted(layer.frozen)
        bias = layer.biases is not None
        layers.append(f"    ({layer.name!r}, {layer.fan_in}, {layer.units}, {bias!r}, lambda z: {act}, {frozen!r}),\n")
    params = ""
    for layer in dense:
        biases = None if layer.biases is None else layer.biases.tolist()
        params += f"    {layer.name!r}: ({layer.weights.tolist()!r}, {biases!r}),\n"
    per_sample = (_SUMMED if spec.loss.reduction == "sum_all" else {}).get(spec.loss.name, _PER_SAMPLE[spec.loss.name])
    reduce = "per_sample.mean()" if spec.loss.reduction == "mean" else "per_sample.sum()"
    scale = "len(rows)" if spec.loss.reduction == "mean" else "1"
    summary = _("{source}: the trace of `backprop trace` replayed in PyTorch autograd (float64).")
    prints = _(
        "Prints each number under the trace's name: per sample z, a and delta (dL_s/dz), the loss, every\n"
        "parameter's gradient (the batch's, dL_dw...), every updated parameter (....new)."
    )
    columns = _("name, fan-in, units, has a bias, activation, frozen parameters")
    rows_comment = _("each step's 0-based data rows")
    no_grad = _("a frozen tensor has none")
    return f'''"""{summary.format(source=spec.source)}

{prints}
"""

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

X = torch.tensor({spec.data.x.tolist()!r})
Y = torch.tensor({spec.data.y.tolist()!r})
# {columns}
LAYERS = [
{"".join(layers)}]
START = {{
{params}}}
BATCHES = {schedule!r}  # {rows_comment}
SHOWN = {shown!r}

linears = {{}}
params = []
for name, fan_in, units, has_bias, _, frozen in LAYERS:
    linear = torch.nn.Linear(fan_in, units, bias=has_bias)
    weights, biases = START[name]
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(weights))
        if has_bias:
            linear.bias.copy_(torch.tensor(biases))
    linear.weight.requires_grad_("weights" not in frozen)
    if has_bias:
        linear.bias.requires_grad_("biases" not in frozen)
    linears[name] = linear
    params += [p for p in linear.parameters() if p.requires_grad]
optimizer = {_optimizer(spec)}


def say(name, value):
    print(name, "=", repr(float(value)))


for step, rows in enumerate(BATCHES, start=1):
    def qualify(base, step=step):
        return f"step{{step}}/{{base}}" if len(BATCHES) > 1 else base

    def per(s, base, rows=rows):
        return qualify(f"sample{{rows[s] + 1}}/{{base}}") if len(rows) > 1 else qualify(base)

    a, y = X[rows], Y[rows]
    kept = []
    for name, _, _, _, activation, _ in LAYERS:
        z = linears[name](a)
        z.retain_grad()
        a = activation(z)
        kept.append((name, z, a))
    per_sample = {per_sample}
    loss = {reduce}
    optimizer.zero_grad()
    loss.backward()
    show = step in SHOWN
    for name, z, a_out in kept if show else ():
        for s in range(len(rows)):
            for j in range(z.shape[1]):
                say(per(s, f"{{name}}.z{{j + 1}}"), z[s, j])
                say(per(s, f"{{name}}.a{{j + 1}}"), a_out[s, j])
                say(per(s, f"{{name}}.delta{{j + 1}}"), z.grad[s, j] * {scale})
    if show:
        for s in range(len(rows)):
            say(per(s, "loss"), per_sample[s])
        say(qualify("loss"), loss)
        for name, *_ in LAYERS:
            linear = linears[name]
            if linear.weight.grad is not None:  # {no_grad}
                for j, row in enumerate(linear.weight.grad):
                    for i, g in enumerate(row):
                        say(qualify(f"{{name}}.dL_dw{{j + 1}}_{{i + 1}}"), g)
            if linear.bias is not None and linear.bias.grad is not None:
                for j, g in enumerate(linear.bias.grad):
                    say(qualify(f"{{name}}.dL_db{{j + 1}}"), g)
    optimizer.step()
    if show:
        for name, *_ in LAYERS:
            linear = linears[name]
            for j, row in enumerate(linear.weight.detach()):
                for i, value in enumerate(row):
                    say(qualify(f"{{name}}.w{{j + 1}}_{{i + 1}}.new"), value)
            if linear.bias is not None:
                for j, value in enumerate(linear.bias.detach()):
                    say(qualify(f"{{name}}.b{{j + 1}}.new"), value)
'''
