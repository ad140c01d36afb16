"""esd: weekly expansion-signal digests for Customer Success teams."""

__version__ = "0.1.0"
