"""Typed, validated models of the things nerasense reasons about. No I/O, no knowledge."""
