"""Loss landscapes and optimizer journeys: the loss over a plane of parameter space, and runs through it.

``runs`` is the one module that calls the engine, the ops registry and the optimizers; ``grid`` and
``directions`` choose the plane and evaluate it; ``plane`` and ``compare`` put a picture's data
together for the renderers (``render/landscape_*.py``), which only lay it out.
"""
