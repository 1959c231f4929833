#!/usr/bin/env python3
"""Seeds the corpus of the socket fuzz targets from recorded fixtures.

Each scenario folder becomes one input per read size: a first byte choosing how many bytes each
read delivers, then the scenario as it comes over the wire (AMI: banner and `Key: value` blocks;
ESL: `text/event-json` messages with their Content-Length).

    python3 fuzz/seed_socket_corpus.py FIXTURES_DIR
"""
import json
import pathlib
import sys

READ_SIZES = (1, 7, 255)


def ami_stream(events):
    out = b"Asterisk Call Manager/9.0.0\r\n"
    for event in events:
        for key, value in event.items():
            out += f"{key}: {value}\r\n".encode()
        out += b"\r\n"
    return out


def esl_stream(events):
    out = b""
    for event in events:
        body = json.dumps(event).encode()
        out += f"Content-Length: {len(body)}\nContent-Type: text/event-json\n\n".encode() + body
    return out


def main():
    fixtures = pathlib.Path(sys.argv[1])
    corpus = pathlib.Path(__file__).parent / "corpus"
    for kind, target, encode, prefix in (
        ("asterisk", "ami_stream", ami_stream, "ami_"),
        ("freeswitch", "esl_stream", esl_stream, ""),
    ):
        out_dir = corpus / target
        out_dir.mkdir(parents=True, exist_ok=True)
        for scenario in sorted((fixtures / kind).iterdir()):
            if not scenario.is_dir() or not scenario.name.startswith(prefix):
                continue
            events = [json.loads(p.read_text()) for p in sorted(scenario.glob("*.json"))]
            stream = encode(events)
            for size in READ_SIZES:
                (out_dir / f"{scenario.name}__reads_of_{size}").write_bytes(bytes([size]) + stream)


if __name__ == "__main__":
    main()
