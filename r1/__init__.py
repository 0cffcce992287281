"""r1: the DeepSeek-R1 recipe, small enough to run on a laptop CPU."""

__version__ = "0.1.0"
