"""bigov — Business Integrated Governance.

One integrated P3M data set (strategy, work, benefits, money, people, risks, governance), loaded
from an organisation's master sources, harmonised to each board's rhythm, and run through the
governance cycle. Start from :class:`bigov.workspace.Workspace`.
"""

__version__ = "0.1.0"
