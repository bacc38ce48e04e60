"""Renderers: HTML/PDF reports, figures (matplotlib, Agg chosen inside functions) and templates.
The only layer besides the CLI that draws."""
