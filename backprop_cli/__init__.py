"""backprop-cli: backpropagation you can follow, number by number."""

__version__ = "0.1.0"
