"""Downloads: the torrents behind library items, from magnet to library file (`service.py`)."""
