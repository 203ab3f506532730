"""cae-lessons: the helper package behind the book.

How shape and size mismatches between an input and the conv / pooling / upsampling layers of a
convolutional autoencoder break or degrade it, shown on real MRI. ``ARCHITECTURE.md`` at the
repository root lists every module and the layering: ``config`` < ``receptive`` < ``shapes`` <
``data`` / ``metrics`` < ``models`` < ``training`` < ``plots`` < ``widgets``.

Importing the package is cheap: TensorFlow is imported only by the functions that need it.
"""

__version__ = "0.1.0"
