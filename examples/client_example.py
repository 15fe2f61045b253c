"""Use the running app from Python with gradio_client: upload a document, ask about it, review it, generate code.

    python examples/client_example.py http://127.0.0.1:7860/ path/to/contract.pdf "What is the notice period?"

One Client is one visitor session: its documents and chat are private to it and deleted after the session TTL.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gradio_client import Client, handle_file


def last_answer(chat: list[dict]) -> str:
    """The text of the last assistant message (Gradio 6 sends content as a list of typed blocks)."""
    content = [m for m in chat if m["role"] == "assistant" and not (m.get("metadata") or {}).get("title")][-1]["content"]
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content if block.get("type") == "text")


def main(url: str, document: str, question: str) -> dict:
    client = Client(url, verbose=False)
    table, report = client.predict([handle_file(document)], api_name="/ingest")
    print(report)
    chat, sources, confidence, _ = client.predict(question, api_name="/ask")
    print(last_answer(chat), "\n", confidence, "\n", sources, sep="")
    # Review the same file (already indexed, so it is found by content); explain=False skips the model.
    findings, status, markdown_path, json_path = client.predict(handle_file(document), None, False,
                                                                api_name="/review")
    print(status, markdown_path, json_path, sep="\n")  # local copies of the report files
    documents = table["data"]
    code, tests, _, result = client.predict("Write a Python function add(a, b) returning the sum.",
                                            "assert add(2, 3) == 5", False, api_name="/generate_code")
    print(code, result, sep="\n")
    # Documents are named by file name (or by the id the table's picker uses); deleting the last one empties the table.
    left, message = client.predict(Path(document).name, api_name="/delete_document")
    print(message)
    return {"documents": documents, "answer": last_answer(chat), "sources": sources, "confidence": confidence,
            "review_status": status, "code": code, "code_result": result, "left_after_delete": left["data"],
            "delete_message": message}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4]), ensure_ascii=False, indent=2)[:2000])
