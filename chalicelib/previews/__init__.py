"""Previews: a file shown safely in a browser, as invenio-previewer shows it (chalicelib.previews.service)."""
