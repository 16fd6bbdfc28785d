"""The symbolic layer: scoring rules from generating functions, checked against the paper.

Modules map to the paper's concepts:

* ``generators``  - Psi on {1} x R_+^M (Eq. 6), Phi on the simplex (Eq. 8), perspective (App. E.1)
* ``rules``       - induced rules (Eq. 6, Eq. 8), Psi^lambda (App. D.2), properisation (Remark 17)
* ``propriety``   - Bayes risk, regret, g (Eq. 9), Theorem 9 certificates with witnesses
* ``identities``  - Lemma 10, Props 11/13/14/15, Cor 16, Thm 18, Lemma 21, Thm 6/19 as checks
* ``catalogue``   - the generating functions of Tables 3-4 (App. D.5)
* ``dre``         - DRE objectives L^lambda_{K;nu} (Sec. 3, 3.4), Prop 20, Tables 5-7 rows
* ``bounds``      - Prop 1, Thm 2, Thm 7, Eq. 5 as expressions
* ``limits``      - alpha -> 1 limits of the parametric rules
* ``tables``      - Tables 3-7 regenerated and rendered
* ``compile``     - numpy / mpmath / torch callables of the derived expressions
* ``analysis``    - a user's generating function in, rule, verdict and objectives out

Everything is in nats.  torch is imported only by ``compile`` when asked for.
"""

from theory.errors import ImproperRuleError, InputError

__all__ = ["InputError", "ImproperRuleError"]
