"""Renderers: figures (matplotlib, Agg), HTML reports. The only layer besides the CLI that draws."""
