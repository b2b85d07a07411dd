def homework_examples() -> list[str]:
    """The built-in network examples a homework sheet can ask the whole of step 1 of: all but digits_cnn,
    made to be trained (its step 1, a batch of 32 images through a convolution, is about 100,000 named
    values, past the names budget a sheet is laid out within)."""
    from backprop_cli.loading.examples import example_names, example_path

    return [
        name
        for name in example_names()
        if "network:" in example_path(name).read_text(encoding="utf-8") and name != "digits_cnn"
    ]
