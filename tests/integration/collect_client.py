"""A client that speaks to an OpenRosa server exactly as ODK Collect does, over real HTTP.

Written from Collect's source (getodk/collect, open-rosa/…/okhttp/OkHttpOpenRosaServerClientProvider,
OkHttpConnection, Kxml2OpenRosaResponseParser, OpenRosaServerInstanceUploader):
- every request carries `User-Agent` (app id/version and the system's http.agent), `X-OpenRosa-Version:
  1.0` and a `Date` formatted as Collect formats it ("E, dd MMM yyyy hh:mm:ss zz", 12-hour clock);
- no credentials until a 401; then burgstaller's DispatchingAuthenticator takes the first challenge
  whose scheme it knows: Digest always, Basic only over HTTPS. Digest answers are cached and sent
  first-hand on the next requests with `nc` counting up, until a 401 says `stale=true`;
- the form list is parsed as Kxml2OpenRosaResponseParser does (namespace, formID/name/downloadUrl
  required, `hash` only with the `md5:` prefix); each form's XForm is downloaded and its md5 checked
  against the list's; a manifest, when the list names one, gives media files checked against its md5;
- a submission is a HEAD (204, `X-OpenRosa-Accept-Content-Length`) then a multipart POST of
  `xml_submission_file` and each attachment (part named as the file), `?deviceID=` added; 201 or 202.
"""

import base64
import email.utils
import hashlib
import os
import re
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import requests

USER_AGENT = (
    "org.odk.collect.android/v2025.2.3 Dalvik/2.1.0 (Linux; U; Android 14; Pixel 7 Build/AP2A.240905.003)"
)
DEVICE_ID = "collect:3hB9xPVUYrgcVB2T"
XFORMS_LIST = "http://openrosa.org/xforms/xformsList"
XFORMS_MANIFEST = "http://openrosa.org/xforms/xformsManifest"
CONTENT_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".csv": "text/csv", ".xml": "text/xml"}


class CollectError(AssertionError):
    """What Collect would show its user: the request failed."""


@dataclass
class FormListItem:
    form_id: str
    name: str
    version: str | None
    hash: str | None  # without "md5:"
    download_url: str
    manifest_url: str | None


@dataclass
class MediaFile:
    filename: str
    hash: str
    download_url: str


@dataclass
class DownloadedForm:
    item: FormListItem
    xml: bytes
    media: dict[str, bytes] = field(default_factory=dict)


@dataclass
class _DigestState:
    realm: str
    nonce: str
    qop: str
    opaque: str | None
    nc: int = 0


class CollectClient:
    """One Collect project: its server URL and, when it has them, a username and password."""

    def __init__(self, server_url: str, username: str | None = None, password: str | None = None):
        self.server_url = server_url.rstrip("/")
        self.username, self.password = username, password
        self.digest: _DigestState | None = None
        self.challenges_seen = 0  # 401s that carried a challenge we answered
        self.log: list[tuple[str, str, int]] = []  # (method, url, status) of each request sent

    # Requests, as OkHttp with Collect's authenticators sends them

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        response = self._send(method, url, self._cached_authorization(method, url), **kwargs)
        retried = False
        while response.status_code == 401 and self.username is not None:
            authorization = self._answer(response, method, url, retried)
            if authorization is None:
                break
            retried = True
            response = self._send(method, url, authorization, **kwargs)
        return response

    def _send(self, method: str, url: str, authorization: str | None, **kwargs) -> requests.Response:
        headers = {
            "User-Agent": USER_AGENT,
            "X-OpenRosa-Version": "1.0",
            "Date": collect_date(),
            "Accept-Encoding": "gzip",
        }
        if authorization:
            headers["Authorization"] = authorization
        # A connection per request: the live test server serves one connection at a time.
        with requests.Session() as session:
            response = session.request(method, url, headers=headers, timeout=30, **kwargs)
            response.content  # noqa: B018 (read before the connection closes)
        self.log.append((method, url, response.status_code))
        return response

    def _answer(self, response: requests.Response, method: str, url: str, retried: bool) -> str | None:
        for scheme, params in parse_challenges(response.raw.headers.getlist("WWW-Authenticate")):
            if scheme == "digest":
                stale = params.get("stale", "").lower() == "true"
                if retried and not stale:
                    return None  # okhttp-digest gives up: wrong credentials, Collect asks its user
                self.challenges_seen += 1
                self.digest = _DigestState(
                    params["realm"], params["nonce"], params.get("qop", ""), params.get("opaque")
                )
                return self._digest_authorization(method, url)
            if scheme == "basic" and urllib.parse.urlsplit(url).scheme == "https":
                return None if retried else basic_authorization(self.username, self.password)
        return None  # no scheme Collect knows (over HTTP: Basic alone is refused)

    def _cached_authorization(self, method: str, url: str) -> str | None:
        # AuthenticationCacheInterceptor: after one successful Digest, later requests carry it at once.
        return self._digest_authorization(method, url) if self.digest and self.username else None

    def _digest_authorization(self, method: str, url: str) -> str:
        state = self.digest
        state.nc += 1
        split = urllib.parse.urlsplit(url)
        uri = split.path + (f"?{split.query}" if split.query else "")
        cnonce = os.urandom(8).hex()
        nc = f"{state.nc:08x}"
        ha1 = _md5(f"{self.username}:{state.realm}:{self.password}")
        ha2 = _md5(f"{method}:{uri}")
        qop = "auth" if "auth" in [q.strip() for q in state.qop.split(",")] else ""
        answer = (
            _md5(f"{ha1}:{state.nonce}:{nc}:{cnonce}:{qop}:{ha2}")
            if qop
            else _md5(f"{ha1}:{state.nonce}:{ha2}")
        )
        parts = [
            f'username="{self.username}"',
            f'realm="{state.realm}"',
            f'nonce="{state.nonce}"',
            f'uri="{uri}"',
            f'response="{answer}"',
        ]
        if qop:
            parts += [f"qop={qop}", f"nc={nc}", f'cnonce="{cnonce}"']
        parts.append("algorithm=MD5")
        if state.opaque:
            parts.append(f'opaque="{state.opaque}"')
        return "Digest " + ", ".join(parts)

    # What Collect does with a server

    def form_list(self) -> list[FormListItem]:
        response = self.request("GET", f"{self.server_url}/formList")
        _expect_openrosa(response, 200, "text/xml")
        return parse_form_list(response.content)

    def download(self, item: FormListItem) -> DownloadedForm:
        response = self.request("GET", item.download_url)
        _expect_openrosa(response, 200, "text/xml")
        if item.hash is not None and _md5_bytes(response.content) != item.hash:
            raise CollectError(f"{item.form_id}: the XForm's md5 is not the form list's hash")
        form = DownloadedForm(item, response.content)
        if item.manifest_url:
            for media in self.manifest(item.manifest_url):
                form.media[media.filename] = self.media(media)
        return form

    def manifest(self, url: str) -> list[MediaFile]:
        response = self.request("GET", url)
        _expect_openrosa(response, 200, "text/xml")
        return parse_manifest(response.content)

    def media(self, media: MediaFile) -> bytes:
        response = self.request("GET", media.download_url)
        if response.status_code != 200:
            raise CollectError(f"{media.filename}: {response.status_code} {response.text[:300]}")
        if _md5_bytes(response.content) != media.hash:
            raise CollectError(f"{media.filename}: the file's md5 is not the manifest's")
        return response.content

    def submit(self, instance_xml: bytes, attachments: dict[str, bytes]) -> requests.Response:
        url = f"{self.server_url}/submission?deviceID={urllib.parse.quote(DEVICE_ID)}"
        head = self.request("HEAD", url)
        if head.status_code != 204:
            raise CollectError(f"HEAD {url}: {head.status_code}, not 204 (an OpenRosa submission endpoint?)")
        if "X-OpenRosa-Accept-Content-Length" not in head.headers:
            raise CollectError("HEAD: no X-OpenRosa-Accept-Content-Length")
        files = [("xml_submission_file", ("submission.xml", instance_xml, "text/xml"))]
        for name, content in attachments.items():
            files.append(
                (
                    name,
                    (name, content, CONTENT_TYPES.get(os.path.splitext(name)[1], "application/octet-stream")),
                )
            )
        posted = self.request("POST", url, files=files)
        if posted.status_code not in (201, 202):
            raise CollectError(f"POST {url}: {posted.status_code} {posted.text[:300]}")
        return posted


def parse_challenges(values: list[str]) -> list[tuple[str, dict[str, str]]]:
    """(scheme, parameters) of each challenge, in order, as OkHttp's Response.challenges() gives them."""
    found: list[tuple[str, dict[str, str]]] = []
    for value in values:
        for match in re.finditer(r'([A-Za-z]+)\s+((?:[\w-]+=(?:"(?:[^"\\]|\\.)*"|[^\s,]*)\s*,?\s*)+)', value):
            params = {
                key.lower(): (quoted if quoted or bare == "" else bare)
                for key, quoted, bare in re.findall(
                    r'([\w-]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))', match.group(2)
                )
            }
            found.append((match.group(1).lower(), params))
    return found


def parse_form_list(body: bytes) -> list[FormListItem]:
    """As Kxml2OpenRosaResponseParser.parseFormList: None (an error) when a form lacks id, name or URL."""
    root = ET.fromstring(body)
    if root.tag != f"{{{XFORMS_LIST}}}xforms":
        raise CollectError(f"not an OpenRosa form list: {root.tag}")
    items = []
    for entry in root.findall(f"{{{XFORMS_LIST}}}xform"):
        text = {child.tag.removeprefix(f"{{{XFORMS_LIST}}}"): (child.text or "").strip() for child in entry}
        if not (text.get("formID") and text.get("name") and text.get("downloadUrl")):
            raise CollectError(f"a form without formID, name or downloadUrl: {text}")
        digest = text.get("hash") or ""
        items.append(
            FormListItem(
                text["formID"],
                text["name"],
                text.get("version") or None,
                digest.removeprefix("md5:") if digest.startswith("md5:") else None,
                text["downloadUrl"],
                text.get("manifestUrl") or None,
            )
        )
    return items


def parse_manifest(body: bytes) -> list[MediaFile]:
    root = ET.fromstring(body)
    if root.tag != f"{{{XFORMS_MANIFEST}}}manifest":
        raise CollectError(f"not an OpenRosa manifest: {root.tag}")
    files = []
    for entry in root.findall(f"{{{XFORMS_MANIFEST}}}mediaFile"):
        text = {
            child.tag.removeprefix(f"{{{XFORMS_MANIFEST}}}"): (child.text or "").strip() for child in entry
        }
        if not (text.get("filename") and text.get("hash") and text.get("downloadUrl")):
            raise CollectError(f"a media file without filename, hash or downloadUrl: {text}")
        files.append(
            MediaFile(
                os.path.basename(text["filename"]), text["hash"].removeprefix("md5:"), text["downloadUrl"]
            )
        )
    return files


def collect_date() -> str:
    """Collect's Date header: SimpleDateFormat("E, dd MMM yyyy hh:mm:ss zz", US) in GMT."""
    now = email.utils.formatdate(usegmt=True)  # "Mon, 07 Dec 2026 17:05:09 GMT"
    day, date, month, year, clock, zone = now.replace(",", "").split()
    hour = int(clock[:2]) % 12 or 12
    return f"{day}, {date} {month} {year} {hour:02d}{clock[2:]} {zone}"


def basic_authorization(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _expect_openrosa(response: requests.Response, status: int, content_type: str) -> None:
    if response.status_code != status:
        raise CollectError(
            f"{response.request.method} {response.url}: {response.status_code} {response.text[:300]}"
        )
    if content_type not in response.headers.get("Content-Type", ""):
        raise CollectError(
            f"{response.url}: Content-Type {response.headers.get('Content-Type')} is not {content_type}"
        )
    if response.headers.get("X-OpenRosa-Version") != "1.0":
        raise CollectError(f"{response.url}: not an OpenRosa response (no X-OpenRosa-Version)")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 (Digest's MD5)


def _md5_bytes(content: bytes) -> str:
    return hashlib.md5(content).hexdigest()  # noqa: S324 (OpenRosa's md5 hashes)
