"""`hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper` is stockml's sweeper.

Configs copied from lightning-hydra-template name the upstream hydra-optuna-sweeper class as
`hydra.sweeper._target_`. Hydra looks plugins up by `<module>.<class>` of the classes it
found while scanning `hydra_plugins`, so this module defines a subclass under that exact
name, and those configs run unchanged on stockml's sweeper.

The upstream distribution cannot be installed beside stockml: it pins optuna<3 and stockml
needs optuna>=4, so pip refuses the combination, and the two never both own this package.
"""

from hydra_plugins.stockml_optuna_sweeper.optuna_sweeper import OptunaSweeper as _Stockml


class OptunaSweeper(_Stockml):
    """stockml's Optuna sweeper under the upstream plugin's class path."""
