"""The embedded AWS stack, its event pump and dev tokens: developer tooling, never shipped to Lambda."""
