"""nerasense: predict response to neratinib from the biomarkers tied to its benefit, and run the
cohort statistics that establish such biomarkers. Research use only.

Nothing runs at import: the knowledge base is read on first use.
"""

from nerasense._version import software_version
from nerasense.errors import (
    AnalysisError,
    InputError,
    KnowledgeError,
    NerasenseError,
    NerasenseWarning,
    UnverifiedKnowledgeWarning,
)

__version__ = software_version()

__all__ = [
    "AnalysisError",
    "InputError",
    "KnowledgeError",
    "NerasenseError",
    "NerasenseWarning",
    "UnverifiedKnowledgeWarning",
    "__version__",
]
