"""Placeholder until the compile/explain/eval/transform commands land."""
COMMANDS = []
