"""What `make demo` prints before serving: where the pages, the API docs and Neo4j
Browser are, and where their keys and passwords live (never the secrets themselves).

    python -m app.pages.urls --port 8000
"""

from __future__ import annotations

import argparse

from ragrec.config import PROJECT_ROOT, Settings, get_settings


def lines(settings: Settings, port: int | None = None, host: str | None = None) -> list[str]:
    host = host or settings.api_host
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    base = f"http://{host}:{port or settings.api_port}"
    keys = _relative(settings.api_keys_path if hasattr(settings, "api_keys_path") else None)
    password = _relative(settings.home / "secrets" / "neo4j_password")
    pages_note = (
        "open to anyone (RAGREC_PAGES_PUBLIC=true)"
        if settings.pages_public
        else f"sign in with the admin key in {keys or 'RAGREC_API_KEYS'}"
    )
    out = [
        "RagRec is starting:",
        f"  explorer pages    {base}/   ({pages_note})",
        f"  shop widget demo  {base}/pages/shop",
        f"  API docs          {base}/schema   (OpenAPI JSON: {base}/schema/openapi.json)",
    ]
    if settings.local_neo4j:
        browser = f"http://localhost:{settings.neo4j_http_port}/browser/"
        out += [
            f"  Neo4j Browser     {browser}   (user {settings.neo4j_user}, password in {password})",
            f"  Browser guide     :play http://localhost:{port or settings.api_port}"
            "/guides/ragrec.html   (type it in Neo4j Browser)",
        ]
    else:
        out.append(f"  Neo4j             {settings.effective_neo4j_uri()} (external)")
    return out


def _relative(path: object) -> str | None:
    if path is None:
        return None
    text = str(path)
    root = str(PROJECT_ROOT) + "/"
    return text[len(root) :] if text.startswith(root) else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--host", default=None)
    args = parser.parse_args()
    print("\n".join(lines(get_settings(), args.port, args.host)), flush=True)


if __name__ == "__main__":
    main()
