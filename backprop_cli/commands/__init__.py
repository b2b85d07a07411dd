"""Commands defined outside cli.py, one module each; cli.py registers them."""
