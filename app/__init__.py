"""img-recog: recognise product images by retrieval."""

__version__ = "0.1.0"
