"""cae-lessons: the helper package behind the book.

How shape and size mismatches between an input and the conv / pooling / upsampling layers of a
convolutional autoencoder break or degrade it, shown on real MRI. ``ARCHITECTURE.md`` at the
repository root lists every module, one concept each, and the layering, bottom to top:
``validate`` / ``tables`` < ``config`` < ``data`` < ``receptive`` < ``shapes`` < ``coverage`` /
``boundary`` < ``stats`` < ``metrics`` < ``scores`` / ``baselines`` < ``models`` < ``cache`` <
``training`` < ``experiments``, with ``plots`` < ``diagrams`` / ``widgets`` beside them.

Importing the package is cheap: TensorFlow is imported only by the functions that need it.
"""

__version__ = "0.1.0"
