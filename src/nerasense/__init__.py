"""nerasense: predict response to neratinib from the biomarkers tied to its benefit, and run the
cohort statistics that establish such biomarkers. Research use only.

Nothing runs at import: the knowledge base is read on first use.
"""

from typing import Any

from nerasense.errors import (
    AnalysisError,
    InputError,
    KnowledgeError,
    NerasenseError,
    NerasenseWarning,
    UnverifiedKnowledgeWarning,
)


def __getattr__(name: str) -> Any:
    """``__version__`` is read from the package metadata on first use, not at import."""
    if name == "__version__":
        from nerasense._version import software_version

        return software_version()
    raise AttributeError(f"module 'nerasense' has no attribute {name!r}")

__all__ = [
    "AnalysisError",
    "InputError",
    "KnowledgeError",
    "NerasenseError",
    "NerasenseWarning",
    "UnverifiedKnowledgeWarning",
    "__version__",
]
