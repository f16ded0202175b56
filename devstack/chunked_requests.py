"""Request bodies sent with `Transfer-Encoding: chunked`, read for Chalice's local server.

`chalice local` reads a body by its Content-Length only, so a chunked one (pyodk streams submission
attachments that way) arrives empty and its bytes are left on the connection. API Gateway and
Central's nginx join the chunks before the application sees them; this handler does the same.
"""

from chalice.local import ChaliceRequestHandler

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


class ChunkedRequestHandler(ChaliceRequestHandler):
    def _parse_payload(self):
        if "chunked" not in (self.headers.get("transfer-encoding") or "").lower():
            return super()._parse_payload()
        body = self._read_chunks()
        headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
        headers["Content-Length"] = str(len(body))
        return headers, body

    def _read_chunks(self) -> bytes:
        body = bytearray()
        while True:
            size = int(self.rfile.readline(100).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(1000).strip():  # trailers, up to the blank line
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise ValueError(f"a chunked body over {MAX_BODY_BYTES} bytes")
            body += self.rfile.read(size)
            self.rfile.readline(10)  # the CRLF after the chunk
