"""What the Python halves of the benchmark scripts share (imported as a module from tools/bench/)."""
from __future__ import annotations

import argparse


def positive(text: str) -> int:
    """argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (found {value})")
    return value
