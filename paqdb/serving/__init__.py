"""The HTTP model-serving endpoint (Clipper-style batching and caching over catalog models).

Not implemented yet; models are served today through SQL: ``PREDICT ... USING MODEL m`` and
``PREDICT(label USING MODEL m)`` inside any query.
"""
