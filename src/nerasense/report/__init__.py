"""Renderers: HTML/PDF/JSON reports, figures and templates. The only layer below cli that draws."""
