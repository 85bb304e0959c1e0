"""Classify: the opened images, their top-5, drop and paste."""
