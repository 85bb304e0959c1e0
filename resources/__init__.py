"""Icons, desktop entry and sample images, installed as package data."""
