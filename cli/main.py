"""The `dtl` command. Commands only parse options and call library functions.

Exit codes: 0 ok, 1 DTL compile error (or failing cases), 2 usage, 3 runtime/data error,
4 I/O error.
"""

from __future__ import annotations

import click

from cli.commands import register


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="dtlhub")
def main():
    """dtlhub: run Sesam's Data Transformation Language (DTL) on your own machine.

    \b
    Check a transform:        dtl compile pipes/person.conf.json
    See what it will do:      dtl explain pipes/person.conf.json
    Try an expression:        dtl eval '["upper", "_S.name"]' --source '{"name": "ann"}'
    Transform entities:       dtl transform rules.json entities.ndjson > out.ndjson
    Measure conformance:      dtl conformance cases.jsonl --report report.json
    """


register(main)

if __name__ == "__main__":  # pragma: no cover
    main()
