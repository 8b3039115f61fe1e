"""HARMONY: network and scorer."""

from harmony.scorers.harmony.network import HarmonyNetwork
from harmony.scorers.harmony.scorer import HarmonyScorer

__all__ = ["HarmonyNetwork", "HarmonyScorer"]
