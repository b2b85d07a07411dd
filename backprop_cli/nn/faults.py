"""The numerical-fault line (exit 3) in the reader's language: one place words it, from English fields.

The fields a fault carries (``quantity``, ``layer``, ``step``, ``detail``) are English, so code that
inspects them (the loss re-locating a fault, tests) sees the same text in every language; the line
printed is made here, in the language of the command (``model.i18n``), when the fault is raised.
"""

from __future__ import annotations

import re
import string
from functools import cache

from backprop_cli.errors import NumericalFault
from backprop_cli.model.i18n import N_, _


def fault(
    *,
    step: int,
    quantity: str,
    layer: str | None = None,
    neuron: int | None = None,
    value: float | None = None,
    detail: str = "",
    what: str = N_("not finite"),
) -> NumericalFault:
    """A located NumericalFault: ``numerical fault at step N, layer L, neuron K: QUANTITY is WHAT (v); DETAIL``."""
    where = _("step {step}").format(step=step)
    if layer is not None:
        where += _(", layer {layer}").format(layer=layer)
    if neuron is not None:
        where += _(", neuron {neuron}").format(neuron=neuron)
    shown = "" if value is None else f" ({value!r})"
    tail = described(detail, DETAIL_TEMPLATES) if detail else _("lower the learning rate or rescale the inputs")
    message = _("numerical fault at {where}: {quantity} is {what}{shown}; {tail}").format(
        where=where, quantity=described(quantity), what=_(what), shown=shown, tail=tail
    )
    return NumericalFault(message, step=step, quantity=quantity, layer=layer, neuron=neuron, value=value, detail=detail)


#: quantities made of another one (``{quantity}``) or of names and numbers, as the English call sites word
#: them; :func:`described` reads the fields back out of the English text to fill the translated template
QUANTITY_TEMPLATES = (
    N_("{quantity} (evaluating all data after step {step})"),
    N_("{quantity} (evaluating all data before the first step)"),
    N_("{quantity} (evaluating the test rows of {source} after step {step})"),
    N_("{quantity} (in the loss over the batch after step {step})"),
    N_("{quantity} (in the loss over the batch before the first step)"),
    N_("{quantity} (in the loss over all data after step {step})"),
    N_("{quantity} (in the loss over all data before the first step)"),
    N_("{loss} loss term"),
    N_("the loss of data row {row} (the sum of its finite loss terms)"),
    N_("the loss of sample {sample} of the batch (the sum of its finite loss terms)"),
    N_("the change of {name} over the run (a summary statistic)"),
    N_("the updated {name}"),
    N_("{optimizer}'s {state} of {name}"),
)
#: the advice an optimizer's fault gives, as nn/engine.py words it
DETAIL_TEMPLATES = (
    N_("{optimizer} produced it; lower the learning rate"),
    N_(
        "{optimizer} produced it; lower the learning rate, and keep eps > 0 so that a zero gradient does not "
        "divide 0 by 0"
    ),
    N_(
        "{optimizer} produced it; lower the learning rate or rescale the inputs: the gradient is too large "
        "for its running averages"
    ),
)


@cache
def _template_pattern(template: str) -> re.Pattern[str]:
    out = ""
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        out += re.escape(literal)
        if name is not None:
            out += f"(?P<{name}>.+)" if name == "quantity" else f"(?P<{name}>.+?)"
    return re.compile(out)


def described(quantity: str, templates: tuple[str, ...] = QUANTITY_TEMPLATES) -> str:
    """The English ``quantity`` of a fault in the reader's language: a catalogue entry itself, or one
    of :data:`QUANTITY_TEMPLATES` with its names and numbers kept (and its ``{quantity}`` described)."""
    text = _(quantity)
    if text != quantity:
        return text
    for template in templates:
        match = _template_pattern(template).fullmatch(quantity)
        if match is not None:
            fields = match.groupdict()
            if "quantity" in fields:
                fields["quantity"] = described(fields["quantity"])
            return _(template).format(**fields)
    return quantity
