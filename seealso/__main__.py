"""`python -m seealso` runs the command line."""

from seealso.cli import main

main()
