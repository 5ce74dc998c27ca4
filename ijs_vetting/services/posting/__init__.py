"""Photos going out: clearing (the rendering and its check), the posting queue per account,
captions and their checks, and the export into posting folders.
"""
