"""What to show or list: the one filter behind ``--step``, ``--layer``, ``--phase``, ``--sample`` and ``--only``.

The trace, ``names``, ``answers``, ``check`` and the JSON document choose with the same filter, so a
name listed is a name shown. Empty means everything; steps and samples are 1-based (a sample is a
data row); patterns are globs over names.
"""

from __future__ import annotations

import fnmatch

from backprop_cli.model.quantity import Placed
from backprop_cli.model.record import record


@record
class Filter:
    """What ``--step``, ``--layer``, ``--phase``, ``--sample`` and name patterns keep (empty: everything)."""

    steps: frozenset[int] = frozenset()
    layers: frozenset[str] = frozenset()
    phases: frozenset[str] = frozenset()
    samples: frozenset[int] = frozenset()
    patterns: tuple[str, ...] = ()

    def wants_step(self, step: int) -> bool:
        return not self.steps or step in self.steps

    def wants(self, placed: Placed) -> bool:
        """A block, section or quantity at its place: its step, phase, layer and sample. A place of no
        layer (an input, the loss) stays under ``--layer``, but the parameters' table does not."""
        if not self.wants_step(placed.step):
            return False
        if self.phases and placed.phase not in self.phases:
            return False
        if self.layers and placed.layer is not None and placed.layer not in self.layers:
            return False
        if self.layers and placed.layer is None and placed.phase in ("parameters",):
            return False
        return not (self.samples and placed.sample is not None and placed.sample + 1 not in self.samples)

    def wants_name(self, name: str) -> bool:
        return not self.patterns or any(fnmatch.fnmatchcase(name, pattern) for pattern in self.patterns)

    def wants_quantity(self, placed: Placed, name: str) -> bool:
        """Both choices for one quantity, as if laid out again (``check``'s filters on a key)."""
        return self.wants(placed) and self.wants_name(name)

    # the names the listings have used for the same questions
    wants_section = wants
