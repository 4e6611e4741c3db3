"""Lark grammars for DTL documents and their string sub-languages (data files, loaded by dtl.syntax)."""
