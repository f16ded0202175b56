"""Writing an S3 object as it is produced: parts go up in the background while the producer goes on.

An export's CSV comes out of one COPY; writing it to /tmp and uploading it after made the upload wait
for the whole COPY, then the task wait for the whole upload. Here each 8 MiB part is sent as soon as
it is full, at most two at a time, so memory stays at a few parts whatever the file's size. A small
file (under one part) is sent with one PUT when it is closed.
"""

import io
import threading
from concurrent.futures import Future, ThreadPoolExecutor

PART_BYTES = 8 * 1024 * 1024  # S3 wants at least 5 MiB for every part but the last
IN_FLIGHT = 2


class Upload(io.RawIOBase):
    """A writable stream into `bucket`/`key`. `complete()` ends it; `abort()` drops what was sent.
    Closing it (as io.BufferedWriter does when it is done) does not end the upload."""

    def __init__(self, client, bucket: str, key: str, content_type: str):
        super().__init__()
        self._client, self._target = client, {"Bucket": bucket, "Key": key}
        self._content_type = content_type
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[Future] = []
        self._slots = threading.BoundedSemaphore(IN_FLIGHT)
        self._pool: ThreadPoolExecutor | None = None
        self.size = 0

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        pass  # complete() or abort() ends the upload; a buffered writer around it may close it before

    def write(self, data: bytes) -> int:
        self._buffer += data
        self.size += len(data)
        while len(self._buffer) >= PART_BYTES:
            self._send(bytes(self._buffer[:PART_BYTES]))
            del self._buffer[:PART_BYTES]
        return len(data)

    def complete(self) -> int:
        """Sends what is left and finishes the object; its size in bytes."""
        if self._upload_id is None:
            self._client.put_object(**self._target, Body=bytes(self._buffer), ContentType=self._content_type)
            return self.size
        if self._buffer:
            self._send(bytes(self._buffer))
        parts = [{"PartNumber": number, "ETag": part.result()} for number, part in enumerate(self._parts, 1)]
        self._pool.shutdown()
        self._client.complete_multipart_upload(
            **self._target, UploadId=self._upload_id, MultipartUpload={"Parts": parts}
        )
        return self.size

    def abort(self) -> None:
        if self._upload_id is None:
            return
        self._pool.shutdown(cancel_futures=True)
        self._client.abort_multipart_upload(**self._target, UploadId=self._upload_id)

    def _send(self, chunk: bytes) -> None:
        if self._upload_id is None:
            created = self._client.create_multipart_upload(**self._target, ContentType=self._content_type)
            self._upload_id = created["UploadId"]
            self._pool = ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="s3-part")
        for part in self._parts:
            if part.done():
                part.result()  # a failed part fails the upload now
        self._slots.acquire()  # waits while IN_FLIGHT parts are on their way
        number = len(self._parts) + 1
        self._parts.append(self._pool.submit(self._part, number, chunk))

    def _part(self, number: int, chunk: bytes) -> str:
        try:
            answer = self._client.upload_part(**self._target, UploadId=self._upload_id, PartNumber=number,
                                              Body=chunk)  # fmt: skip
            return answer["ETag"]
        finally:
            self._slots.release()
