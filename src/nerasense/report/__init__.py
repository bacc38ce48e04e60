"""Renderers: JSON sections, HTML/PDF reports and figures. May import every layer below."""
