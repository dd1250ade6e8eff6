"""The gallery: a static site of everything the bot posted.

Two steps, kept apart so the Lambda never needs an image library:

* :mod:`.thumbs` (ingest side, Pillow): a thumbnail and a 5-colour palette
  per catalogued painting, under ``thumbs/`` in the store.
* :mod:`.site` (Jinja2, no Pillow): pages rendered from the slot records,
  joined with those palettes; refreshed cheaply after each post.

Nothing in the posting path imports this package unless ``ART_BOT_GALLERY``
is on.
"""
