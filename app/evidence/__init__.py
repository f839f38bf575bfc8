"""Evidence bundles of logistics documents and their offline verifier.

``bundle.py`` assembles a bundle in the gateway; ``verify.py`` checks one with no network; ``blocks.py`` reads the
Fabric blocks both need. ``verify.py`` and ``blocks.py`` import only the standard library, ``cryptography`` and
``fabric_protos``; nothing here is imported at package import time.
"""
