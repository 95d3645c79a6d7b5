#!/usr/bin/env python3
"""Follow the MDM change feed and keep a local map (system, source key) → global ID.

    MDM_URL=http://127.0.0.1:8000 MDM_API_KEY=mdm_... python examples/feed_consumer.py

The consumer remembers the last cursor it applied (in ``--state``, a JSON file), so it
can stop and start again without missing or repeating an event. Only the standard
library is used; a real consumer would write the map to its own database in the same
transaction as the cursor.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import urllib.request
from pathlib import Path


class KeyMap:
    """The local copy: (system, source key) → global ID, and the cursor it is at."""

    def __init__(self) -> None:
        self.global_id: dict[tuple[str, str], str] = {}
        self.cursor = "0"

    def apply(self, event: dict) -> None:
        payload = event["payload"]
        kind = event["event_type"]
        if kind in {"xref.added", "xref.moved"}:
            self.global_id[(payload["system"], payload["source_key"])] = payload["global_id"]
        elif kind == "xref.removed":
            self.global_id.pop((payload["system"], payload["source_key"]), None)
        self.cursor = event["cursor"]

    def save(self, path: Path) -> None:
        data = {
            "cursor": self.cursor,
            "map": [[*key, value] for key, value in self.global_id.items()],
        }
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data))
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> KeyMap:
        keys = cls()
        if path.exists():
            data = json.loads(path.read_text())
            keys.cursor = data["cursor"]
            keys.global_id = {(system, key): value for system, key, value in data["map"]}
        return keys


class Feed:
    def __init__(self, base_url: str, api_key: str, domain: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.domain = domain

    def page(self, after: str, limit: int = 500) -> dict:
        query = f"after={after}&limit={limit}" + (f"&domain={self.domain}" if self.domain else "")
        request = urllib.request.Request(
            f"{self.base_url}/api/v1/changes?{query}", headers={"X-API-Key": self.api_key}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def catch_up(self, keys: KeyMap) -> int:
        """Apply every event after the map's cursor; returns how many."""
        applied = 0
        while True:
            page = self.page(keys.cursor)
            for event in page["events"]:
                keys.apply(event)
                applied += 1
            if not page["has_more"]:
                return applied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("MDM_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--api-key", default=os.environ.get("MDM_API_KEY", ""))
    parser.add_argument("--domain", help="only this domain's changes")
    parser.add_argument("--state", default="key-map.json", help="where the map and cursor live")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    parser.add_argument("--once", action="store_true", help="catch up once and stop")
    options = parser.parse_args()
    feed = Feed(options.url, options.api_key, options.domain)
    state = Path(options.state)
    keys = KeyMap.load(state)
    while True:
        applied = feed.catch_up(keys)
        keys.save(state)
        if applied:
            print(f"applied {applied} events; cursor {keys.cursor}; {len(keys.global_id)} keys")
        if options.once:
            return
        time.sleep(options.interval)


if __name__ == "__main__":
    main()
