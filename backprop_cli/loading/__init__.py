"""Loading: text to spec (safe YAML/JSON, config models, schema, data files, built-in examples)."""
