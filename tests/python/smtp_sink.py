"""A real SMTP server for Byline's mail tests (aiosmtpd), keeping what it receives.

  smtp_sink.py DIR [PORT]

Listens on 127.0.0.1 (PORT, or one the system picks), prints "listening PORT" once ready,
and writes each message it accepts as DIR/NNNN.eml (the bytes as received) and DIR/NNNN.json:
the envelope, every header as parsed by Python's own MIME parser (email.policy.default, which
decodes RFC 2047 words), the structure of the parts, and the text of the plain and HTML parts.
The JSON file is written last (and renamed into place), so a test that sees it sees both.
A file DIR/refuse holding a number N makes the next N messages get a temporary refusal (451);
while a file DIR/stall exists, messages are held unanswered (and DIR/stalled is made).
"""
import asyncio
import email
import email.policy
import json
import os
import socket
from pathlib import Path
import sys

from aiosmtpd.controller import Controller


class Keep:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        # DIR/stall: the message is held unanswered (DIR/stalled says one is) until the file
        # goes, then refused: a sender killed meanwhile has not had it taken.
        stall = self.folder / "stall"
        if stall.exists():
            (self.folder / "stalled").touch()
            while stall.exists():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Try again later"
        # DIR/refuse holding a number N: the next N messages get a temporary refusal (4xx).
        refuse = self.folder / "refuse"
        if refuse.exists():
            left = int(refuse.read_text() or "0")
            if left > 0:
                refuse.write_text(str(left - 1))
                return "451 4.3.0 Mailbox busy, try again later"
        self.count += 1
        stem = self.folder / f"{self.count:04d}"
        raw = envelope.original_content or envelope.content
        stem.with_suffix(".eml").write_bytes(raw)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        plain = message.get_body(("plain",))
        html = message.get_body(("html",))
        summary = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": [[name, str(value)] for name, value in message.items()],
            "content_type": message.get_content_type(),
            "parts": [part.get_content_type() for part in message.walk()],
            "defects": [str(d) for part in message.walk() for d in part.defects],
            "text": plain.get_content() if plain is not None else None,
            "html": html.get_content() if html is not None else None,
        }
        partial = stem.with_suffix(".part")
        partial.write_text(json.dumps(summary))
        os.replace(partial, stem.with_suffix(".json"))
        return "250 Message accepted for delivery"


def main():
    folder = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if port == 0:
        # aiosmtpd's controller checks its server by connecting to the port it was given, so
        # it must be told a real one.
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
    Path(folder).mkdir(parents=True, exist_ok=True)
    controller = Controller(Keep(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"listening {port}", flush=True)
    try:
        asyncio.new_event_loop().run_until_complete(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
