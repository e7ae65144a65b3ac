"""How every `pix2color` subcommand's parser is made: one help formatter, and the function
the command runs kept with its parser (`main` calls `args.run(args)`)."""

import argparse


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, unless the help already says it or there
    is none to say (required, or not given: None)."""

    def _get_help_string(self, action):
        if "default:" in (action.help or "") or action.default in (None, []) or \
                action.required:   # [] for an option given any number of times: none
            return action.help
        return super()._get_help_string(action)


def add_command(commands, name, run, formatter=HelpFormatter, **options):
    """The parser of subcommand `name` (`options`: help, description), which runs
    `run(args)`."""
    parser = commands.add_parser(name, formatter_class=formatter, **options)
    parser.set_defaults(run=run)
    return parser
