"""Vectis Admin: the console of Vectis PeSIT clusters on Kubernetes."""

__version__ = "0.1.0"
__all__ = ["__version__"]
