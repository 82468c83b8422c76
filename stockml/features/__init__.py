"""Feature engineering: causal, unit-free technical features computed for a whole panel at once.

`FeatureBuilder` is the scikit-learn transformer configs instantiate; `PRESETS` and `FAMILIES`
list what it can build; `CustomFeature` names a user's own Python feature (`features.custom`);
`KBestMutualInfo` is a reproducible mutual-information selector.
"""

from stockml.features.builder import FeatureBuilder
from stockml.features.custom import CustomFeature
from stockml.features.presets import PRESETS
from stockml.features.registry import FAMILIES
from stockml.features.selection import KBestMutualInfo, mutual_info_scores

__all__ = [
    "FAMILIES",
    "PRESETS",
    "CustomFeature",
    "FeatureBuilder",
    "KBestMutualInfo",
    "mutual_info_scores",
]
