"""The paper's claims and their checks, grouped by the paper's topics.

``registry`` (the claim record, ``@claim``, running a check; imports no claim module) and
``catalogue`` (imports every topic module; ``load``, ``select``).  Topic modules, each holding a
statement's symbolic, exact and sampled checks side by side: ``scoring_rules``, ``objectives``,
``bounds``, ``estimators``, ``tables``, ``benchmark`` (sweep results), ``pending`` (outside this
toolkit).  Shared helpers, registering no claim: ``common`` (symbolic and exact layers) and
``sampling`` (torch layer).
"""
