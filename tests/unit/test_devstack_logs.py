"""The local API's log never holds a Collect token, which travels in the path of token URLs."""

import io

from devstack.run import copy_redacted


def test_the_local_api_log_keeps_requests_but_not_collect_tokens():
    token = "gct_0123456789abcdef_secretpart"
    sent = io.BytesIO(
        f'127.0.0.1 - - "GET /api/openrosa/key/{token}/3/formList HTTP/1.1" 200 -\n'
        '127.0.0.1 - - "GET /api/health HTTP/1.1" 200 -\n'.encode()
    )
    log = io.BytesIO()
    copy_redacted(sent, log)
    written = log.getvalue().decode()
    assert token not in written
    assert '"GET /api/openrosa/key/<token>/3/formList HTTP/1.1" 200' in written
    assert '"GET /api/health HTTP/1.1" 200' in written
