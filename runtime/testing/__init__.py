"""The offline test runner: Sesam's client `test` workflow (upload, run, verify, update) against the
embedded hub, plus the repository helpers `init` and `convert`. See docs/test-runner.md.
"""
