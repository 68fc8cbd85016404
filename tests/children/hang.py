"""A child that says nothing and never ends, as PDFium looping on a hostile file would."""

import time

time.sleep(600)
