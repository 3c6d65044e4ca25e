"""Finished sessions: reading them back, confidence intervals, history, comparison, reports."""
