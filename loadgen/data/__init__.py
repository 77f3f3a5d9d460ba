"""Data files shipped with the package (word list)."""
