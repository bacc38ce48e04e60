"""Versioned, cited knowledge: data files under ``data/`` validated into strict models."""

from nerasense.knowledge.loader import KnowledgeBase, default_knowledge, load_knowledge

__all__ = ["KnowledgeBase", "default_knowledge", "load_knowledge"]
