"""``python -m metaplastic`` runs the command line."""

from metaplastic.cli import main

main()
