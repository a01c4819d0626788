"""Figures of the reference solutions (matplotlib, Agg): arrays in, Figure out."""
