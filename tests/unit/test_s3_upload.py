import boto3
import pytest
from moto import mock_aws

from chalicelib.platform import s3_upload


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(Bucket="out", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield client


def test_a_big_file_goes_up_in_parts_as_it_is_written(s3, monkeypatch):
    monkeypatch.setattr(s3_upload, "PART_BYTES", 5 * 1024 * 1024)  # S3's smallest part
    sent = []
    original = s3.upload_part
    monkeypatch.setattr(
        s3, "upload_part", lambda **kwargs: sent.append(kwargs["PartNumber"]) or original(**kwargs)
    )
    lines = [f"{n},unit {n},{'x' * (n % 50)}\n".encode() for n in range(300_000)]
    upload = s3_upload.Upload(s3, "out", "big.csv", "text/csv")
    for line in lines:
        upload.write(line)
        if len(sent) == 1:
            written_when_first_sent = upload.size
    assert upload.complete() == sum(map(len, lines)) > 10 * 1024 * 1024
    assert sent == [1, 2, 3] and written_when_first_sent < sum(map(len, lines))  # sent before the end
    stored = s3.get_object(Bucket="out", Key="big.csv")
    assert stored["Body"].read() == b"".join(lines) and stored["ContentType"] == "text/csv"


def test_a_small_file_is_one_put_and_an_abort_leaves_nothing(s3, monkeypatch):
    small = s3_upload.Upload(s3, "out", "small.csv", "text/csv")
    small.write(b"ref,name\n")
    assert (
        small.complete() == 9 and s3.get_object(Bucket="out", Key="small.csv")["Body"].read() == b"ref,name\n"
    )
    monkeypatch.setattr(s3_upload, "PART_BYTES", 5 * 1024 * 1024)
    dropped = s3_upload.Upload(s3, "out", "dropped.csv", "text/csv")
    dropped.write(b"x" * (6 * 1024 * 1024))
    dropped.abort()
    assert s3.list_multipart_uploads(Bucket="out").get("Uploads", []) == []
    assert "dropped.csv" not in [o["Key"] for o in s3.list_objects_v2(Bucket="out").get("Contents", [])]
