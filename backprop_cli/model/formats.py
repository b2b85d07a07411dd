"""The ``format`` tag of every document the tool writes, in one place (readers name them too)."""

from __future__ import annotations

TRACE = "backprop-trace"  # backprop trace --format json (render/json_out, layout/json_document)
ANSWERS = "backprop-answers"  # answers files: keys and sheets (homework/answers)
CHECK = "backprop-check"  # backprop check --format json (homework/check)
NAMES = "backprop-names"  # backprop names --format json
TRAIN = "backprop-train"  # backprop train --format json
GRADCHECK = "backprop-gradcheck"  # backprop gradcheck --format json
LANDSCAPE = "backprop-landscape"  # backprop landscape --format json
COMPARE = "backprop-compare"  # backprop compare --format json

#: what each document is, for the message that meets one where a config was expected
WHAT = {
    ANSWERS: "an answers file (a key or a sheet)",
    TRACE: "a trace written by `backprop trace --format json`",
    CHECK: "a report written by `backprop check --format json`",
    NAMES: "a list written by `backprop names --format json`",
    TRAIN: "a run written by `backprop train --format json`",
    GRADCHECK: "a report written by `backprop gradcheck --format json`",
    LANDSCAPE: "a landscape written by `backprop landscape --format json`",
    COMPARE: "a comparison written by `backprop compare --format json`",
}
