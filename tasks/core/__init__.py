"""Machinery with no domain knowledge: runner, tools, config, state, console."""
