"""The Explain view: why the model decided, as a heat map over the input crop."""
