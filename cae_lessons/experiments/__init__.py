"""The book's experiments: the only package code that knows which chapter asks what.

Each module defines one chapter's comparison (the models, how they are trained, what is
compared) and returns results the chapter shows; the chapter calls it directly, so the
definitions live here, tested, and not in notebook cells.

- :mod:`cae_lessons.experiments.registry`: every model a chapter trains, for ch. 9.
- :mod:`cae_lessons.experiments.decoders`: ch. 5, transposed convolution against upsampling.
- :mod:`cae_lessons.experiments.gradients`: ch. 7, gradient norms by depth and over training.
- :mod:`cae_lessons.experiments.kernel_stride`: ch. 8, kernel size against stride, and its
  section on the rule that large kernels over-smooth and large strides lose information.
- :mod:`cae_lessons.experiments.results`: ch. 9, every model and baseline on one test set.
"""
