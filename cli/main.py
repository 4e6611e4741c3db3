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
    """dtlhub: run Sesam's Data Transformation Language (DTL) and whole Sesam
    configurations on your own machine.

    \b
    DTL
      Check a transform:        dtl compile pipes/person.conf.json
      See what it will do:      dtl explain pipes/person.conf.json
      Try an expression:        dtl eval '["upper", "_S.name"]' --source '{"name": "ann"}'
      Transform entities:       dtl transform rules.json entities.ndjson > out.ndjson
      Measure conformance:      dtl conformance cases.jsonl --report report.json
    \b
    A Sesam configuration folder (pipes/, systems/, node-metadata.conf.json)
      Validate it:              dtl config validate my-sesam-repo
      Run it until stable:      dtl run my-sesam-repo
      Run its CI tests offline: dtl test my-sesam-repo
      Serve Sesam's API:        dtl serve my-sesam-repo
      Look at datasets:         dtl dataset list --data my-sesam-repo/.dtl-data
    """


register(main)

if __name__ == "__main__":  # pragma: no cover
    main()
