"""Feature engineering: causal, unit-free technical features computed for a whole panel at once.

`FeatureBuilder` is the scikit-learn transformer configs instantiate; `PRESETS` and `FAMILIES`
list what it can build; `KBestMutualInfo` is a reproducible mutual-information selector.
"""

from stockml.features.builder import FeatureBuilder
from stockml.features.presets import PRESETS
from stockml.features.registry import FAMILIES
from stockml.features.selection import KBestMutualInfo, mutual_info_scores

__all__ = ["FAMILIES", "PRESETS", "FeatureBuilder", "KBestMutualInfo", "mutual_info_scores"]
