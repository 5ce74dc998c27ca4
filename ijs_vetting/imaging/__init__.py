"""Ground-level imaging: decoding photos upright, reading their EXIF, plain pixel geometry.

Nothing here knows about faces, children or consent; it turns files into pixels and facts.
"""
