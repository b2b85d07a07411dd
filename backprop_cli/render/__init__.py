"""Renderers: pure layout of trace records. One module per format, one number formatter."""
