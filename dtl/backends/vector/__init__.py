"""The vector backend: compiled DTL over Arrow record batches (see compiler.py)."""
