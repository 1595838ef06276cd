"""One module per ``stswatch`` sub-command: ``add_arguments(parser)`` and ``run(args)``."""
