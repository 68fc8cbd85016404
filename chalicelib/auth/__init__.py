"""Who is calling (tokens, principal) and what they may do (policy)."""
