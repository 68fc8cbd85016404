"""The web console: the page at / that loads Vellum's own front end (web/console), and the local
stage's sign-in."""
