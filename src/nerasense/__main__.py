"""``python -m nerasense`` runs the command line."""

from nerasense.cli import run

run()
