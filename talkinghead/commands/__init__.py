"""One module per CLI subcommand. Each defines ``add_parser(subparsers)`` (returning its parser) and
``run(args) -> int``; `talkinghead.cli.COMMANDS` lists them in the order `--help` shows them."""
