"""Built-in check families; each module registers itself with :mod:`tasks.validate.registry`."""
