"""harmony: reliability scores for vision-language model answers.

Reliability is always in [0, 1], higher = more reliable.
"""

__version__ = "0.1.0"
