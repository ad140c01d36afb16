"""esd backtest (contract §13): what the current reference files would have sent,
week by week, over past data."""

from __future__ import annotations
