"""Layout: quantities to sections of rows, headers and documents (nothing computed, nothing written)."""
