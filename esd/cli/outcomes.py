"""esd outcome and esd history (contract §1, §12): record what became of delivered
strong signals; list past runs."""

from __future__ import annotations
