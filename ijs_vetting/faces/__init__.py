"""The face engine: finds faces in pixels and turns them into encodings.

It knows nothing of children, consent or databases. Import the modules you need directly;
this package itself imports nothing so that the GUI can use `faces.pool` without loading dlib.
"""
