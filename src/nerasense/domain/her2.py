"""HER2 protein and gene testing results as reported by a pathology laboratory."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class IhcScore(StrEnum):
    """IHC score. ``0`` is IHC 0 without saying whether faint staining was seen; ``null`` and
    ``ultralow`` are the two halves of IHC 0 (no staining; faint incomplete staining in ≤10 % of cells)."""

    ZERO = "0"
    NULL = "null"
    ULTRALOW = "ultralow"
    ONE = "1+"
    TWO = "2+"
    THREE = "3+"

    @property
    def asco_cap(self) -> str:
        """The ASCO/CAP score this maps to (null and ultralow are both IHC 0)."""
        return "0" if self in (IhcScore.NULL, IhcScore.ULTRALOW) else self.value


IHC_ALIASES = {"0+": "ultralow", ">0<1+": "ultralow", "0-null": "null", "1": "1+", "2": "2+", "3": "3+"}


class Her2Tests(BaseModel):
    """Every HER2 test result nerasense reads. All optional: missing tests change the answer."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    ihc: IhcScore | None = None
    ish_ratio: float | None = Field(default=None, gt=0, description="HER2/CEP17 ratio (dual-probe)")
    her2_signals: float | None = Field(default=None, ge=0, description="average HER2 signals per cell")
    cep17_signals: float | None = Field(default=None, gt=0, description="average CEP17 signals per cell")
    single_probe: bool = False
    recount_ratio: float | None = Field(default=None, gt=0)
    recount_her2_signals: float | None = Field(default=None, ge=0)
    recount_cep17_signals: float | None = Field(default=None, gt=0)
    pct_1plus: float | None = Field(default=None, ge=0, le=100)
    pct_2plus: float | None = Field(default=None, ge=0, le=100)
    pct_3plus: float | None = Field(default=None, ge=0, le=100)
    hermark_h2t: float | None = Field(default=None, ge=0, description="HERmark total HER2, RF/mm2")
    p95: float | None = Field(default=None, ge=0, description="p95HER2 (VeraTag), RF/mm2")
    pct_amplified_cells: float | None = Field(
        default=None, ge=0, le=100, description="percent of tumour cells with HER2/CEP17 > 2.2 (heterogeneity)"
    )
    specimen: Literal["surgical", "biopsy"] | None = Field(
        default=None, description="resection or biopsy (gastroesophageal HER2 scoring differs between them)"
    )

    @property
    def has_ish(self) -> bool:
        return any(v is not None for v in (self.ish_ratio, self.her2_signals, self.cep17_signals))

    @property
    def has_recount(self) -> bool:
        return any(
            v is not None for v in (self.recount_ratio, self.recount_her2_signals, self.recount_cep17_signals)
        )

    @property
    def has_percentages(self) -> bool:
        return any(v is not None for v in (self.pct_1plus, self.pct_2plus, self.pct_3plus))
