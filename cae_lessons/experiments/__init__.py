"""The book's experiments: the only package code that knows which chapter asks what.

Each module defines one chapter's comparison (the models, how they are trained, what is
compared) and returns results the chapter shows; the chapter calls it directly, so the
definitions live here, tested, and not in notebook cells.

- :mod:`cae_lessons.experiments.decoders`: ch. 5, transposed convolution against upsampling.
"""
