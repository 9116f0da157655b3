"""Where files lie on the server is shown only to keys that may change the library: a
read-only key gets document names, never paths or linked folders."""

from __future__ import annotations

import json

import httpx

from tests.api.conftest import auth


def test_a_read_only_key_sees_names_not_server_paths(api, keys, service, corpus, tmp_path):
    service.library.ingest([corpus])
    linked = tmp_path / "linked"
    linked.mkdir()
    service.library.link_collection("drills", linked)
    server_paths = [str(corpus), str(linked)]
    question = "At what pressure does the relief valve open?"
    requests = [("POST", "/v1/search", {"query": "relief valve", "k": 3}),
                ("POST", "/v1/query", {"question": question}),
                ("POST", "/v1/chat/completions",
                 {"messages": [{"role": "user", "content": question}]}),
                ("GET", "/v1/documents", None), ("GET", "/v1/collections", None)]
    for role, should_see in (("reader", False), ("writer", True)):
        with httpx.Client(base_url=api.url, headers=auth(keys[role]), timeout=120) as http:
            for method, url, body in requests:
                response = http.request(method, url, json=body)
                assert response.status_code == 200, (url, response.text)
                text = json.dumps(response.json())
                seen = any(path in text for path in server_paths)
                assert seen == should_see, (role, url)
                if not should_see:
                    assert '"path"' not in text and '"folder"' not in text, url
