"""Fine-tune: folder, settings, live progress and curves, results."""
