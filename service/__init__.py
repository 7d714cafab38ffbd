"""aiohttp policy service: knowledge API, web chat, agent console and staff admin over `knowledge/`."""
