"""SOS-C9's second real client: boto3 (Python's AWS SDK, SigV4 by its own signer) drives a small pass over the
target and prints what it saw as one JSON object; the TypeScript check (boto3-pass.ts) holds it to the spec.

Input on stdin, JSON: endpoint, accessKeyId, secretAccessKey, bucket, seed, partSize. Nothing here judges: every
step records what the client got (bytes as SHA-256 and length, headers, error codes), so a wrong answer is reported
by the check with the harness's words, and a step that raised records the error instead of stopping the pass.
"""

import hashlib
import io
import json
import random
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError


def digest(b):
    return {"sha256": hashlib.sha256(b).hexdigest(), "length": len(b)}


def md5(b):
    return hashlib.md5(b).hexdigest()


def err(e):
    if isinstance(e, ClientError):
        return {
            "code": e.response.get("Error", {}).get("Code"),
            "status": e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
        }
    return {"code": type(e).__name__, "status": None, "message": str(e)[:300]}


def step(out, name, fn):
    try:
        out[name] = {"ok": True, "value": fn()}
    except Exception as e:  # every failure is data for the check
        out[name] = {"ok": False, "error": err(e)}


def main():
    cfg = json.load(sys.stdin)
    rnd = random.Random(cfg["seed"])
    conf = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=cfg["endpoint"],
        region_name="us-east-1",
        aws_access_key_id=cfg["accessKeyId"],
        aws_secret_access_key=cfg["secretAccessKey"],
        config=conf,
    )
    bad = boto3.client(
        "s3",
        endpoint_url=cfg["endpoint"],
        region_name="us-east-1",
        aws_access_key_id=cfg["accessKeyId"],
        aws_secret_access_key=cfg["secretAccessKey"] + "x",
        config=conf,
    )
    b = cfg["bucket"]
    out = {"boto3": boto3.__version__}
    body = rnd.randbytes(rnd.randint(1000, 70000))
    out["putBody"] = {**digest(body), "etag": f'"{md5(body)}"'}

    step(out, "createBucket", lambda: s3.create_bucket(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"])
    step(out, "headBucket", lambda: s3.head_bucket(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"])
    step(out, "put", lambda: {"etag": s3.put_object(Bucket=b, Key="dir/a.bin", Body=body)["ETag"]})
    step(out, "get", lambda: digest(s3.get_object(Bucket=b, Key="dir/a.bin")["Body"].read()))
    lo, hi = 7, min(len(body) - 1, 7 + rnd.randint(10, 900))
    out["rangeWanted"] = {"first": lo, "last": hi, **digest(body[lo : hi + 1])}

    def ranged():
        r = s3.get_object(Bucket=b, Key="dir/a.bin", Range=f"bytes={lo}-{hi}")
        return {**digest(r["Body"].read()), "status": r["ResponseMetadata"]["HTTPStatusCode"], "contentRange": r.get("ContentRange")}

    step(out, "range", ranged)

    def head():
        h = s3.head_object(Bucket=b, Key="dir/a.bin")
        return {"length": h["ContentLength"], "etag": h["ETag"]}

    step(out, "head", head)
    step(out, "missing", lambda: s3.get_object(Bucket=b, Key="no/such/key")["ResponseMetadata"]["HTTPStatusCode"])
    step(out, "badSecret", lambda: bad.get_object(Bucket=b, Key="dir/a.bin")["ResponseMetadata"]["HTTPStatusCode"])

    # A listing walked by boto3's own paginator, 2 keys a page, with a prefix and a delimiter.
    # "dir/c+d e": boto3 always asks for encoding-type=url and decodes `+` as a space, as S3 encodes one.
    keys = ["dir/a.bin", "dir/b", "dir/c+d e", "dir/sub/d", "dir/sub/e", "dir/z", "other"]
    for k in keys[1:]:
        s3.put_object(Bucket=b, Key=k, Body=k.encode())
    out["listWanted"] = {"keys": [k for k in keys if k.startswith("dir/") and "/" not in k[4:]], "prefixes": ["dir/sub/"]}

    def listing():
        got = {"keys": [], "prefixes": [], "pages": 0}
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=b, Prefix="dir/", Delimiter="/", PaginationConfig={"PageSize": 2}
        ):
            got["pages"] += 1
            got["keys"] += [c["Key"] for c in page.get("Contents", [])]
            got["prefixes"] += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        return got

    step(out, "list", listing)

    # Multipart by hand: two parts uploaded in reverse order, then listed and completed.
    size = cfg["partSize"]
    p1, p2 = rnd.randbytes(size), rnd.randbytes(rnd.randint(1, 4096))
    joined = hashlib.md5(bytes.fromhex(md5(p1)) + bytes.fromhex(md5(p2))).hexdigest()
    out["multipartWanted"] = {**digest(p1 + p2), "etag": f'"{joined}-2"', "parts": [[1, len(p1)], [2, len(p2)]]}

    def multipart():
        up = s3.create_multipart_upload(Bucket=b, Key="mp.bin")["UploadId"]
        e2 = s3.upload_part(Bucket=b, Key="mp.bin", UploadId=up, PartNumber=2, Body=p2)["ETag"]
        e1 = s3.upload_part(Bucket=b, Key="mp.bin", UploadId=up, PartNumber=1, Body=p1)["ETag"]
        listed = [(p["PartNumber"], p["Size"]) for p in s3.list_parts(Bucket=b, Key="mp.bin", UploadId=up)["Parts"]]
        etag = s3.complete_multipart_upload(
            Bucket=b,
            Key="mp.bin",
            UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
        )["ETag"]
        got = s3.get_object(Bucket=b, Key="mp.bin")["Body"].read()
        return {"parts": listed, "etag": etag, **digest(got)}

    step(out, "multipart", multipart)

    # boto3's transfer manager: its own choice of parts, threads and requests.
    big = rnd.randbytes(size * 2 + rnd.randint(1, 5000))
    out["transferWanted"] = digest(big)

    def transfer():
        tc = TransferConfig(multipart_threshold=size, multipart_chunksize=size, max_concurrency=2)
        s3.upload_fileobj(io.BytesIO(big), b, "tm.bin", Config=tc)
        sink = io.BytesIO()
        s3.download_fileobj(b, "tm.bin", sink, Config=tc)
        return digest(sink.getvalue())

    step(out, "transfer", transfer)

    # Versioning: two versions, a delete marker, the first version still readable by its id.
    def versioning():
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        v1 = s3.put_object(Bucket=b, Key="v", Body=b"one")["VersionId"]
        s3.put_object(Bucket=b, Key="v", Body=b"two")
        d = s3.delete_object(Bucket=b, Key="v")
        try:
            s3.get_object(Bucket=b, Key="v")
            after = {"status": 200}
        except ClientError as e:
            after = err(e)
        old = s3.get_object(Bucket=b, Key="v", VersionId=v1)["Body"].read().decode()
        vs = s3.list_object_versions(Bucket=b, Prefix="v")
        return {
            "markerHeader": d.get("DeleteMarker"),
            "getAfterDelete": after,
            "firstVersion": old,
            "versions": len(vs.get("Versions", [])),
            "markers": len(vs.get("DeleteMarkers", [])),
        }

    step(out, "versioning", versioning)

    def cleanup():
        vs = s3.list_object_versions(Bucket=b)
        for v in vs.get("Versions", []) + vs.get("DeleteMarkers", []):
            s3.delete_object(Bucket=b, Key=v["Key"], VersionId=v["VersionId"])
        return s3.delete_bucket(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"]

    step(out, "deleteBucket", cleanup)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
