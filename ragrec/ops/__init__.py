"""Operations: backup and restore of every store (`ragrec backup`, `ragrec restore`)."""
