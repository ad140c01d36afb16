"""esd report (contract §12): the success metric."""

from __future__ import annotations
