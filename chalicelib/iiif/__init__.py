"""The IIIF Image API: request parsing, geometry, rendering, image information and routes."""
