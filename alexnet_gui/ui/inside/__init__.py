"""Looking inside: the layer table, the learned filters and the feature maps."""
