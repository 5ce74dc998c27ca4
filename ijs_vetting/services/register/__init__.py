"""The register: children, their consent per channel and its reviews, the scanned forms,
reference templates, roster imports, the letters and sheets made from it, and the school's rules
(settings that decide photos). `consent_cascade` is the one module every change of standing
calls: it re-decides the photos and withdraws or re-routes what is queued.
"""
