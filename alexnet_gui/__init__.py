"""AlexNet GUI: a desktop image classifier for looking inside and teaching AlexNet."""

__version__ = "0.1.0"
