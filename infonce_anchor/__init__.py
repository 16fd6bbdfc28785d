"""infonce-anchor: check and use the mathematics of InfoNCE-anchor (the claims report and CLI).

The mathematics lives in the top-level packages ``theory`` (symbolic) and ``numerics`` (exact
numerics, torch critics); this package holds the claims registry, the report and the CLI.
"""

__version__ = "0.1.0"
